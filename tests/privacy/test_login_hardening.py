"""Login hardening (issue 18 finding 4 and part 3): throttling, one-time passwords, policy, refresh
rotation, algorithm allowlist, security headers, CSRF, size limits, offline docs."""

from __future__ import annotations

import time

import jwt
import pytest

from theralab.errors import AuthError, InputError


def test_25_wrong_passwords_then_the_right_one_is_throttled(api):
    statuses = [api.post("/v1/auth/token", data={"username": "doc", "password": f"wrong-{i}"}).status_code
                for i in range(25)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    right = api.post("/v1/auth/token", data={"username": "doc", "password": "password-doc"})
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) > 0 and right.json()["error"] == "ThrottledError"
    # another account from another address is unaffected
    assert api.post("/v1/auth/token", data={"username": "res", "password": "password-res"},
                    headers={"X-Forwarded-For": "ignored"}).status_code in (200, 429)


def test_throttle_lock_grows_and_success_clears():
    from theralab.privacy.throttle import LoginThrottle, ThrottledError

    now = [1000.0]
    throttle = LoginThrottle(free=3, base_seconds=10, max_seconds=100)
    throttle.clock = lambda: now[0]
    for _ in range(2):
        throttle.failure("ana", "1.2.3.4")
    throttle.check("ana", "1.2.3.4")  # two mistakes: not blocked
    throttle.failure("ana", "1.2.3.4")
    with pytest.raises(ThrottledError) as first:
        throttle.check("ana", "1.2.3.4")
    assert first.value.retry_after == 10
    now[0] += 11
    throttle.check("ana", "1.2.3.4")
    throttle.failure("ana", "1.2.3.4")
    with pytest.raises(ThrottledError) as second:
        throttle.check("ana", "1.2.3.4")
    assert second.value.retry_after == 20  # doubled
    now[0] += 21
    throttle.success("ana")
    throttle.check("ana", "9.9.9.9")


@pytest.fixture(autouse=True)
def _fresh_throttle(tl_env):
    from theralab.privacy.throttle import login_throttle

    login_throttle.reset()
    yield
    login_throttle.reset()


def test_one_time_password_must_be_changed_and_works_once(api):
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        create_user(session, "boss", "one-time-Xy7-pass", ["admin"], must_change_password=True)
    first = api.post("/v1/auth/token", data={"username": "boss", "password": "one-time-Xy7-pass"}).json()
    assert first["must_change_password"] is True
    headers = {"Authorization": f"Bearer {first['access_token']}"}
    blocked = api.get("/v1/jobs", headers=headers)
    assert blocked.status_code == 403 and "changed first" in blocked.json()["message"]
    weak = api.post("/v1/auth/password", headers=headers,
                    json={"current_password": "one-time-Xy7-pass", "new_password": "password1"})
    assert weak.status_code == 422
    changed = api.post("/v1/auth/password", headers=headers,
                       json={"current_password": "one-time-Xy7-pass", "new_password": "a long quiet harbour"})
    assert changed.status_code == 200 and changed.json()["must_change_password"] is False
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert api.get("/v1/jobs", headers=fresh).status_code == 200
    reuse = api.post("/v1/auth/token", data={"username": "boss", "password": "one-time-Xy7-pass"})
    assert reuse.status_code == 401


def test_password_policy():
    from theralab.privacy.auth import check_password_policy

    for bad in ("short", "password1234", "Password123!", "aaaaaaaaaaaaaa", "x" * 300):
        with pytest.raises(InputError):
            check_password_policy(bad, "ana")
    with pytest.raises(InputError, match="user name"):
        check_password_policy("ana-the-great", "ana-the-great")
    check_password_policy("correct horse battery", "ana")


def test_refresh_rotates_and_reuse_revokes_the_family(api):
    login = api.post("/v1/auth/token", data={"username": "res", "password": "password-res"}).json()
    first = login["refresh_token"]
    second = api.post("/v1/auth/refresh", json={"refresh_token": first})
    assert second.status_code == 200
    rotated = second.json()["refresh_token"]
    assert rotated != first and api.get("/v1/auth/me", headers={
        "Authorization": f"Bearer {second.json()['access_token']}"}).json()["username"] == "res"
    replay = api.post("/v1/auth/refresh", json={"refresh_token": first})
    assert replay.status_code == 401 and "revoked" in replay.json()["message"]
    # the thief's replay killed the legitimate rotated token too
    assert api.post("/v1/auth/refresh", json={"refresh_token": rotated}).status_code == 401
    # logout revokes
    other = api.post("/v1/auth/token", data={"username": "res", "password": "password-res"}).json()["refresh_token"]
    assert api.post("/v1/auth/logout", json={"refresh_token": other}).json() == {"ok": True}
    assert api.post("/v1/auth/refresh", json={"refresh_token": other}).status_code == 401
    assert api.post("/v1/auth/refresh", json={"refresh_token": "made-up"}).status_code == 401


