"""Showing an answer while the LLM writes it: the newest text, about once a second.

The advisor calls `on_delta` from the LLM's worker thread with the whole text so far, many
times a second. Chat platforms rate-limit message edits (Slack's chat.update about once a
second per channel, Discord five edits per five seconds), so only the newest text is shown,
at most once per interval, and nothing once the transport closes the stream: the final
answer, which may be the extractive fallback when the LLM's text failed its check, must
be the last thing the reader sees.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

STREAM_SECONDS = 1.0


class Throttle:
    """An on_delta that passes the newest text to `show` at most once per `interval`
    (the first time one interval after it was made), and never after close()."""

    def __init__(self, show: Callable[[str], None], interval: float = STREAM_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._show = show
        self._interval = interval
        self._clock = clock
        self._last = clock()
        self._closed = False
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:  # held while showing, so close() waits for an update in progress
            if self._closed or not text.strip() or self._clock() - self._last < self._interval:
                return
            self._last = self._clock()
            try:
                self._show(text)
            except Exception:  # a missed intermediate update costs nothing; the final one counts
                log.warning("could not show the answer so far", exc_info=True)

    def close(self) -> None:
        """No update is shown after this returns."""
        with self._lock:
            self._closed = True


class LoopStream:
    """An on_delta for asyncio transports: each throttled update is scheduled onto the event
    loop (the advisor's thread never blocks on it, nor the loop on the advisor), and dropped
    while the previous one is still being sent."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 show: Callable[[str], Coroutine[Any, Any, None]],
                 interval: float = STREAM_SECONDS) -> None:
        self._loop = loop
        self._show = show
        self._pending: concurrent.futures.Future[None] | None = None
        self._throttle = Throttle(self._schedule, interval)

    def __call__(self, text: str) -> None:
        self._throttle(text)

    def _schedule(self, text: str) -> None:
        if self._pending is not None and not self._pending.done():
            return
        self._pending = asyncio.run_coroutine_threadsafe(self._safely(text), self._loop)

    async def _safely(self, text: str) -> None:
        try:
            await self._show(text)
        except Exception:
            log.warning("could not show the answer so far", exc_info=True)

    async def close(self) -> None:
        """Stop updates and wait for one still being sent, so the final answer lands last."""
        self._throttle.close()
        if self._pending is not None:
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(self._pending)
