"""Knowledge cards as typed data: the front-matter schema and its vocabularies.

`ingest/` validates every card with `card_from_front_matter`; the advisor rebuilds the
same `Card` from the JSON stored in the index. knowledge/README.md documents the format.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("program", "policy", "bottleneck", "post", "concept")
CONFIDENCE = ("high", "medium", "low")
STATUSES = ("open", "invite-only", "rolling", "winding-down", "closed", "unavailable")
ASKER_KINDS = (
    "academic", "independent", "nonprofit", "evaluator", "company", "government", "journalist",
)
DOMAINS = ("cyber", "bio", "ai-rnd", "interpretability", "alignment", "policy")
ACCESS_KINDS = (
    "credits", "rate-limits", "fine-tuning", "internals", "prefill", "fewer-safeguards",
    "pre-deployment", "unreleased", "retired-models", "open-weights", "compute",
)
REGIONS = ("eu", "us", "uk")
# The five mechanisms of the access gap, in the seed post author's order of severity.
BOTTLENECKS = ("non-release", "deployment-lag", "safeguards", "costs-rate-limits", "elicitation")

REQUIRED = ("id", "kind", "title", "source_url", "last_verified", "confidence")
_LIST_FIELDS = {
    "eligible": ASKER_KINDS + ("any",),
    "domains": DOMAINS + ("any",),
    "grants": ACCESS_KINDS,
    "addresses": BOTTLENECKS,
    "regions": REGIONS + ("any",),
}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,80}$")
CLOSED_STATUSES = ("closed", "unavailable")


class CardError(ValueError):
    """A card's front matter breaks the schema; the message lists every problem."""


@dataclass(frozen=True)
class Card:
    id: str
    kind: str
    title: str
    source_url: str
    last_verified: str
    confidence: str
    provider: str = ""
    summary: str = ""
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    status: str = ""
    status_note: str = ""
    eligible: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    eligibility: str = ""
    access: str = ""
    apply: str = ""
    alternative: tuple[str, ...] = ()
    rank: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_route(self) -> bool:
        """Programs, and policies that open a route, are what the route decision picks from."""
        return self.kind == "program" or (self.kind == "policy" and bool(self.grants))

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def verified_on(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.last_verified)
        except ValueError:
            return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)

    @staticmethod
    def from_json(text: str) -> "Card":
        data = json.loads(text)
        for name in ("aliases", "related", "eligible", "domains", "grants", "addresses",
                     "regions", "alternative"):
            data[name] = tuple(data.get(name) or ())
        return Card(**data)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    raise TypeError


def card_from_front_matter(meta: dict[str, Any]) -> Card:
    """Validate front matter and build a Card; CardError names every bad field at once."""
    problems: list[str] = []
    for name in REQUIRED:
        if meta.get(name) in (None, ""):
            problems.append(f"missing required field '{name}'")
    card_id = str(meta.get("id", ""))
    if card_id and not _ID_RE.match(card_id):
        problems.append(f"id {card_id!r} must be lowercase letters, digits and dashes")
    kind = meta.get("kind")
    if kind and kind not in KINDS:
        problems.append(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    confidence = meta.get("confidence")
    if confidence and confidence not in CONFIDENCE:
        problems.append(f"confidence {confidence!r} is not one of {', '.join(CONFIDENCE)}")
    verified = meta.get("last_verified")
    if verified and not isinstance(verified, dt.date):
        try:
            dt.date.fromisoformat(str(verified))
        except ValueError:
            problems.append(f"last_verified {verified!r} is not a YYYY-MM-DD date")
    status = meta.get("status")
    if status and status not in STATUSES:
        problems.append(f"status {status!r} is not one of {', '.join(STATUSES)}")
    lists: dict[str, tuple[str, ...]] = {}
    for name, allowed in _LIST_FIELDS.items():
        try:
            values = _as_list(meta.get(name))
        except TypeError:
            problems.append(f"'{name}' must be a list")
            continue
        unknown = [v for v in values if v not in allowed]
        if unknown:
            problems.append(f"'{name}' has unknown value(s) {', '.join(unknown)}")
        lists[name] = tuple(values)
    if kind == "program":
        for name in ("status", "eligible", "grants", "apply"):
            if not meta.get(name):
                problems.append(f"program cards need '{name}'")
    if problems:
        raise CardError("; ".join(problems))
    known = {f for f in Card.__dataclass_fields__ if f != "extra"}
    extra = {k: v for k, v in meta.items() if k not in known}
    return Card(
        id=card_id,
        kind=str(kind),
        title=str(meta["title"]).strip(),
        source_url=str(meta["source_url"]).strip(),
        last_verified=str(verified),
        confidence=str(confidence),
        provider=str(meta.get("provider") or ""),
        summary=str(meta.get("summary") or "").strip(),
        aliases=tuple(_as_list(meta.get("aliases"))),
        related=tuple(_as_list(meta.get("related"))),
        status=str(status or ""),
        status_note=str(meta.get("status_note") or "").strip(),
        eligibility=str(meta.get("eligibility") or "").strip(),
        access=str(meta.get("access") or "").strip(),
        apply=str(meta.get("apply") or "").strip(),
        alternative=tuple(_as_list(meta.get("alternative"))),
        rank=int(meta.get("rank") or 0),
        extra=json.loads(json.dumps(extra, default=str)),
        **lists,
    )
