"""`accessbot ingest --check`: which cards need a maintainer's attention.

Reads the documents (not the index), so it also works before the first ingest: stale cards
(not verified within review_age_days), low-confidence ones, and broken ones (bad front
matter, references to card ids that do not exist, a source that is neither a URL nor the
seed post).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bot.cards import Card
from ingest.documents import DocumentError, discover, load_document
from ingest.pipeline import display_path


@dataclass
class CheckReport:
    stale: list[dict[str, str]] = field(default_factory=list)
    low_confidence: list[dict[str, str]] = field(default_factory=list)
    broken: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        return {"stale": self.stale, "low_confidence": self.low_confidence, "broken": self.broken}


def _references(card: Card) -> list[str]:
    return [*card.alternative, *card.related]


def _source_ok(source: str) -> bool:
    return source == "seed-post" or source.startswith(("http://", "https://")) or "/" in source


def check_cards(paths: list[Path], max_bytes: int, review_days: int,
                today: dt.date | None = None) -> CheckReport:
    today = today or dt.date.today()
    report = CheckReport()
    cards: dict[str, tuple[Card, str]] = {}
    for path in discover([p.resolve() for p in paths]):
        rel = display_path(path)
        try:
            card = load_document(path, rel, max_bytes).card
        except DocumentError as exc:
            report.broken.append({"path": rel, "problem": str(exc)})
            continue
        cards[card.id] = (card, rel)
    for card, rel in cards.values():
        verified = card.verified_on()
        if verified and (today - verified).days > review_days:
            report.stale.append({"path": rel, "id": card.id, "last_verified": card.last_verified,
                                 "problem": f"not verified for {(today - verified).days} days"})
        if card.confidence == "low":
            report.low_confidence.append({"path": rel, "id": card.id,
                                          "problem": "confidence: low (unconfirmed facts)"})
        missing = [ref for ref in _references(card) if ref not in cards]
        if missing:
            report.broken.append({"path": rel, "id": card.id,
                                  "problem": f"refers to unknown card id(s) {', '.join(missing)}"})
        if not _source_ok(card.source_url):
            report.broken.append({"path": rel, "id": card.id,
                                  "problem": f"source_url {card.source_url!r} is not a URL"})
    return report
