"""Property-based fuzzing of every API operation with Schemathesis, in process (ASGI), bounded in time.

For each operation of ``/openapi.json`` Schemathesis draws requests that follow the schema
(positive) and requests that break it (negative), sends them with an admin token (admin passes
every role check, so handlers are reached), and checks two things: no 5xx, and no status code the
schema does not document. Examples are derandomised so a failure reproduces.

Left out, with the reason: the two endless server-sent-event streams (a fuzzer cannot finish
them) and the ADMET routes whose first call loads the 41-endpoint model panel (~20 s on the CI
machine; they are covered by tests/api/test_admet_api.py). Job submission runs with the background
start replaced by a no-op, so fuzzed jobs are validated and recorded but not executed.
"""

from __future__ import annotations

import logging
import time

import pytest

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES_PER_OPERATION = 6
SKIP = {
    ("GET", "/v1/alerts/stream"),
    ("GET", "/v1/jobs/{job_id}/events"),
    ("POST", "/v1/admet/predict"),
    ("POST", "/v1/admet/explain"),
    ("GET", "/v1/admet/endpoints"),
}


def fuzz(app, token: str, examples: int, skip=frozenset()) -> dict:
    """Run Schemathesis over every operation of ``app``; return cases, failures and operations."""
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    stats = {"cases": 0, "failures": [], "operations": 0}
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) in skip:
            continue
        stats["operations"] += 1
        strategy = st.one_of(op.as_strategy(), op.as_strategy(GenerationMode.NEGATIVE))

        _runner(op, strategy, token, examples, stats)()
    return stats


def _runner(op, strategy, token: str, examples: int, stats: dict):
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import checks as checks_mod

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(case=strategy)
    def run(case):
        stats["cases"] += 1
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                                   checks=[checks_mod.not_a_server_error, checks_mod.status_code_conformance])
        except BaseException as exc:  # noqa: BLE001 - FailureGroup is a BaseExceptionGroup
            if isinstance(exc, KeyboardInterrupt):
                raise
            stats["failures"].append((op.method.upper(), op.path, str(exc)[:400]))

    return run


def test_no_5xx_and_no_undocumented_status_on_any_operation(api, monkeypatch):
    from theralab.runtime import jobs

    monkeypatch.setattr(jobs, "start_in_background", lambda job_id: None)
    logging.disable(logging.WARNING)
    try:
        t0 = time.time()
        stats = fuzz(api.app, api.login("root")["Authorization"].split()[1], EXAMPLES_PER_OPERATION, SKIP)
        elapsed = time.time() - t0
    finally:
        logging.disable(logging.NOTSET)
        from theralab.privacy.throttle import login_throttle

        login_throttle.reset()  # fuzzed logins fail by the hundred: do not lock later tests out
    print(f"schemathesis: {stats['operations']} operations, {stats['cases']} cases, "
          f"{len(stats['failures'])} failures, {elapsed:.0f} s")
    assert stats["operations"] >= 50
    assert stats["cases"] >= 5 * stats["operations"]
    assert stats["failures"] == [], stats["failures"][:5]


def test_the_harness_catches_a_500_and_an_undocumented_status():
    """The checks above can fail: a route that 500s on some input, another answering 418."""
    from fastapi import FastAPI, Query

    app = FastAPI()

    @app.get("/boom")
    def boom(x: int = Query(0, ge=0, le=10)) -> dict:
        return {"x": 1 // (x - 3)}  # x == 3 raises ZeroDivisionError: a 500

    @app.get("/teapot", status_code=200)
    def teapot() -> dict:
        from fastapi import HTTPException

        raise HTTPException(418)

    stats = fuzz(app, "unused", 40)
    paths = {f[1] for f in stats["failures"]}
    assert paths == {"/boom", "/teapot"}
