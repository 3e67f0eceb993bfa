"""Compose the extractive answer: routes with reasons and how to apply, the bottleneck,
the key evidence as quotes, and numbered citations. No LLM involved.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from bot import messages
from bot.advisor.routes import BOTTLENECK_LABELS
from bot.advisor.types import Answer, Citation, Passage, RouteDecision
from bot.cards import Card

QUOTE_CHARS = 320
# Cards cite the source post the product grew from as `seed-post`; show it readably.
SOURCE_NAMES = {"seed-post": "the \"model access parity\" post and its discussion thread (2026)"}


def source_label(source: str) -> str:
    return SOURCE_NAMES.get(source, source)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\[])")
_WORD = re.compile(r"[a-z0-9]+")


def body_of(passage: Passage) -> str:
    """Passage text without the 'title — heading' line the chunker put in front."""
    _, _, rest = passage.text.partition("\n\n")
    return (rest or passage.text).strip()


def best_quote(passage: Passage, query: str, limit: int = QUOTE_CHARS) -> str:
    """The one or two sentences of the passage that share most words with the question."""
    text = re.sub(r"\s+", " ", re.sub(r"^[#>*|-]+\s*", "", body_of(passage), flags=re.M))
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    if not sentences:
        return text[:limit]
    asked = {w for w in _WORD.findall(query.lower()) if len(w) > 3}
    scored = sorted(range(len(sentences)),
                    key=lambda i: (-len(asked & set(_WORD.findall(sentences[i].lower()))), i))
    chosen = sorted(scored[:2]) if len(sentences[scored[0]]) < limit // 2 else scored[:1]
    quote = " ".join(sentences[i] for i in chosen)
    return quote if len(quote) <= limit else quote[: limit - 1].rsplit(" ", 1)[0] + "…"


class Citations:
    """Numbers sources in order of first use: one number per card, quoting the first
    passage of it that was cited."""

    def __init__(self, query: str, cards: Mapping[str, Card], today: dt.date, review_days: int):
        self.query, self.cards, self.today, self.review_days = query, cards, today, review_days
        self.items: list[Citation] = []
        self._numbers: dict[str, int] = {}

    def cite(self, passage: Passage) -> int:
        if passage.doc_id in self._numbers:
            return self._numbers[passage.doc_id]
        n = len(self.items) + 1
        self._numbers[passage.doc_id] = n
        card = self.cards.get(passage.doc_id)
        verified = card.verified_on() if card else None
        stale = verified is not None and (self.today - verified).days > self.review_days
        title = passage.title
        page = re.fullmatch(r"Page (\d+)", passage.heading or "")
        if page:  # PDFs are chunked per page: say which page the quote is from
            title = f"{title}, p. {page.group(1)}"
        self.items.append(Citation(
            n=n, title=title, source=source_label(passage.source_url),
            quote=best_quote(passage, self.query), last_verified=passage.last_verified,
            card_id=passage.doc_id, stale=stale, text=body_of(passage),
        ))
        return n

    def has(self, passage: Passage) -> bool:
        return passage.doc_id in self._numbers


def _route_lines(route: RouteDecision, n: int, index: int, card: Card | None) -> list[str]:
    lines = [f"{index}. {route.name} [{n}]"]
    if card is not None and card.summary:
        lines.append(f"   {card.summary}")
    lines.append(f"   {messages.WHY} {route.why}")
    if route.apply:
        lines.append(f"   {messages.HOW_TO_APPLY} {route.apply}")
    return lines


def compose(question: str, routes: list[RouteDecision], ruled_out: list[RouteDecision],
            bottlenecks: list[str], route_passages: Mapping[str, Passage],
            bottleneck_passages: Mapping[str, Passage], evidence: list[Passage],
            citations: Citations, evidence_floor: float = 0.0,
            lead: list[Passage] | None = None,
            ruled_passages: Mapping[str, Passage] | None = None) -> Answer:
    """The extractive answer. `lead` passages (the best match, cards the asker named) are
    always quoted; other evidence only when it clears `evidence_floor`."""
    ruled_passages = ruled_passages or {}
    lines: list[str] = []
    if routes:
        lines.append(messages.ROUTES_HEADING)
        for i, route in enumerate(routes, 1):
            n = citations.cite(route_passages[route.card_id])
            lines.extend(_route_lines(route, n, i, citations.cards.get(route.card_id)))
    elif bottlenecks or ruled_out:
        lines.append(messages.NO_ROUTE)
    if ruled_out:
        lines += ["", messages.RULED_OUT_HEADING]
        for r in ruled_out:
            cited = f" [{citations.cite(ruled_passages[r.card_id])}]" if r.card_id in ruled_passages else ""
            lines.append(f"- {r.name}{cited}: {r.why}")
    if bottlenecks:
        lines += ["", messages.BOTTLENECK_HEADING]
        for b in bottlenecks:
            passage = bottleneck_passages.get(b)
            label = BOTTLENECK_LABELS[b].capitalize()
            if passage is None:
                lines.append(f"- {label}")
                continue
            n = citations.cite(passage)
            card = citations.cards.get(b)
            rank = f" (mechanism {card.rank} of 5 in the access-gap post)" if card and card.rank else ""
            gist = card.summary if card and card.summary else best_quote(passage, question)
            lines.append(f"- {label}{rank}: {gist} [{n}]")
    quoted = _distinct_cards([p for p in (lead or []) + evidence if not citations.has(p)
                              and (p in (lead or []) or p.dense >= evidence_floor)])[:3]
    if quoted:
        lines += ["", messages.EVIDENCE_HEADING] if lines else [messages.EVIDENCE_HEADING]
        for passage in quoted:
            n = citations.cite(passage)
            lines.append(f"- \"{citations.items[n - 1].quote}\" [{n}]")
    stale = [c for c in citations.items if c.stale]
    for cite in stale:
        lines.append(f"Note: [{cite.n}] {messages.STALE_NOTE.format(date=cite.last_verified)}.")
    return renumber(Answer(question=question, text="\n".join(lines).strip(), grounded=True,
                           routes=routes, ruled_out=ruled_out, bottlenecks=bottlenecks,
                           citations=citations.items))


def renumber(answer: Answer) -> Answer:
    """Number citations in order of first appearance in the text and drop unused ones."""
    order: list[int] = []
    for match in re.finditer(r"\[(\d+)\]", answer.text):
        n = int(match.group(1))
        if n not in order and 0 < n <= len(answer.citations):
            order.append(n)
    mapping = {old: new for new, old in enumerate(order, 1)}
    answer.text = re.sub(r"\[(\d+)\]", lambda m: f"[{mapping.get(int(m.group(1)), m.group(1))}]",
                         answer.text)
    cited = []
    for old in order:
        citation = answer.citations[old - 1]
        citation.n = mapping[old]
        cited.append(citation)
    answer.citations = cited
    return answer


def _distinct_cards(passages: list[Passage]) -> list[Passage]:
    seen: set[str] = set()
    return [p for p in passages if not (p.doc_id in seen or seen.add(p.doc_id))]


def decline(question: str) -> Answer:
    return Answer(question=question, text=f"{messages.DECLINE}\n\n{messages.DECLINE_EXAMPLE}",
                  grounded=False)


def clarify(question: str) -> Answer:
    return Answer(question=question, text=messages.CLARIFY, grounded=True, clarifying=True)


def clarify_with_candidates(answer: Answer, candidates: list[tuple[str, RouteDecision]],
                            passages: Mapping[str, Passage], citations: Citations) -> Answer:
    """No route fits for certain, but some would, depending on what the question leaves
    open: name them with their condition, then ask the one clarifying question."""
    lines = [messages.DEPENDS_HEADING]
    for condition, route in candidates:
        n = citations.cite(passages[route.card_id])
        lines.append(f"- {condition[:1].upper()}{condition[1:]}: {route.name} [{n}]")
    rest = answer.text.split("\n", 1)[1].strip() if answer.text.startswith(messages.NO_ROUTE) else answer.text
    text = "\n".join(lines) + ("\n\n" + rest if rest else "") + "\n\n" + messages.CLARIFY
    answer.text, answer.clarifying, answer.citations = text, True, citations.items
    return renumber(answer)


def render_sources(answer: Answer) -> str:
    """The numbered source list, for transports that show plain text."""
    lines = [messages.SOURCES_HEADING]
    for c in answer.citations:
        stale = f"; {messages.STALE_NOTE.format(date=c.last_verified)}" if c.stale else ""
        lines.append(f"[{c.n}] {c.title} — {c.source} (last verified {c.last_verified}{stale})")
    return "\n".join(lines)
