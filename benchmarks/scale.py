"""Scale: incremental ingest and query latency/memory on corpora of 1k, 10k and 100k chunks.

Each corpus is knowledge/ (real cards, real embeddings) plus generated Markdown posts
(benchmarks/synthetic.py), loaded as index version 1 with cheap embeddings for the
generated chunks, since embedding 100k chunks with the real model would take about an
hour here. Then, per corpus:

- queries: a fresh child process opens the index through the real Advisor/Snapshot path,
  answers the single-turn eval questions (the query embedding is the real model's) and
  reports p50/p95, how long the snapshot took to load, and its peak RSS;
- incremental ingest: one generated post is edited and `run_ingest` runs over the whole
  corpus (the real pipeline, real embedding of the changed chunks); then an unchanged
  re-run. Both are split by pipeline stage.

    .venv/bin/python benchmarks/scale.py [--sizes 1000,10000,100000] [--query-sizes 10000,100000]
"""
from __future__ import annotations

import argparse
import functools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (PYTHON, Timer, clean_env, embeddings, eval_questions, kb_settings, median,
                    ms, note, percentile, table)

RSS_TARGET_MB = 1200
INCREMENTAL_TARGET = 2.0
STAGES = {  # ingest.pipeline function -> what it does
    "_recover": "recover (x2)", "_live_docs": "read live metadata", "_load_all": "read+parse files",
    "_plan": "hash+chunk plan", "_write": "embed+write", "_tombstone": "tombstone",
    "_publish": "publish",
}


