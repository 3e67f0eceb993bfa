"""Maintainer operations shared by the CLI and the chat transports: re-ingest the knowledge
base behind the eval gate, and say what changed for researchers.

One implementation, so `accessbot ingest`, `/accessbot reingest` (Slack) and `/reingest`
(Discord) publish by the same rules and report alike; the transports only turn the result
into a message. Running advisors need no signal: they poll the index version.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chromadb.api.models.Collection import Collection

from bot import messages, store
from bot.cards import Card
from bot.embeddings import AccessBotEmbeddings
from bot.settings import PROJECT_ROOT, Settings, id_set
from ingest.lock import IngestBusy
from ingest.pipeline import Gate, IngestReport, run_ingest

log = logging.getLogger(__name__)

EVAL_CASES = PROJECT_ROOT / "eval" / "questions.yaml"
EVAL_THRESHOLDS = PROJECT_ROOT / "eval" / "thresholds.yaml"
# What researchers act on: a program or policy opening, closing, or changing its terms.
WATCHED_KINDS = ("program", "policy")
WATCHED_FIELDS = ("status", "status_note", "eligibility", "access", "apply", "last_verified")
SHORT_FIELDS = ("status", "last_verified")  # shown as before -> after; the rest as new text
FIELD_CHARS = 200
MAX_CHANGES = 20
MAX_LINES = 10  # gate failures and unreadable documents listed in a chat reply


def is_admin(settings: Settings, platform: str, user_id: str) -> bool:
    """Whether a chat user may run maintainer commands: listed as `platform:id`."""
    return bool(user_id) and f"{platform}:{user_id}" in id_set(settings.admin_user_ids)


def gate_for(paths: Iterable[Path], settings: Settings,
             embeddings: AccessBotEmbeddings) -> Gate | None:
    """The eval gate applies when the curated knowledge base itself is being ingested."""
    from bot import evaluation  # imports the advisor; only needed when a gate is built

    knowledge = settings.knowledge_path.resolve()
    if not EVAL_CASES.exists() or not any(Path(p).resolve() == knowledge for p in paths):
        return None
    return evaluation.ingest_gate(settings, embeddings, EVAL_CASES, EVAL_THRESHOLDS)


def cards_in_version(collection: Collection, version: int) -> dict[str, Card]:
    """The cards (front matter) of one index version, read from each document's first
    chunk only: comparing versions needs no chunk text and no search index."""
    if version <= 0:
        return {}
    where = {"$and": [*store.in_version(version)["$and"], {store.CHUNK_INDEX: 0}]}
    got = store.read_all(collection, where, ["metadatas"])
    return {meta[store.DOC_ID]: Card.from_json(meta[store.CARD_JSON])
            for meta in got["metadatas"] or [] if meta.get(store.CARD_JSON)}


def live_cards(settings: Settings, embeddings: AccessBotEmbeddings) -> dict[str, Card]:
    """The cards researchers are answered from right now; {} before the first ingest."""
    try:
        collection = store.existing_collection(store.open_client(settings), settings, embeddings)
    except store.IndexMissing:
        return {}
    return cards_in_version(collection, store.index_info(collection).version)


@dataclass(frozen=True)
class CardChange:
    """A program or policy card whose facts researchers rely on changed."""

    card_id: str
    title: str
    kind: str  # "added", "removed" or "updated"
    fields: tuple[tuple[str, str, str], ...] = ()  # (field, before, after) when "updated"

    def to_dict(self) -> dict[str, object]:
        """For `accessbot ingest --json`."""
        return {"id": self.card_id, "title": self.title, "change": self.kind,
                "fields": {name: {"before": old, "after": new} for name, old, new in self.fields}}


def _watched(card: Card | None) -> bool:
    return card is not None and card.kind in WATCHED_KINDS


def _moved_fields(old: Card, new: Card) -> tuple[tuple[str, str, str], ...]:
    return tuple((name, str(getattr(old, name)), str(getattr(new, name)))
                 for name in WATCHED_FIELDS if getattr(old, name) != getattr(new, name))


def card_changes(before: Mapping[str, Card], after: Mapping[str, Card]) -> list[CardChange]:
    """Program and policy cards added, removed, or with a new status, date or terms between
    two versions. Other edits (wording, tags, body text) are not news for researchers."""
    changes: list[CardChange] = []
    for card_id in sorted(set(before) | set(after)):
        old, new = before.get(card_id), after.get(card_id)
        if not (_watched(old) or _watched(new)):
            continue
        if old is None:
            changes.append(CardChange(card_id, new.title, "added"))
        elif new is None:
            changes.append(CardChange(card_id, old.title, "removed"))
        elif fields := _moved_fields(old, new):
            changes.append(CardChange(card_id, new.title, "updated", fields))
    return changes


def _clip(text: str, limit: int = FIELD_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _field_text(name: str, before: str, after: str) -> str:
    label = messages.CHANGE_LABELS.get(name, name)
    if name in SHORT_FIELDS:
        return messages.CHANGE_VALUE.format(label=label, before=before or messages.CHANGE_NONE,
                                            after=after or messages.CHANGE_NONE)
    return messages.CHANGE_TEXT.format(label=label, after=_clip(after) or messages.CHANGE_NONE)


def _change_line(change: CardChange) -> str:
    if change.kind == "added":
        return messages.CHANGE_ADDED.format(title=change.title, id=change.card_id)
    if change.kind == "removed":
        return messages.CHANGE_REMOVED.format(title=change.title, id=change.card_id)
    fields = "; ".join(_field_text(*f) for f in change.fields)
    return messages.CHANGE_UPDATED.format(title=change.title, id=change.card_id, fields=fields)


def changes_notice(changes: Sequence[CardChange]) -> str:
    """The short "what changed" notice for researchers' channels; '' when nothing they
    rely on changed (then nothing is posted)."""
    if not changes:
        return ""
    lines = [messages.CHANGES_HEADING] + [_change_line(c) for c in changes[:MAX_CHANGES]]
    if len(changes) > MAX_CHANGES:
        lines.append(messages.CHANGES_MORE.format(count=len(changes) - MAX_CHANGES))
    return "\n".join(lines)


@dataclass(frozen=True)
class Reingest:
    """What an ingest did, and what changed for researchers if it published."""

    report: IngestReport
    changes: list[CardChange]


def reingest(settings: Settings, embeddings: AccessBotEmbeddings,
             paths: Sequence[Path] | None = None, *, force: bool = False, wait: bool = False,
             progress: Callable[[int, int], None] | None = None) -> Reingest:
    """Ingest the knowledge base (or `paths`) behind the eval gate, as `accessbot ingest`
    does. wait=False raises IngestBusy at once if another ingest holds the lock, which is
    what a chat command wants; the CLI waits. The cards are read before and after so the
    change notice compares what researchers saw with what they will see."""
    paths = list(paths or [settings.knowledge_path])
    before = live_cards(settings, embeddings)
    gate = None if force else gate_for(paths, settings, embeddings)
    report = run_ingest(paths, settings, embeddings, progress=progress, gate=gate, wait=wait)
    if not (before and report.published and report.changed):  # a first ingest is no news
        return Reingest(report, [])
    return Reingest(report, card_changes(before, live_cards(settings, embeddings)))


def _bullets(items: Iterable[str]) -> list[str]:
    items = list(items)
    shown = [messages.REINGEST_LINE.format(text=i) for i in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        shown.append(messages.CHANGES_MORE.format(count=len(items) - MAX_LINES))
    return shown


def ingest_summary(result: Reingest) -> str:
    """The reply to the maintainer: counts, whether it published (or the gate refused,
    with why), unreadable documents by path, and the change notice."""
    report = result.report
    lines = [messages.REINGEST_DONE.format(added=report.added, updated=report.updated,
                                           removed=report.removed, unchanged=report.unchanged)]
    if report.gate_failures:
        lines += [messages.REINGEST_REFUSED, *_bullets(report.gate_failures)]
    elif report.published and report.changed:
        lines.append(messages.REINGEST_LIVE.format(version=report.version))
    else:
        lines.append(messages.REINGEST_NOTHING.format(version=report.version))
    if report.errors:
        lines += [messages.REINGEST_ERRORS,
                  *_bullets(f"{e['path']}: {e['error']}" for e in report.errors)]
    notice = changes_notice(result.changes)
    return "\n".join(lines + (["", notice] if notice else []))


def reingest_from_chat(settings: Settings, embeddings: AccessBotEmbeddings) -> tuple[str, str]:
    """(reply for the maintainer, notice for researchers or ''). Never raises: a busy lock
    or a failure becomes a message, and the log gets the traceback."""
    try:
        result = reingest(settings, embeddings, wait=False)
    except IngestBusy:
        return messages.REINGEST_BUSY, ""
    except Exception:
        log.exception(messages.REINGEST_FAILED_LOG)
        return messages.APOLOGY, ""
    return ingest_summary(result), changes_notice(result.changes)