def test_algorithm_allowlist_and_required_claims(tl_env):
    from theralab.privacy.auth import decode_token, secret_key

    now = int(time.time())
    good = {"sub": "a", "roles": ["admin"], "iat": now, "exp": now + 60}
    assert decode_token(jwt.encode(good, secret_key(), algorithm="HS256"))["sub"] == "a"
    unsigned = jwt.encode(good, None, algorithm="none")
    hs512 = jwt.encode(good, secret_key(), algorithm="HS512")
    no_exp = jwt.encode({"sub": "a", "roles": ["admin"], "iat": now}, secret_key(), algorithm="HS256")
    expired = jwt.encode({**good, "exp": now - 5}, secret_key(), algorithm="HS256")
    for token in (unsigned, hs512, no_exp, expired):
        with pytest.raises(AuthError):
            decode_token(token)


def test_security_headers_and_no_store(api):
    resp = api.get("/v1/health")
    assert resp.headers["x-frame-options"] == "DENY" and resp.headers["x-content-type-options"] == "nosniff"
    csp = resp.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "http" not in csp
    assert resp.headers["cache-control"] == "no-store"
    page = api.get("/login")
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


def test_csrf_cross_site_form_posts_are_refused(api):
    evil = {"Origin": "https://evil.example"}
    assert api.post("/login", data={"username": "res", "password": "password-res"}, headers=evil,
                    follow_redirects=False).status_code == 403
    ok = api.post("/login", data={"username": "res", "password": "password-res"},
                  headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert ok.status_code == 303
    # a cookie-authenticated API write from another site is refused; a bearer-token one is not a CSRF target
    assert api.post("/v1/jobs", json={"kind": "selftest"}, headers=evil).status_code == 403


def test_request_size_limit(api, monkeypatch):
    from theralab.api import security

    big = b"x" * 1024
    app = security.SecurityMiddleware(api.app.middleware_stack, max_body=100)  # smaller limit, same code
    from fastapi.testclient import TestClient

    client = TestClient(app)
    resp = client.post("/v1/auth/token", content=big, headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 413 and resp.json()["message"] == "request body too large"


def test_docs_are_served_without_a_cdn(api):
    docs = api.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower() and "/docs-assets/swagger/" in docs.text
    asset = api.get("/docs-assets/swagger/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    redoc = api.get("/redoc")
    assert redoc.status_code == 200 and "cdn" not in redoc.text.lower() and "fonts.googleapis" not in redoc.text


def test_web_login_forces_password_change(api):
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        create_user(session, "newbie", "one-time-Ab3-word", ["clinician"], must_change_password=True)
    api.cookies.clear()
    resp = api.post("/login", data={"username": "newbie", "password": "one-time-Ab3-word", "next": "/"},
                    follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/password")
    home = api.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"].startswith("/password")
    done = api.post("/password", data={"current_password": "one-time-Ab3-word",
                                       "new_password": "seven quiet harbours", "next": "/"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert api.get("/", follow_redirects=False).status_code == 200


def test_throttle_is_shared_by_two_server_processes(tl_env, live_server):
    """Guesses spread over two server processes on one database are counted together: after the
    free tries on server 1, server 2 refuses (429 + Retry-After) even the right password."""
    import httpx

    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        create_user(session, "dora", "password-dora-ok", ["researcher"])
    one = live_server(wait=False)
    two = live_server(wait=False)
    one.wait_ready()
    two.wait_ready()
    for i in range(5):  # the free tries, alternating between the two processes
        server = one if i % 2 == 0 else two
        assert httpx.post(server.base + "/v1/auth/token",
                          data={"username": "dora", "password": f"wrong-{i}"}).status_code == 401
    refused = httpx.post(two.base + "/v1/auth/token", data={"username": "dora", "password": "password-dora-ok"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    refused = httpx.post(one.base + "/v1/auth/token", data={"username": "dora", "password": "password-dora-ok"})
    assert refused.status_code == 429

