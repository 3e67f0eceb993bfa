"""Cold start: process start to first answer, `accessbot ask` on an existing index.

Each run starts a fresh `accessbot ask` process (the console script) on a private index
of knowledge/ and records when the answer reaches stdout and when the process has exited.
A second table splits one cold start into phases (imports, model load, index snapshot,
first answer, interpreter exit), from a child process that times itself.

Experiment, not product behaviour: the same `accessbot ask` with the garbage collector
paused during start-up and frozen before exit (`gc.disable()` ... `gc.freeze()`), to show
what that would save; see the README's Benchmarks section.

    .venv/bin/python benchmarks/cold_start.py [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from common import (PYTHON, ROOT, build_kb_index, clean_env, eval_questions, median, note,
                    percentile, table)

TARGET = 4.0
ACCESSBOT = ROOT / ".venv" / "bin" / "accessbot"
GC_WRAPPER = (
    "import gc, sys; gc.disable()\n"
    "from bot.cli import main\n"
    "rc = main(sys.argv[1:]); sys.stdout.flush(); gc.freeze(); sys.exit(rc)\n"
)

PHASES = r"""
import json, sys, time
started = time.perf_counter()
marks = {}
def lap(name, last=[started]):
    now = time.perf_counter(); marks[name] = now - last[0]; last[0] = now
import torch; lap("import torch")
import transformers; lap("import transformers")
import sklearn.metrics; lap("import scikit-learn (pulled in by sentence-transformers)")
import sentence_transformers; lap("import sentence_transformers (the rest)")
import chromadb; lap("import chromadb")
import bm25s, Stemmer; lap("import bm25s + PyStemmer")
from bot.cli import _quiet_libraries; _quiet_libraries()
from bot.settings import load_settings
from bot.advisor import Advisor, Question; lap("import bot (settings, advisor)")
settings = load_settings()
advisor = Advisor.from_settings(settings); lap("load the embedding model (+ question log)")
advisor.snapshot; lap("open Chroma, read the snapshot, index BM25")
advisor.answer(Question(sys.argv[1])); lap("first answer")
print(json.dumps(marks), flush=True)
print(time.time(), flush=True)
"""


def timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the first line on stdout, seconds to exit)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=ROOT, text=True)
    try:
        first = proc.stdout.readline()
        answered = time.perf_counter() - started
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    exited = time.perf_counter() - started
    if proc.returncode != 0 or not first.strip():
        raise SystemExit(f"{argv[:3]} failed ({proc.returncode}): {err[-500:]}")
    return answered, exited


def phases(env: dict[str, str], question: str) -> dict[str, float]:
    proc = subprocess.run([str(PYTHON), "-c", PHASES, question], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    ended = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"phase run failed: {proc.stderr[-800:]}")
    marks_line, printed_at = proc.stdout.strip().splitlines()[-2:]
    marks = json.loads(marks_line)
    marks["interpreter exit (module teardown)"] = ended - float(printed_at)
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    questions = eval_questions()
    with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
        data = Path(tmp) / "data"
        build_kb_index(data)
        env = clean_env(ACCESSBOT_DATA_DIR=str(data))
        variants = {
            "accessbot ask (as shipped)": lambda q: [str(ACCESSBOT), "ask", q],
            "experiment: gc paused, frozen at exit": lambda q: [str(PYTHON), "-c", GC_WRAPPER, "ask", q],
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        timed_run(variants["accessbot ask (as shipped)"](questions[0]), env)  # page cache warm
        for i in range(args.runs):
            for name, argv in variants.items():  # interleaved, so load noise hits both
                results[name].append(timed_run(argv(questions[i % len(questions)]), env))
        split = [phases(env, questions[i]) for i in range(3)]

    rows = []
    for name, runs in results.items():
        answered, exited = [r[0] for r in runs], [r[1] for r in runs]
        rows.append([name, f"{median(answered):.2f}", f"{min(answered):.2f}-{max(answered):.2f}",
                     f"{median(exited):.2f}", f"{percentile(exited, 100):.2f}"])
    table(f"Cold start, `accessbot ask` on an existing index ({args.runs} runs each), seconds",
          ["process", "to answer (median)", "to answer (range)", "to exit (median)", "to exit (max)"],
          rows)
    names = list(split[0])
    table("One cold start split into phases (median of 3 runs), seconds",
          ["phase", "seconds"],
          [[n, f"{median(s[n] for s in split):.3f}"] for n in names]
          + [["total", f"{median(sum(s.values()) for s in split):.2f}"]])
    shipped = median(r[0] for r in results["accessbot ask (as shipped)"])
    shipped_exit = median(r[1] for r in results["accessbot ask (as shipped)"])
    note(f"target: first answer in < {TARGET:.0f} s: {'met' if shipped < TARGET else 'NOT met'} "
         f"({shipped:.2f} s to the answer, {shipped_exit:.2f} s until the process has exited)")


if __name__ == "__main__":
    main()
