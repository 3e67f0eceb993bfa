"""Warm `ask` latency in extractive mode, split by stage. A script, not a test.

Builds a private index of knowledge/ in a temporary folder, loads the model once, then
answers every single-turn eval question several rounds over and prints p50/p95/p99 of the
whole answer and of each stage (Advisor.answer(..., timings=) fills embed, dense,
lexical, routes, compose; "other" is the rest: reading the question, fusion, checks).
The floor is the query embedding alone, measured on the same questions.

    .venv/bin/python benchmarks/ask_latency.py [--rounds 5]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import Timer, build_kb_index, eval_questions, median, ms, note, percentile, table

STAGES = ("embed", "dense", "lexical", "routes", "compose", "other")
TARGET_P50, TARGET_P95 = 0.030, 0.080


def measure(advisor, questions: list[str],
            rounds: int) -> tuple[list[float], dict[str, list[float]], list[float]]:
    """(answer seconds, seconds per stage, p50 of each round)."""
    from bot.advisor import Question

    totals: list[float] = []
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    round_p50: list[float] = []
    for _ in range(rounds):
        this_round = []
        for text in questions:
            timings: dict[str, float] = {}
            started = time.perf_counter()
            advisor.answer(Question(text), timings=timings)
            took = time.perf_counter() - started
            this_round.append(took)
            timings["other"] = max(0.0, took - sum(timings.values()))
            for stage in STAGES:
                stages[stage].append(timings.get(stage, 0.0))
        totals += this_round
        round_p50.append(percentile(this_round, 50))
    return totals, stages, round_p50


def embed_floor(model, questions: list[str], rounds: int) -> list[float]:
    """The query embedding alone: what no answer can beat."""
    took = []
    for _ in range(rounds):
        for text in questions:
            with Timer() as t:
                model.embed_one(text)
            took.append(t.seconds)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from bot.advisor import Advisor, Question

    with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
        settings, model, _ = build_kb_index(Path(tmp) / "data")
        advisor = Advisor(settings, model)
        questions = eval_questions()
        for text in questions[:5]:  # warm-up: snapshot, BM25, first inferences
            advisor.answer(Question(text))
        totals, stages, round_p50 = measure(advisor, questions, args.rounds)
        floor = embed_floor(model, questions, args.rounds)
        chunks = len(advisor.snapshot.chunks)

    rows = [["answer (total)", ms(percentile(totals, 50)), ms(percentile(totals, 95)),
             ms(percentile(totals, 99)), ms(statistics.mean(totals))]]
    for stage in STAGES:
        v = stages[stage]
        rows.append([stage, ms(percentile(v, 50)), ms(percentile(v, 95)), ms(percentile(v, 99)),
                     ms(statistics.mean(v))])
    rows.append(["floor: embed_one alone", ms(percentile(floor, 50)), ms(percentile(floor, 95)),
                 ms(percentile(floor, 99)), ms(statistics.mean(floor))])
    table(f"Warm answer latency, extractive ({len(totals)} answers: {len(questions)} eval "
          f"questions x {args.rounds} rounds, {chunks} chunks), ms",
          ["stage", "p50", "p95", "p99", "mean"], rows)
    p50, p95, f50 = percentile(totals, 50), percentile(totals, 95), percentile(floor, 50)
    note(f"per-round p50: {', '.join(ms(x) for x in round_p50)} ms (median {ms(median(round_p50))})\n"
         f"p50 is {p50 / f50:.2f}x the embedding floor ({ms(p50 - f50)} ms above it); "
         f"embedding is {statistics.mean(stages['embed']) / statistics.mean(totals):.0%} of mean answer time\n"
         f"target p50 < {ms(TARGET_P50)} ms: {'met' if p50 < TARGET_P50 else 'NOT met'}; "
         f"target p95 < {ms(TARGET_P95)} ms: {'met' if p95 < TARGET_P95 else 'NOT met'}")


if __name__ == "__main__":
    main()
