"""Optional fluent answers from an LLM, grounded in the same passages and route decision.

The extractive answer is always composed first; the LLM only rewrites it. Its output is
checked (citations must point at given passages, routes it names must be decided or
cited), and any failure, timeout or error falls back to the extractive answer with the
reason logged. No LLM configured: this module is never used.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.advisor.types import Answer, Question
from bot.cards import Card
from bot.settings import PROJECT_ROOT, Settings, SettingsError, provider_key

log = logging.getLogger(__name__)
_CITE = re.compile(r"\[(\d{1,3})\]")
PROMPTS = PROJECT_ROOT / "config" / "prompts"


def build_chat_model(settings: Settings) -> Any | None:
    """A LangChain chat model from ACCESSBOT_LLM / ACCESSBOT_LLM_BASE_URL, or None if unset."""
    spec, base_url = settings.llm.strip(), settings.llm_base_url.strip()
    if not spec and not base_url:
        return None
    provider, _, model = spec.partition(":") if ":" in spec else ("openai", "", spec)
    per_call = max(1.0, settings.llm_timeout / 2)
    if base_url or provider == "openai":
        from langchain_openai import ChatOpenAI

        key = provider_key("openai") or ("not-needed" if base_url else "")
        if not key:
            raise SettingsError("ACCESSBOT_LLM uses OpenAI but OPENAI_API_KEY is not set; "
                                "set it, or unset ACCESSBOT_LLM for extractive answers")
        return ChatOpenAI(model=model or "default", base_url=base_url or None, api_key=key,
                          timeout=per_call, max_retries=3, temperature=0.2)
    if provider in ("anthropic", "ollama"):
        package = f"langchain-{provider}"
        try:
            if provider == "anthropic":
                from langchain_anthropic import ChatAnthropic  # type: ignore[import-not-found]

                return ChatAnthropic(model=model, timeout=per_call, max_retries=3)
            from langchain_ollama import ChatOllama  # type: ignore[import-not-found]

            return ChatOllama(model=model)
        except ImportError:
            raise SettingsError(f"ACCESSBOT_LLM={spec!r} needs the {package} package: "
                                f".venv/bin/pip install {package}") from None
    raise SettingsError(f"setting 'llm' (env ACCESSBOT_LLM): unknown provider {provider!r}; "
                        "use openai:MODEL, anthropic:MODEL, ollama:MODEL or ACCESSBOT_LLM_BASE_URL")


@dataclass(frozen=True)
class Checked:
    text: str
    problems: tuple[str, ...]


def check_output(text: str, valid: set[int], cited_cards: dict[int, str],
                 decided: set[str], cards: dict[str, Card]) -> Checked:
    """Drop citations of passages that were not given; reject answers that cite nothing or
    recommend a route that was neither decided nor backed by a cited passage."""
    cleaned = _CITE.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", text)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    problems: list[str] = []
    if not cleaned:
        problems.append("empty answer")
    used = {int(n) for n in _CITE.findall(cleaned)}
    if cleaned and not used:
        problems.append("cites no passage")
    backed = decided | {cited_cards[n] for n in used if n in cited_cards}
    for card in cards.values():
        if card.is_route and card.id not in backed and _names(card, cleaned):
            problems.append(f"names a route that was not decided: {card.id}")
    return Checked(cleaned, tuple(problems))


def _names(card: Card, text: str) -> bool:
    names = [re.sub(r"\s*\(.*?\)", "", card.title), *card.aliases]
    return any(len(n) >= 4 and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text, re.I) for n in names)


def _passages_block(answer: Answer) -> str:
    return "\n".join(
        f'<passage n="{c.n}" title="{c.title}" last_verified="{c.last_verified}">\n'
        f"{c.text or c.quote}\n</passage>" for c in answer.citations)


def _routes_block(answer: Answer) -> str:
    lines = [f"- {r.name} ({r.card_id}): {r.why} How to apply: {r.apply}" for r in answer.routes]
    lines += [f"- ruled out: {r.name}: {r.why}" for r in answer.ruled_out]
    return "\n".join(lines) or "- none fits; answer from the passages"


class LLMWriter:
    """Rewrites the extractive answer with a chat model, within a deadline."""

    def __init__(self, model: Any, timeout: float, prompts: Path = PROMPTS) -> None:
        self.model = model
        self.timeout = timeout
        self.system = (prompts / "answer.md").read_text(encoding="utf-8")
        self.rewrite_system = (prompts / "rewrite.md").read_text(encoding="utf-8")
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="accessbot-llm")

    def _messages(self, question: Question, answer: Answer) -> list[tuple[str, str]]:
        earlier = "\n".join(f"Researcher: {t.question}\nAccessBot: {t.answer[:600]}"
                            for t in question.history[-3:])
        user = (f"<earlier_turns>\n{earlier or '(none)'}\n</earlier_turns>\n"
                f"<question>\n{question.text}\n</question>\n"
                f"<routes_decided>\n{_routes_block(answer)}\n</routes_decided>\n"
                f"<bottlenecks>{', '.join(answer.bottlenecks) or 'none named'}</bottlenecks>\n"
                f"<passages>\n{_passages_block(answer)}\n</passages>")
        return [("system", self.system), ("user", user)]

    def _generate(self, messages: list[tuple[str, str]], deadline: float,
                  on_delta: Callable[[str], None] | None) -> str:
        if on_delta is None:
            return str(self.model.invoke(messages).content)
        text = ""
        for chunk in self.model.stream(messages):
            text += str(chunk.content or "")
            on_delta(text)
            if time.monotonic() > deadline:
                raise TimeoutError("stream passed the deadline")
        return text

    def write(self, question: Question, answer: Answer, cards: dict[str, Card],
              on_delta: Callable[[str], None] | None = None) -> Checked:
        """The checked LLM text; problems non-empty means: use the extractive answer."""
        deadline = time.monotonic() + self.timeout
        future = self._pool.submit(self._generate, self._messages(question, answer), deadline,
                                   on_delta)
        try:
            text = future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            return Checked("", (f"timed out after {self.timeout:g} s",))
        except Exception as exc:  # provider errors of every kind end in the fallback
            return Checked("", (f"{type(exc).__name__}: {str(exc)[:200]}",))
        return check_output(text, {c.n for c in answer.citations},
                            {c.n: c.card_id for c in answer.citations},
                            {r.card_id for r in answer.routes}, cards)

    def rewrite(self, question: Question) -> str | None:
        """A stand-alone version of a follow-up, or None (then the simple rule applies)."""
        turns = "\n".join(f"Researcher: {t.question}" for t in question.history[-3:])
        messages = [("system", self.rewrite_system),
                    ("user", f"{turns}\nResearcher (last message): {question.text}")]
        future = self._pool.submit(lambda: str(self.model.invoke(messages).content))
        try:
            text = future.result(timeout=min(5.0, self.timeout / 2)).strip()
        except Exception as exc:  # includes the timeout
            log.warning("follow-up rewrite failed, using the simple rule: %s", type(exc).__name__)
            return None
        return text if 0 < len(text) <= 1000 else None
