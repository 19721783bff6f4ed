"""Login throttling: after a few wrong passwords, refuse further tries for a growing delay (429).

Failures are counted per user name and per client address in a sliding window. From the
``free``-th failure on, each new failure locks that key for ``base * 2**k`` seconds (capped), so a
guessing attack slows to a crawl while a user who mistypes twice is never blocked. A correct
password clears the user-name counter. The refusal says when to retry (``Retry-After``) and is
raised *before* the password is checked, so a locked account cannot be probed either.

The failures live in the database (:class:`DatabaseStore`, table ``privacy_login_failures``), so
every server process that shares the database shares the count: an attacker gains nothing by
spreading guesses over several workers or hosts. Each failure is one inserted row (no
read-modify-write, so concurrent processes cannot lose a count) and the lock is recomputed from
the rows; rows older than the window are purged. :class:`MemoryStore` keeps the same logic in
process memory (unit tests, or a deployment without a database).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import delete, select

from theralab.errors import TheralabError


class ThrottledError(TheralabError):
    """Too many failed attempts: retry after ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int, **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class FailureStore(Protocol):
    """Where failed attempts are kept: timestamps (seconds) per key."""

    def add(self, key: str, at: float) -> None: ...
    def since(self, key: str, start: float) -> list[float]: ...
    def clear(self, key: str) -> None: ...
    def purge(self, before: float) -> None: ...
    def reset(self) -> None: ...


class MemoryStore:
    """Failures in this process's memory (bounded: keys idle past the window are dropped)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._rows: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self.max_keys = max_keys

    def add(self, key: str, at: float) -> None:
        with self._lock:
            self._rows.setdefault(key, []).append(at)

    def since(self, key: str, start: float) -> list[float]:
        with self._lock:
            return [t for t in self._rows.get(key, []) if t >= start]

    def clear(self, key: str) -> None:
        with self._lock:
            self._rows.pop(key, None)

    def purge(self, before: float) -> None:
        with self._lock:
            self._rows = {k: kept for k, ts in self._rows.items() if (kept := [t for t in ts if t >= before])}
            while len(self._rows) > self.max_keys:
                self._rows.pop(next(iter(self._rows)))

    def reset(self) -> None:
        with self._lock:
            self._rows.clear()


class DatabaseStore:
    """Failures as rows of ``privacy_login_failures`` in the installation's database.

    Each call uses its own short transaction, so a failure is kept although the login request's
    own transaction is rolled back by the refusal.
    """

    def add(self, key: str, at: float) -> None:
        from theralab.privacy.tables import LoginFailure
        from theralab.runtime.db import session_scope

        with session_scope() as session:
            session.add(LoginFailure(key=key[:200], at=at))

    def since(self, key: str, start: float) -> list[float]:
        from theralab.privacy.tables import LoginFailure
        from theralab.runtime.db import session_scope

        with session_scope() as session:
            return list(session.scalars(select(LoginFailure.at).where(LoginFailure.key == key[:200],
                                                                      LoginFailure.at >= start)))

    def clear(self, key: str) -> None:
        from theralab.privacy.tables import LoginFailure
        from theralab.runtime.db import session_scope

        with session_scope() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.key == key[:200]))

    def purge(self, before: float) -> None:
        from theralab.privacy.tables import LoginFailure
        from theralab.runtime.db import session_scope

        with session_scope() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.at < before))

    def reset(self) -> None:
        self.purge(float("inf"))


class LoginThrottle:
    """Sliding-window failure counter with exponential lock-outs, keyed by name and by address."""

    def __init__(self, free: int = 5, base_seconds: float = 30.0, max_seconds: float = 900.0,
                 window_seconds: float = 900.0, per_address: int = 20, store: FailureStore | None = None) -> None:
        self.free, self.base, self.max, self.window = free, base_seconds, max_seconds, window_seconds
        self.per_address = per_address
        self.store: FailureStore = store or MemoryStore()
        #: Wall-clock seconds: shared by every process (a monotonic clock is not).
        self.clock: Callable[[], float] = time.time

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"user:{username.lower()}", self.free), (f"addr:{address}", self.per_address)]

    def _locked_until(self, key: str, free: int, now: float) -> float:
        times = sorted(self.store.since(key, now - self.max - self.window))
        if not times:
            return 0.0
        last = times[-1]
        over = sum(1 for t in times if t > last - self.window) - free
        return last + min(self.max, self.base * 2**over) if over >= 0 else 0.0

    def check(self, username: str, address: str) -> None:
        """Raise ThrottledError while either key is locked."""
        now = self.clock()
        waits = [until - now for key, free in self._keys(username, address)
                 if (until := self._locked_until(key, free, now)) > now]
        if waits:
            wait = max(1, math.ceil(max(waits)))
            raise ThrottledError("too many failed logins; wait before trying again", retry_after=wait,
                                 hint=f"retry after {wait} s")

    def failure(self, username: str, address: str) -> None:
        """Count one failed attempt for the name and the address (and forget expired ones)."""
        now = self.clock()
        for key, _ in self._keys(username, address):
            self.store.add(key, now)
        self.store.purge(now - self.max - self.window)

    def success(self, username: str) -> None:
        self.store.clear(f"user:{username.lower()}")

    def reset(self) -> None:
        self.store.reset()


#: The throttle used by the API and web logins: shared through the database by every process.
login_throttle = LoginThrottle(store=DatabaseStore())
