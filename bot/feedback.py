"""Helpful / Not helpful clicks from every platform, in one SQLite file.

User ids are stored only as salted hashes; the salt is made once per database and kept in
it, so the same user maps to the same hash without the raw id ever being written.
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
    UNIQUE (platform, message_ref, user_hash)
);
"""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),))
                row = self._db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
        self._salt = row[0]

    def user_hash(self, platform: str, user_id: str) -> str:
        return hashlib.sha256(f"{self._salt}:{platform}:{user_id}".encode()).hexdigest()[:24]

    def record(self, platform: str, message_ref: str, user_id: str, helpful: bool,
               cards: list[str] | tuple[str, ...] = ()) -> None:
        """One vote per user per answer; a second click changes the vote."""
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO feedback (at, platform, message_ref, user_hash, helpful, cards) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, message_ref, user_hash) "
                "DO UPDATE SET helpful = excluded.helpful, at = excluded.at",
                (now, platform, message_ref, self.user_hash(platform, user_id), int(helpful),
                 ",".join(cards)),
            )

    def rows(self) -> list[dict]:
        with self._lock:
            cursor = self._db.execute(
                "SELECT at, platform, message_ref, user_hash, helpful, cards FROM feedback ORDER BY id")
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def close(self) -> None:
        self._db.close()
