"""Helpers shared by the benchmark scripts: paths, offline environment, percentiles,
tables, the machine line, and a private index of knowledge/ in a temporary folder.

Benchmarks are scripts, not tests: each prints its tables and exits. Everything they
write goes under a temporary folder that is removed at the end.
"""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false", "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1",
}
for _name, _value in OFFLINE_ENV.items():
    os.environ.setdefault(_name, _value)

KNOWLEDGE = ROOT / "knowledge"
EVAL_CASES = ROOT / "eval" / "questions.yaml"
PYTHON = ROOT / ".venv" / "bin" / "python"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: offline, without anyone's ACCESSBOT_/tokens."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ACCESSBOT_", "SLACK_", "DISCORD_", "OPENAI_", "ANTHROPIC_"))}
    env.update(OFFLINE_ENV)
    env.update(extra)
    return env


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A Markdown pipe table: readable in the terminal, pasteable into the README."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(header)]
    print(f"\n### {title}\n")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    sys.stdout.flush()


def note(text: str) -> None:
    print(f"\n{text}", flush=True)


def machine() -> str:
    """One line naming the machine the figures came from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "? GiB"
    import torch

    return (f"{cpu}, {os.cpu_count()} cores, {memory} RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads)")


def load_avg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def eval_cases() -> list:
    from bot.evaluation import load_cases

    return load_cases(EVAL_CASES)


def eval_questions() -> list[str]:
    """The eval set's single-turn questions (the warm-latency workload)."""
    return [c.question for c in eval_cases() if not c.history]


def kb_settings(data_dir: Path, **overrides: object):
    from bot.settings import load_settings

    return load_settings(data_dir=data_dir, **overrides)


def embeddings():
    from bot.embeddings import AccessBotEmbeddings

    return AccessBotEmbeddings()


def build_kb_index(data_dir: Path, model=None):
    """Ingest knowledge/ into a fresh index under data_dir; (settings, embeddings, report)."""
    from ingest.pipeline import run_ingest

    settings = kb_settings(data_dir)
    model = model or embeddings()
    report = run_ingest([KNOWLEDGE], settings, model)
    if report.errors:
        raise SystemExit(f"ingest of knowledge/ failed: {report.errors}")
    return settings, model, report


class Timer:
    """with Timer() as t: ...; t.seconds"""

    def __enter__(self) -> "Timer":
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
