"""The login throttle's shared store (issue 18 part 3) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest


def test_database_throttle_counts_and_clears_on_each_database(tl_env_any_db):
    """The shared store on SQLite and PostgreSQL: same lock arithmetic as in memory, cleared by success."""
    from theralab.privacy.throttle import DatabaseStore, LoginThrottle, ThrottledError

    now = [5000.0]
    throttle = LoginThrottle(free=3, base_seconds=10, max_seconds=100, store=DatabaseStore())
    throttle.clock = lambda: now[0]
    for _ in range(3):
        throttle.failure("eve", "10.0.0.1")
    with pytest.raises(ThrottledError) as locked:
        throttle.check("eve", "10.0.0.1")
    assert locked.value.retry_after == 10
    second = LoginThrottle(free=3, base_seconds=10, max_seconds=100, store=DatabaseStore())  # another process
    second.clock = throttle.clock
    with pytest.raises(ThrottledError):
        second.check("eve", "10.0.0.2")
    second.success("eve")
    throttle.check("eve", "10.0.0.3")
    now[0] += 10_000  # far past the window: old rows are purged on the next failure
    throttle.failure("zed", "10.0.0.9")
    from sqlalchemy import func, select

    from theralab.privacy.tables import LoginFailure
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 2  # zed's name + address
