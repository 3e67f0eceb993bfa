"""Plain data passed between transports and the advisor. No I/O, no platform types."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str = ""


@dataclass(frozen=True)
class Question:
    text: str
    history: tuple[Turn, ...] = ()  # earlier turns of the same conversation, oldest first
    platform: str = "cli"
    user_id: str = ""


@dataclass(frozen=True)
class Profile:
    """What the question says about the asker. Empty fields mean 'not said'."""

    kinds: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    bottlenecks: tuple[str, ...] = ()
    mentioned: tuple[str, ...] = ()  # card ids named directly (by title or alias)
    providers: tuple[str, ...] = ()  # labs whose models the asker uses (openai, anthropic, ...)

    @property
    def is_empty(self) -> bool:
        return not (self.kinds or self.domains or self.needs or self.regions
                    or self.bottlenecks or self.mentioned or self.providers)


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    doc_id: str
    text: str
    title: str
    heading: str
    source_url: str
    last_verified: str
    kind: str
    confidence: str
    dense: float  # cosine similarity to the query, 0 when only the lexical ranker found it
    score: float  # fused rank score


@dataclass(frozen=True)
class RouteDecision:
    card_id: str
    name: str
    score: float
    why: str
    apply: str
    fits: bool  # False: considered and ruled out (why says why)
    status: str = ""


@dataclass
class Citation:
    n: int
    title: str
    source: str
    quote: str
    last_verified: str
    card_id: str = ""
    stale: bool = False
    text: str = ""  # the whole passage, for the LLM; not part of the JSON output


@dataclass
class Answer:
    question: str
    text: str
    grounded: bool
    routes: list[RouteDecision] = field(default_factory=list)
    ruled_out: list[RouteDecision] = field(default_factory=list)
    bottlenecks: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    clarifying: bool = False
    mode: str = "extractive"  # or "llm" when a checked LLM answer replaced the text
    profile: Profile = field(default_factory=Profile)  # the situation read from the question
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])  # links feedback to the log

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "grounded": self.grounded,
            "routes": [{"id": r.card_id, "name": r.name, "why": r.why, "apply": r.apply}
                       for r in self.routes],
            "bottlenecks": list(self.bottlenecks),
            "citations": [
                {"n": c.n, "title": c.title, "source": c.source, "quote": c.quote,
                 "last_verified": c.last_verified}
                for c in self.citations
            ],
        }

    def as_json_dict(self) -> dict[str, Any]:
        """to_dict plus the extra fields scripts may want (ruled-out routes, staleness)."""
        data = self.to_dict()
        data["clarifying"] = self.clarifying
        data["mode"] = self.mode
        data["ruled_out"] = [{"id": r.card_id, "name": r.name, "why": r.why}
                             for r in self.ruled_out]
        for out, cite in zip(data["citations"], self.citations):
            out["card_id"], out["stale"] = cite.card_id, cite.stale
        return data
