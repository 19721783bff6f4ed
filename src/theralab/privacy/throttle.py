"""Login throttling: after a few wrong passwords, refuse further tries for a growing delay (429).

Failures are counted per user name and per client address in a sliding window. From the
``free``-th failure on, each new failure locks that key for ``base * 2**k`` seconds (capped), so a
guessing attack slows to a crawl while a user who mistypes twice is never blocked. A correct
password clears the user-name counter. The refusal says when to retry (``Retry-After``) and is
raised *before* the password is checked, so a locked account cannot be probed either.

State is per process (a multi-process deployment should put a shared limiter in front); it is
bounded in size and forgets keys after the window.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from theralab.errors import TheralabError


class ThrottledError(TheralabError):
    """Too many failed attempts: retry after ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int, **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


@dataclass
class _Entry:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    """Sliding-window failure counter with exponential lock-outs, keyed by name and by address."""

    def __init__(self, free: int = 5, base_seconds: float = 30.0, max_seconds: float = 900.0,
                 window_seconds: float = 900.0, per_address: int = 20, max_keys: int = 100_000) -> None:
        self.free, self.base, self.max, self.window = free, base_seconds, max_seconds, window_seconds
        self.per_address, self.max_keys = per_address, max_keys
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.clock = time.monotonic

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"user:{username.lower()}", self.free), (f"addr:{address}", self.per_address)]

    def check(self, username: str, address: str) -> None:
        """Raise ThrottledError while either key is locked."""
        now = self.clock()
        with self._lock:
            waits = [e.locked_until - now for k, _ in self._keys(username, address)
                     if (e := self._entries.get(k)) and e.locked_until > now]
        if waits:
            wait = math.ceil(max(waits))
            raise ThrottledError("too many failed logins; wait before trying again", retry_after=wait,
                                 hint=f"retry after {wait} s")

    def failure(self, username: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._entries) > self.max_keys:
                self._entries = {k: e for k, e in self._entries.items()
                                 if e.failures and e.failures[-1] > now - self.window}
            for key, free in self._keys(username, address):
                entry = self._entries.setdefault(key, _Entry())
                entry.failures = [t for t in entry.failures if t > now - self.window] + [now]
                over = len(entry.failures) - free
                if over >= 0:
                    entry.locked_until = now + min(self.max, self.base * 2**over)

    def success(self, username: str) -> None:
        with self._lock:
            self._entries.pop(f"user:{username.lower()}", None)

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()


#: The process-wide throttle used by the API and web logins.
login_throttle = LoginThrottle()
