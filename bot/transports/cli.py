"""The terminal transport: `accessbot ask` and `accessbot chat`."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.advisor import Advisor, Answer, Question, QuestionError, Turn
from bot.advisor.compose import render_sources

MAX_HISTORY = 6


def render(answer: Answer) -> str:
    """Answer text followed by its numbered sources."""
    if not answer.citations:
        return answer.text
    return f"{answer.text}\n\n{render_sources(answer)}"


def ask(advisor: Advisor, text: str, as_json: bool, out: TextIO = sys.stdout) -> int:
    try:
        answer = advisor.answer(Question(text=text))
    except QuestionError as exc:
        print(f"accessbot: {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False), file=out)
    else:
        print(render(answer), file=out)
    return 0


def batch(advisor: Advisor, lines: Iterable[str], out: TextIO = sys.stdout) -> int:
    """One JSON object per non-blank input line; a bad line gets an 'error' object."""
    failures = 0
    for line in lines:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        try:
            result = advisor.answer(Question(text=text)).to_dict()
        except QuestionError as exc:
            failures += 1
            result = {"question": text[:200], "error": str(exc)}
        print(json.dumps(result, ensure_ascii=False), file=out, flush=True)
    return 1 if failures else 0


def chat(advisor: Advisor, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """A conversation: each follow-up is read together with the turns before it."""
    interactive = stdin.isatty()
    print("AccessBot: ask which model-access route or program fits your research. "
          "Empty line or Ctrl-D to quit.", file=out)
    history: list[Turn] = []
    while True:
        if interactive:
            out.write("\nyou> ")
            out.flush()
        line = stdin.readline()
        if not line or not line.strip() or line.strip().lower() in {"exit", "quit", ":q"}:
            print("Bye.", file=out)
            return 0
        try:
            answer = advisor.answer(Question(text=line.strip(), history=tuple(history)))
        except QuestionError as exc:
            print(f"accessbot> {exc}", file=out)
            continue
        print(f"accessbot> {render(answer)}", file=out, flush=True)
        history = (history + [Turn(line.strip(), answer.text)])[-MAX_HISTORY:]
