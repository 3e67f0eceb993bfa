"""Warm `ask` latency in extractive mode, split by stage. A script, not a test.

Builds a private index of knowledge/ in a temporary folder, loads the model once, then
answers every eval question (or a built-in list) several times and prints p50/p95/p99.

    .venv/bin/python benchmarks/ask_latency.py [--rounds 5]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FALLBACK = [
    "Fable's cyber safeguards keep refusing our AI control experiments, is there a way around that?",
    "We're an academic interp lab and need activations from a 70B model",
    "Can we still fine-tune OpenAI models for our evals?",
    "How do third-party evaluators get helpful-only access under the EU code of practice?",
    "API costs are eating our small nonprofit's budget, any credit programs?",
    "What's a good banana bread recipe?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def questions() -> list[str]:
    path = ROOT / "eval" / "questions.yaml"
    if path.exists():
        from bot.evaluation import load_cases

        return [c.question for c in load_cases(path) if not c.history]
    return FALLBACK


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from bot.advisor import Advisor, Question
    from bot.embeddings import AccessBotEmbeddings
    from bot.settings import load_settings
    from ingest.pipeline import run_ingest

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp))
        embeddings = AccessBotEmbeddings(settings.embedding_model)
        run_ingest([settings.knowledge_path], settings, embeddings)
        advisor = Advisor(settings, embeddings)
        asked = questions()
        advisor.answer(Question(asked[0]))  # warm-up: snapshot, BM25, first inference
        totals: list[float] = []
        stages: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for text in asked:
                timings: dict[str, float] = {}
                start = time.perf_counter()
                advisor.answer(Question(text), timings=timings)
                totals.append(time.perf_counter() - start)
                for stage, seconds in timings.items():
                    stages.setdefault(stage, []).append(seconds)
        chunks = len(advisor.snapshot.chunks)
    ms = lambda s: f"{s * 1000:7.1f}"  # noqa: E731
    print(f"warm ask latency, extractive mode: {len(totals)} answers, {len(asked)} questions x "
          f"{args.rounds} rounds, {chunks} chunks")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'':10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    print(f"{'total':10}{ms(percentile(totals, 50))}  {ms(percentile(totals, 95))}  "
          f"{ms(percentile(totals, 99))}")
    for stage in ("embed", "dense", "lexical", "routes", "compose"):
        if stage in stages:
            v = stages[stage]
            print(f"{stage:10}{ms(percentile(v, 50))}  {ms(percentile(v, 95))}  {ms(percentile(v, 99))}")
    print(f"mean total {statistics.mean(totals) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
