"""The question log: what researchers asked about, what they were offered, how it landed.

Maintainers need to see which bottlenecks and routes people are blocked on and where the
knowledge base falls short, without keeping who asked. So every answered question becomes
one row of facts (situation, bottlenecks, routes, cited cards, declined or not) with the
user id as a salted hash, in the feedback database so a Helpful / Not helpful click joins
its question through the answer id and both tables share one salt.

Question text is personal and often identifying, so it is kept only as `keep_question_text`
allows: "never"; "gaps" (the default) keeps it for declined answers, and provisionally for
answers that could still be voted Not helpful - that text goes as soon as a purge sees a
Helpful vote or FEEDBACK_WINDOW passes without a Not helpful one; "always" keeps all. Any
text goes after `question_retention_days`. Purges run when a log opens, hourly while it
records, and so on every `accessbot report`. Deleted bytes are overwritten (secure_delete).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.advisor.types import Answer, Question
from bot.feedback import hash_user, prepare
from bot.settings import Settings

log = logging.getLogger(__name__)

FEEDBACK_WINDOW = dt.timedelta(days=7)  # how long an answer's text waits for a vote
PURGE_EVERY = dt.timedelta(hours=1)
NO_FEEDBACK_PLATFORMS = frozenset({"cli"})  # no buttons there: nothing to wait for
_MENTION = re.compile(r"<[@#!][^>\s]*>")  # Slack <@U123|name>, Discord <@123>, <#C1>, <!here>
_LISTS = ("kinds", "domains", "needs", "regions", "bottlenecks", "routes", "cited",
          "stale_cited")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    platform TEXT NOT NULL,
    user_hash TEXT NOT NULL DEFAULT '',
    kinds TEXT NOT NULL DEFAULT '[]',
    domains TEXT NOT NULL DEFAULT '[]',
    needs TEXT NOT NULL DEFAULT '[]',
    regions TEXT NOT NULL DEFAULT '[]',
    bottlenecks TEXT NOT NULL DEFAULT '[]',
    routes TEXT NOT NULL DEFAULT '[]',
    cited TEXT NOT NULL DEFAULT '[]',
    stale_cited TEXT NOT NULL DEFAULT '[]',
    grounded INTEGER NOT NULL,
    clarifying INTEGER NOT NULL DEFAULT 0,
    mode TEXT NOT NULL DEFAULT 'extractive',
    text TEXT,
    text_kept TEXT
);
CREATE INDEX IF NOT EXISTS questions_at ON questions (at);
CREATE INDEX IF NOT EXISTS questions_user ON questions (user_hash);
CREATE TABLE IF NOT EXISTS cards (
    card_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    last_verified TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
"""
# A vote belongs to a question through its answer_id; votes stored before transports passed
# one used the answer id as the message_ref, so that counts too.
_LINKED = ("(f.answer_id = q.answer_id OR (f.answer_id = '' AND f.message_ref = q.answer_id))")
_VOTES = f"(SELECT COUNT(*) FROM feedback f WHERE {_LINKED} AND f.helpful = ?)"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def stamp(moment: dt.datetime) -> str:
    """The one timestamp format in the database (as FeedbackStore writes it), so text
    comparison orders times."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def scrub(text: str, user_id: str = "") -> str:
    """Question text minus platform mentions and the asker's own id, so kept text never
    carries a raw user id."""
    text = _MENTION.sub("@someone", text)
    if len(user_id) >= 4:
        text = text.replace(user_id, "@someone")
    return text


def text_to_keep(policy: str, question: Question, answer: Answer) -> tuple[str | None, str | None]:
    """(text, why it is kept) at answer time; (None, None) when the policy drops it."""
    if policy == "never":
        return None, None
    text = scrub(question.text.strip(), question.user_id)
    if not answer.grounded:
        return text, "declined"
    if policy == "always":
        return text, "answered"
    if question.platform in NO_FEEDBACK_PLATFORMS:
        return None, None
    return text, "pending"


def split_user(value: str) -> tuple[str, str]:
    """'slack:U123' -> ('slack', 'U123'); ValueError names the expected form."""
    platform, sep, user_id = value.partition(":")
    if not sep or not platform or not user_id:
        raise ValueError(f"expected PLATFORM:USER_ID, e.g. slack:U123, got {value!r}")
    return platform, user_id


@dataclass(frozen=True)
class Entry:
    """One logged question with its votes, as the report reads it."""

    answer_id: str
    at: dt.datetime
    platform: str
    user_hash: str
    kinds: tuple[str, ...]
    domains: tuple[str, ...]
    needs: tuple[str, ...]
    regions: tuple[str, ...]
    bottlenecks: tuple[str, ...]
    routes: tuple[str, ...]
    cited: tuple[str, ...]
    stale_cited: tuple[str, ...]
    grounded: bool
    clarifying: bool
    text: str | None
    helpful: int
    not_helpful: int

    @property
    def gap(self) -> str:
        """'declined', 'not helpful' or '' - why maintainers should look at this one."""
        if not self.grounded:
            return "declined"
        return "not helpful" if self.not_helpful else ""


@dataclass(frozen=True)
class CardSeen:
    """A cited card's title and verification date as of the latest answer citing it."""

    card_id: str
    title: str
    last_verified: str


