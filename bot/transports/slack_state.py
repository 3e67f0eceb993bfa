"""What the Slack app remembers between events, in memory and bounded.

Threads the bot answered (so a follow-up needs no new mention and is read with the
earlier turns) and answers shown only to their asker (so "Share in channel" can post
them). Both are small LRU maps: a restart forgets them, and the app falls back to
conversations.replies for threads and to "please ask again" for shares.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.advisor import Answer, Turn

MAX_TURNS = 6


@dataclass
class _Conversation:
    turns: list[Turn] = field(default_factory=list)
    at: float = 0.0


class ThreadMemory:
    """(channel, thread) -> earlier turns, for the conversations the bot took part in."""

    def __init__(self, capacity: int = 2000, clock: Callable[[], float] = time.monotonic) -> None:
        self._items: OrderedDict[tuple[str, str], _Conversation] = OrderedDict()
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()

    def _touch(self, key: tuple[str, str]) -> _Conversation:
        conversation = self._items.pop(key, None) or _Conversation()
        conversation.at = self._clock()
        self._items[key] = conversation
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return conversation

    def start(self, key: tuple[str, str], turns: tuple[Turn, ...] = ()) -> None:
        """Mark a conversation as ours with the turns the next answer is read with (set
        before answering, so a quick follow-up already counts as ours)."""
        with self._lock:
            self._touch(key).turns = list(turns)[-MAX_TURNS:]

    def turns(self, key: tuple[str, str], max_age: float | None = None) -> tuple[Turn, ...] | None:
        """The earlier turns, or None when the bot has not (recently) talked there."""
        with self._lock:
            conversation = self._items.get(key)
            if conversation is None:
                return None
            if max_age is not None and self._clock() - conversation.at > max_age:
                return ()
            return tuple(conversation.turns)

    def add(self, key: tuple[str, str], turn: Turn) -> None:
        with self._lock:
            conversation = self._touch(key)
            conversation.turns = (conversation.turns + [turn])[-MAX_TURNS:]


class ShareBox:
    """Ephemeral answers waiting for their asker to click "Share in channel"."""

    def __init__(self, capacity: int = 500) -> None:
        self._items: OrderedDict[str, tuple[str, Answer]] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def put(self, question: str, answer: Answer) -> str:
        key = secrets.token_urlsafe(12)
        with self._lock:
            self._items[key] = (question, answer)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return key

    def take(self, key: str) -> tuple[str, Answer] | None:
        with self._lock:
            return self._items.pop(key, None)
