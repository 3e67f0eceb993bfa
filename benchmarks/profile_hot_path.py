"""Profile the warm answer path (extractive) with pyinstrument and list the top entries.

Answers every single-turn eval question a few rounds over a private index of knowledge/
under pyinstrument's sampling profiler, then prints the functions with the most time of
their own (library and ours), and the most inclusive time spent in our code (bot/,
ingest/). pyinstrument is in the `bench` extra: pip install -e '.[bench]'.

    .venv/bin/python benchmarks/profile_hot_path.py [--rounds 3] [--html FILE]
"""
from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from pathlib import Path

from common import ROOT, build_kb_index, eval_questions, note, table

OURS = (str(ROOT / "bot"), str(ROOT / "ingest"))


def _where(frame) -> str:
    path = frame.file_path or ""
    if path.startswith(str(ROOT)):
        path = path[len(str(ROOT)) + 1:]
    elif "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    return f"{frame.function} ({path}:{frame.line_no})" if path else frame.function


def aggregate(root) -> tuple[dict[str, float], dict[str, float], float]:
    """(self time per function, inclusive time per function of ours, total)."""
    own: dict[str, float] = defaultdict(float)
    ours: dict[str, float] = defaultdict(float)

    def walk(frame, ours_on_stack: frozenset[str]) -> None:
        if frame.is_synthetic:  # pyinstrument's "[self]" leaves: counted by their parent
            return
        key = _where(frame)
        own[key] += frame.total_self_time
        is_ours = (frame.file_path or "").startswith(OURS)
        if is_ours and key not in ours_on_stack:  # count recursion once
            ours[key] += frame.time
            ours_on_stack = ours_on_stack | {key}
        for child in frame.children:
            walk(child, ours_on_stack)

    walk(root, frozenset())
    return own, ours, root.time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    args = parser.parse_args()
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("pyinstrument is missing: .venv/bin/pip install -e '.[bench]'") from None
    from bot.advisor import Advisor, Question

    with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
        settings, model, _ = build_kb_index(Path(tmp) / "data")
        advisor = Advisor(settings, model)
        questions = eval_questions()
        for text in questions[:5]:
            advisor.answer(Question(text))
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.rounds):
            for text in questions:
                advisor.answer(Question(text))
        session = profiler.stop()
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    own, ours, total = aggregate(session.root_frame())
    answers = args.rounds * len(questions)
    table(f"Hot path profile: top {args.top} by own time ({answers} warm answers, "
          f"{total:.1f} s sampled)", ["function (file:line)", "own s", "share", "ms/answer"],
          [[name, f"{sec:.2f}", f"{sec / total:.0%}", f"{sec / answers * 1000:.2f}"]
           for name, sec in sorted(own.items(), key=lambda kv: -kv[1])[:args.top]])
    table(f"Hot path profile: our code (bot/, ingest/), top {args.top} by inclusive time",
          ["function (file:line)", "incl. s", "share", "ms/answer"],
          [[name, f"{sec:.2f}", f"{sec / total:.0%}", f"{sec / answers * 1000:.2f}"]
           for name, sec in sorted(ours.items(), key=lambda kv: -kv[1])[:args.top]])
    note("own time = samples in that function itself; torch's kernels show as the frames "
         "that call into C (e.g. torch.nn.functional.linear)")


if __name__ == "__main__":
    main()