class QuestionLog:
    def __init__(self, path: Path, keep_text: str = "gaps", retention_days: int = 90,
                 now: Callable[[], dt.datetime] = utc_now) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.keep_text = keep_text
        self.retention = dt.timedelta(days=retention_days)
        self._now = now
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA secure_delete = ON")  # forgotten text leaves no bytes behind
        self._salt = prepare(self._db)
        with self._db:
            self._db.executescript(_SCHEMA)
        self._purged_at = self._now()
        self.purge()

    def user_hash(self, platform: str, user_id: str) -> str:
        return hash_user(self._salt, platform, user_id) if user_id else ""

    def record(self, question: Question, answer: Answer) -> None:
        """The Advisor's on_answer hook: one row per answer, never the raw user id."""
        now = self._now()
        text, why = text_to_keep(self.keep_text, question, answer)
        profile = answer.profile
        lists = {
            "kinds": profile.kinds, "domains": profile.domains, "needs": profile.needs,
            "regions": profile.regions, "bottlenecks": answer.bottlenecks,
            "routes": [r.card_id for r in answer.routes],
            "cited": list(dict.fromkeys(c.card_id for c in answer.citations if c.card_id)),
            "stale_cited": list(dict.fromkeys(c.card_id for c in answer.citations
                                              if c.card_id and c.stale)),
        }
        row = {"answer_id": answer.id, "at": stamp(now), "platform": question.platform,
               "user_hash": self.user_hash(question.platform, question.user_id),
               **{k: json.dumps(list(v)) for k, v in lists.items()},
               "grounded": int(answer.grounded), "clarifying": int(answer.clarifying),
               "mode": answer.mode, "text": text, "text_kept": why}
        with self._lock, self._db:
            self._db.execute(f"INSERT OR REPLACE INTO questions ({', '.join(row)}) VALUES "
                             f"({', '.join('?' * len(row))})", tuple(row.values()))
            self._remember_cards(answer, stamp(now))
        if now - self._purged_at >= PURGE_EVERY:
            self._purged_at = now
            self.purge()

    def _remember_cards(self, answer: Answer, seen_at: str) -> None:
        """Titles and verification dates of cited cards, so the report needs no index."""
        for c in answer.citations:
            if c.card_id:
                self._db.execute(
                    "INSERT INTO cards VALUES (?, ?, ?, ?) ON CONFLICT (card_id) DO UPDATE SET "
                    "title = excluded.title, last_verified = excluded.last_verified, "
                    "seen_at = excluded.seen_at WHERE excluded.seen_at >= cards.seen_at",
                    (c.card_id, c.title, c.last_verified, seen_at))

    def purge(self) -> int:
        """Drop question text the policy no longer allows; returns how many texts went."""
        now = self._now()
        with self._lock, self._db:
            dropped = self._drop("at < ?", stamp(now - self.retention))
            if self.keep_text == "never":
                dropped += self._drop("1")
            elif self.keep_text == "gaps":
                dropped += self._resolve_votes(now)
        return dropped

    def _drop(self, where: str, *params: object) -> int:
        return self._db.execute(f"UPDATE questions SET text = NULL, text_kept = NULL "
                                f"WHERE text IS NOT NULL AND {where}", params).rowcount

    def _resolve_votes(self, now: dt.datetime) -> int:
        """Answered questions keep text only while a Not helpful vote (or the wait for
        one) justifies it."""
        waiting = "q.text_kept IN ('pending', 'answered', 'not-helpful')"
        self._db.execute(
            f"UPDATE questions AS q SET text_kept = CASE WHEN {_VOTES} > 0 THEN 'not-helpful' "
            f"ELSE 'pending' END WHERE {waiting}", (0,))
        return self._drop(f"id IN (SELECT q.id FROM questions q WHERE q.text_kept = 'pending' "
                          f"AND ({_VOTES} > 0 OR q.at < ?))", 1, stamp(now - FEEDBACK_WINDOW))

    def entries(self, since: dt.datetime, until: dt.datetime) -> list[Entry]:
        """Questions asked from since to until (to the second), oldest first, with their linked votes."""
        columns = ("answer_id, at, platform, user_hash, " + ", ".join(_LISTS)
                   + ", grounded, clarifying, text")
        with self._lock:
            rows = self._db.execute(
                f"SELECT {columns}, {_VOTES}, {_VOTES} FROM questions q "
                f"WHERE q.at >= ? AND q.at <= ? ORDER BY q.at, q.id",
                (1, 0, stamp(since), stamp(until))).fetchall()
        return [_entry(row) for row in rows]

    def unlinked_votes(self, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
        """(helpful, not helpful) clicks in the period that match no logged question."""
        with self._lock:
            rows = dict(self._db.execute(
                f"SELECT f.helpful, COUNT(*) FROM feedback f WHERE f.at >= ? AND f.at <= ? AND "
                f"NOT EXISTS (SELECT 1 FROM questions q WHERE {_LINKED}) GROUP BY f.helpful",
                (stamp(since), stamp(until))).fetchall())
        return rows.get(1, 0), rows.get(0, 0)

    def cards(self) -> dict[str, CardSeen]:
        with self._lock:
            rows = self._db.execute("SELECT card_id, title, last_verified FROM cards").fetchall()
        return {r[0]: CardSeen(*r) for r in rows}

    def forget(self, platform: str, user_id: str) -> tuple[int, int]:
        """Delete a user's questions and votes; (questions, votes) deleted."""
        user = self.user_hash(platform, user_id)
        with self._lock, self._db:
            questions = self._db.execute("DELETE FROM questions WHERE user_hash = ?", (user,))
            votes = self._db.execute("DELETE FROM feedback WHERE user_hash = ?", (user,))
        return questions.rowcount, votes.rowcount

    def close(self) -> None:
        self._db.close()


def _entry(row: tuple) -> Entry:
    answer_id, at, platform, user_hash, *rest = row
    lists = [tuple(json.loads(v)) for v in rest[: len(_LISTS)]]
    grounded, clarifying, text, helpful, not_helpful = rest[len(_LISTS):]
    return Entry(answer_id, dt.datetime.fromisoformat(at), platform, user_hash, *lists,
                 grounded=bool(grounded), clarifying=bool(clarifying), text=text,
                 helpful=helpful, not_helpful=not_helpful)


def open_log(settings: Settings, now: Callable[[], dt.datetime] = utc_now) -> QuestionLog:
    """The log for these settings, in the feedback database (reports open it even when
    recording is switched off)."""
    return QuestionLog(settings.feedback_db, settings.keep_question_text,
                       settings.question_retention_days, now=now)


def question_log_for(settings: Settings) -> QuestionLog | None:
    """The log the product records into, or None when switched off or unusable: a broken
    log file must not stop the bot from answering."""
    if not settings.question_log:
        return None
    try:
        return open_log(settings)
    except (OSError, sqlite3.Error):
        log.exception("cannot open the question log at %s; questions will not be recorded",
                      settings.feedback_db)
        return None
