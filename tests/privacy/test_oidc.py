"""OpenID Connect login (issue 18 part 3): the authorization-code flow with PKCE against a fake issuer
served in process (its own RSA key and JWKS; no network), and every check that must refuse."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://idp.example.test"


class FakeIssuer:
    """An identity provider in one function: discovery, authorization (auto-consent), token, JWKS."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict] = {}
        self.user = "ida"
        self.tamper: dict[str, object] = {}

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def authorize(self, query: dict[str, str]) -> str:
        code = f"code-{len(self.codes)}"
        self.codes[code] = query
        return code

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
                                             "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks"})
        if path == "/jwks":
            return httpx.Response(200, json=self.jwks())
        if path == "/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            auth = self.codes.pop(form.get("code", ""), None)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
            if (auth is None or form.get("client_secret") != "s3cret"
                    or challenge.rstrip(b"=").decode() != auth["code_challenge"]):
                return httpx.Response(400, json={"error": "invalid_grant"})
            now = int(time.time())
            claims = {"iss": ISSUER, "aud": "theralab", "sub": "u-1", "preferred_username": self.user,
                      "nonce": auth["nonce"], "iat": now, "exp": now + 300, **self.tamper}
            token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
            return httpx.Response(200, json={"id_token": token, "token_type": "Bearer"})
        return httpx.Response(404)


@pytest.fixture
def idp(api, monkeypatch):
    from theralab.privacy import oidc
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    fake = FakeIssuer()
    monkeypatch.setattr(oidc, "client_factory", lambda: httpx.Client(transport=httpx.MockTransport(fake.handler)))
    for name, value in {"ISSUER": ISSUER, "CLIENT_ID": "theralab", "CLIENT_SECRET": "s3cret",
                        "REDIRECT_URI": "http://testserver/v1/auth/oidc/callback"}.items():
        monkeypatch.setenv(f"THERALAB_OIDC_{name}", value)
    with session_scope() as session:
        create_user(session, "ida", "password-ida-local", ["clinician"])
    return fake


def _login(api, fake: FakeIssuer) -> httpx.Response:
    start = api.get("/v1/auth/oidc/login", follow_redirects=False)
    assert start.status_code == 307
    url = urlparse(start.headers["location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.netloc == "idp.example.test" and query["code_challenge_method"] == "S256"
    code = fake.authorize(query)  # the user signs in at the provider, which redirects back
    return api.get("/v1/auth/oidc/callback", params={"code": code, "state": query["state"]})


def test_code_flow_logs_the_local_account_in(api, idp):
    resp = _login(api, idp)
    assert resp.status_code == 200, resp.text
    me = api.get("/v1/auth/me", headers={"Authorization": f"Bearer {resp.json()['access_token']}"}).json()
    assert me["username"] == "ida" and me["roles"] == ["clinician"]
    # the login transaction (a signed cookie) can never pass for an access token
    api.get("/v1/auth/oidc/login", follow_redirects=False)
    txn = api.cookies.get("theralab_oidc")
    assert txn and api.get("/v1/auth/me", headers={"Authorization": f"Bearer {txn}"}).status_code == 401


def test_a_bad_id_token_is_refused(api, idp):
    for tamper in ({"aud": "someone-else"}, {"iss": "https://evil.test"}, {"nonce": "replayed"},
                   {"exp": int(time.time()) - 3600}):
        idp.tamper = tamper
        assert _login(api, idp).status_code == 401, tamper


def test_unknown_account_wrong_state_and_unconfigured_site_are_refused(api, idp, monkeypatch):
    idp.user = "nobody"
    assert _login(api, idp).status_code == 401
    idp.user = "ida"
    start = api.get("/v1/auth/oidc/login", follow_redirects=False)
    query = {k: v[0] for k, v in parse_qs(urlparse(start.headers["location"]).query).items()}
    code = idp.authorize(query)
    assert api.get("/v1/auth/oidc/callback", params={"code": code, "state": "forged"}).status_code == 401
    api.cookies.clear()  # no transaction cookie: a callback from another browser
    assert api.get("/v1/auth/oidc/callback", params={"code": code, "state": query["state"]}).status_code == 401
    monkeypatch.delenv("THERALAB_OIDC_ISSUER")
    assert api.get("/v1/auth/oidc/login", follow_redirects=False).status_code == 404