# ----------------------------------------------------------------- the query child process
def query_worker(data_dir: Path, rounds: int, questions: int) -> None:
    """Runs in a fresh process: open the index, answer eval questions, report JSON."""
    from bot.advisor import Advisor, Question

    def rss_mb() -> float:
        try:
            import psutil

            return psutil.Process().memory_info().rss / 1024 / 1024
        except ImportError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    settings = kb_settings(data_dir)
    model = embeddings()
    model_rss = rss_mb()
    advisor = Advisor(settings, model)
    with Timer() as load:
        chunks = len(advisor.snapshot.chunks)
    snapshot_rss = rss_mb()
    asked = eval_questions()[:questions]
    for text in asked[:3]:
        advisor.answer(Question(text))
    took, stages = [], {"embed": [], "dense": [], "lexical": [], "other": []}
    for _ in range(rounds):
        for text in asked:
            timings: dict[str, float] = {}
            with Timer() as t:
                advisor.answer(Question(text), timings=timings)
            took.append(t.seconds)
            timings["other"] = t.seconds - sum(timings.values())
            for stage in stages:
                stages[stage].append(timings.get(stage, 0.0))
    print(json.dumps({
        "chunks": chunks, "snapshot_s": load.seconds, "answers": len(took),
        "p50": percentile(took, 50), "p95": percentile(took, 95),
        **{f"{s}_p50": percentile(v, 50) for s, v in stages.items()},
        "model_rss_mb": model_rss, "snapshot_rss_mb": snapshot_rss,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def run_queries(data_dir: Path, rounds: int, questions: int) -> dict:
    """The worker's figures, or {"error": ...} when it failed (the run goes on)."""
    proc = subprocess.run([str(PYTHON), __file__, "--query-worker", str(data_dir),
                           "--rounds", str(rounds), "--questions", str(questions)],
                          capture_output=True, text=True, env=clean_env(), timeout=900)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        print(f"scale: query worker failed:\n{proc.stderr[-1500:]}", file=sys.stderr)
        return {"error": last[-120:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- incremental ingest
class StageClock:
    """Times ingest.pipeline's own stages by wrapping its module functions (bench only)."""

    def __init__(self) -> None:
        import ingest.pipeline as pipeline

        self.pipeline = pipeline
        self.seconds: dict[str, float] = {}
        self.originals = {name: getattr(pipeline, name) for name in STAGES}
        for name, original in self.originals.items():
            setattr(pipeline, name, self._timed(name, original))

    def _timed(self, name, original):
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
        return wrapper

    def run(self, root: Path, settings, model):
        self.seconds = {}
        with Timer() as t:
            report = self.pipeline.run_ingest([root], settings, model)
        if report.errors:
            raise SystemExit(f"ingest errors: {report.errors[:3]}")
        self.seconds["total"] = t.seconds
        return report, dict(self.seconds)

    def close(self) -> None:
        for name, original in self.originals.items():
            setattr(self.pipeline, name, original)


def edit_one_post(root: Path, n: int) -> None:
    """Change one generated post: one more sentence in its third section."""
    posts = sorted((root / "synthetic").glob("post-*.md"))
    path = posts[(n * 7919) % len(posts)]
    text = path.read_text(encoding="utf-8")
    marker = "\n## 3."
    path.write_text(text.replace(marker, f"\nEdited for the benchmark, run {n}.\n{marker}", 1),
                    encoding="utf-8")


def measure_corpus(size: int, work: Path, model, cache: dict, runs: int, query_sizes: set[int],
                   rounds: int, questions: int) -> dict:
    import synthetic

    root = work / f"corpus-{size}"
    settings = kb_settings(work / f"data-{size}")
    with Timer() as gen:
        synthetic.make_corpus(root, max(0, size - 164))
    with Timer() as build:
        chunks = synthetic.bulk_load(root, settings, model, cache)
    print(f"  {chunks} chunks: generated in {gen.seconds:.1f} s, loaded in {build.seconds:.1f} s",
          file=sys.stderr, flush=True)
    result: dict = {"size": size, "chunks": chunks, "build_s": build.seconds}
    if size in query_sizes:
        result["query"] = run_queries(settings.data_dir, rounds, questions)
    clock = StageClock()
    incremental, unchanged = [], []
    try:
        for n in range(runs):
            edit_one_post(root, n)
            report, seconds = clock.run(root, settings, model)
            assert report.updated == 1 and report.chunks_written, report.to_dict()
            incremental.append(seconds)
            report, seconds = clock.run(root, settings, model)
            assert not report.changed, report.to_dict()
            unchanged.append(seconds)
    except Exception as exc:  # report it with the figures we have; the run goes on
        result["ingest_error"] = f"{type(exc).__name__}: {str(exc)[-100:]}"
    finally:
        clock.close()
    result["incremental"], result["unchanged"] = incremental, unchanged
    return result


def _stage_row(label: str, size: int, runs: list[dict[str, float]]) -> list[str]:
    if not runs:
        return [f"{size:,}", label, "failed", *["-"] * len(STAGES)]
    cells = [f"{median(r.get(name, 0.0) for r in runs):.2f}" for name in STAGES]
    return [f"{size:,}", label, f"{median(r['total'] for r in runs):.2f}", *cells]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--query-sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=3, help="incremental ingests per corpus")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of eval questions per query run")
    parser.add_argument("--questions", type=int, default=40, help="eval questions per query run")
    parser.add_argument("--query-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.query_worker:
        return query_worker(args.query_worker, args.rounds, args.questions)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    query_sizes = {int(s) for s in args.query_sizes.split(",") if s}
    model, cache, results = embeddings(), {}, []
    for size in sizes:
        print(f"scale: corpus of {size:,} chunks", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
            results.append(measure_corpus(size, Path(tmp), model, cache, args.runs,
                                          query_sizes, args.rounds, args.questions))
    queried = [r["query"] for r in results if "query" in r]
    if queried:
        table(f"Query latency and memory at scale (a fresh process per corpus, the real "
              f"Advisor/Snapshot path, {args.questions} eval questions x {args.rounds})",
              ["chunks", "p50 ms", "p95 ms", "embed", "dense", "lexical",
               "other (read, routes, compose)", "snapshot load s", "RSS model MB",
               "RSS +index MB", "peak RSS MB"],
              [[f"{q['chunks']:,}", ms(q["p50"]), ms(q["p95"]), ms(q["embed_p50"]),
                ms(q["dense_p50"]), ms(q["lexical_p50"]), ms(q["other_p50"]),
                f"{q['snapshot_s']:.1f}", f"{q['model_rss_mb']:.0f}", f"{q['snapshot_rss_mb']:.0f}",
                f"{q['peak_rss_mb']:.0f}"] for q in queried if "error" not in q])
        for r in results:
            if "error" in r.get("query", {}):
                note(f"queries on {r['chunks']:,} chunks FAILED: {r['query']['error']}")
    ingested = [r for r in results if r["incremental"]]
    table(f"Ingest with one changed document, and an unchanged re-run, by corpus size "
          f"(median of {args.runs} runs), seconds",
          ["chunks", "run", "total", *STAGES.values()],
          [row for r in ingested for row in (_stage_row("1 post changed", r["chunks"], r["incremental"]),
                                              _stage_row("unchanged", r["chunks"], r["unchanged"]))])
    lines = [f"bulk load (cheap embeddings, see synthetic.py): "
             + ", ".join(f"{r['chunks']:,} chunks in {r['build_s']:.0f} s" for r in results)]
    lines += [f"ingest on {r['chunks']:,} chunks FAILED: {r['ingest_error']}"
              for r in results if r.get("ingest_error")]
    inc = [median(x["total"] for x in r["incremental"]) for r in ingested]
    if inc:
        flat = max(inc) < INCREMENTAL_TARGET and max(inc) < 2 * min(inc)
        lines.append(f"target: incremental ingest < {INCREMENTAL_TARGET:.0f} s and flat: "
                     f"{'met' if flat else 'NOT met'} ({', '.join(f'{x:.2f}' for x in inc)} s; "
                     f"{max(inc) / min(inc):.1f}x from smallest to largest)")
    largest = max(results, key=lambda r: r["chunks"])
    if "peak_rss_mb" in largest.get("query", {}):
        peak = largest["query"]["peak_rss_mb"]
        lines.append(f"target: peak RSS < {RSS_TARGET_MB} MB at {largest['chunks']:,} chunks: "
                     f"{'met' if peak < RSS_TARGET_MB else 'NOT met'} ({peak:.0f} MB)")
    note("\n".join(lines))


if __name__ == "__main__":
    main()
