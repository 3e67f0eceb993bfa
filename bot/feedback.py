"""Helpful / Not helpful clicks from every platform, in one SQLite file.

User ids are stored only as salted hashes; the salt is made once per database and kept in
it, so the same user maps to the same hash without the raw id ever being written. The
question log (bot/records.py) shares this file and its salt, so a click joins its question
through `answer_id` and `accessbot report --forget` finds a user's rows in both tables.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
import threading
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    platform TEXT NOT NULL,
    message_ref TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    cards TEXT NOT NULL DEFAULT '',
    answer_id TEXT NOT NULL DEFAULT '',
    UNIQUE (platform, message_ref, user_hash)
);
"""


def prepare(db: sqlite3.Connection) -> str:
    """Create (or upgrade) the feedback tables and return the database's salt.

    Shared by FeedbackStore and the question log so both hash a user the same way;
    INSERT OR IGNORE keeps two processes opening a new file from making two salts.
    """
    with db:
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
        if "answer_id" not in columns:  # files made before feedback linked to the log
            db.execute("ALTER TABLE feedback ADD COLUMN answer_id TEXT NOT NULL DEFAULT ''")
        db.execute("CREATE INDEX IF NOT EXISTS feedback_answer ON feedback (answer_id)")
        db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),))
    return db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]


def hash_user(salt: str, platform: str, user_id: str) -> str:
    """The stored stand-in for a user id: stable per database, useless without its salt."""
    return hashlib.sha256(f"{salt}:{platform}:{user_id}".encode()).hexdigest()[:24]


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._salt = prepare(self._db)

    def user_hash(self, platform: str, user_id: str) -> str:
        return hash_user(self._salt, platform, user_id)

    def record(self, platform: str, message_ref: str, user_id: str, helpful: bool,
               cards: list[str] | tuple[str, ...] = (), answer_id: str = "") -> None:
        """One vote per user per answer; a second click changes the vote.

        `answer_id` (the Answer.id the buttons sit under) links the vote to the question
        log; without it the vote still counts, but not against a question.
        """
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO feedback (at, platform, message_ref, user_hash, helpful, cards, "
                "answer_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, message_ref, user_hash) DO UPDATE SET "
                "helpful = excluded.helpful, at = excluded.at, "
                "answer_id = CASE WHEN excluded.answer_id != '' THEN excluded.answer_id "
                "ELSE feedback.answer_id END",
                (now, platform, message_ref, self.user_hash(platform, user_id), int(helpful),
                 ",".join(cards), answer_id),
            )

    def rows(self) -> list[dict]:
        with self._lock:
            cursor = self._db.execute(
                "SELECT at, platform, message_ref, user_hash, helpful, cards, answer_id "
                "FROM feedback ORDER BY id")
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def close(self) -> None:
        self._db.close()
