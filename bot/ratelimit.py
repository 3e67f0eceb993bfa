"""A per-user sliding-window rate limit shared by the chat transports."""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, user: str) -> int:
        """0 if the user may ask now (and counts the question), else seconds to wait."""
        if self.per_minute <= 0:
            return 0
        now = self._clock()
        with self._lock:
            window = self._seen.setdefault(user, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= self.per_minute:
                return max(1, int(60 - (now - window[0])) + 1)
            window.append(now)
            return 0
