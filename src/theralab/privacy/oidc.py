"""Optional OpenID Connect login (authorization-code flow with PKCE) against a site's identity provider.

Configured from the environment (off when ``THERALAB_OIDC_ISSUER`` is unset):

* ``THERALAB_OIDC_ISSUER`` — the issuer URL (its ``/.well-known/openid-configuration`` is read);
* ``THERALAB_OIDC_CLIENT_ID`` / ``THERALAB_OIDC_CLIENT_SECRET`` — theralab's client registration;
* ``THERALAB_OIDC_REDIRECT_URI`` — the callback URL registered at the provider
  (``https://<host>/v1/auth/oidc/callback``);
* ``THERALAB_OIDC_USER_CLAIM`` — the ID-token claim naming the local account (``preferred_username``).

Flow: :func:`begin` makes ``state``, ``nonce`` and a PKCE verifier, keeps them in a signed,
10-minute transaction token (a cookie, so no server state), and returns the provider's
authorization URL. :func:`finish` checks ``state``, exchanges the code (with the verifier) at the
token endpoint, and verifies the ID token: signature against the provider's JWKS (RS256/ES256 only),
``iss``, ``aud`` = client id, ``exp``/``iat``, and ``nonce``. The user it names must be an active
local account: roles stay theralab's (an identity provider proves who someone is; what they may
see is decided here, with care teams and consent).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from theralab.errors import AuthError, InputError, NotFoundError

ID_TOKEN_ALGORITHMS = ("RS256", "ES256")
TRANSACTION_SECONDS = 600

#: How theralab talks to the provider; tests replace it with an in-process fake issuer.
client_factory: Callable[[], httpx.Client] = lambda: httpx.Client(timeout=10.0)  # noqa: E731


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    user_claim: str = "preferred_username"

    @classmethod
    def from_env(cls) -> OidcConfig:
        """The configuration, or NotFoundError when OIDC is not set up on this site."""
        issuer = os.environ.get("THERALAB_OIDC_ISSUER", "").strip().rstrip("/")
        if not issuer:
            raise NotFoundError("OpenID Connect login is not configured on this site",
                                hint="set THERALAB_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URI")
        return cls(issuer=issuer, client_id=os.environ.get("THERALAB_OIDC_CLIENT_ID", ""),
                   client_secret=os.environ.get("THERALAB_OIDC_CLIENT_SECRET", ""),
                   redirect_uri=os.environ.get("THERALAB_OIDC_REDIRECT_URI", ""),
                   user_claim=os.environ.get("THERALAB_OIDC_USER_CLAIM", "preferred_username"))


def _get_json(client: httpx.Client, url: str) -> dict[str, Any]:
    try:
        resp = client.get(url)
        resp.raise_for_status()
        data = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise AuthError("the identity provider did not answer", where=url, hint="try again later") from exc
    if not isinstance(data, dict):
        raise AuthError("the identity provider answered nonsense", where=url)
    return data


def discover(config: OidcConfig, client: httpx.Client) -> dict[str, Any]:
    """The provider's metadata; its ``issuer`` must be the configured one (no mix-up)."""
    meta = _get_json(client, f"{config.issuer}/.well-known/openid-configuration")
    if meta.get("issuer", "").rstrip("/") != config.issuer:
        raise AuthError("the identity provider's metadata names another issuer", where="issuer")
    return meta


def _txn_key(signing_key: str) -> str:
    """A key of its own for login transactions, derived from the site key: a transaction token can
    never pass for an access token (which is signed with the site key itself)."""
    return hashlib.sha256(f"theralab-oidc-transaction|{signing_key}".encode()).hexdigest()


def _sign(claims: dict[str, Any], key: str) -> str:
    return jwt.encode(claims, _txn_key(key), algorithm="HS256")


def begin(config: OidcConfig, signing_key: str) -> tuple[str, str]:
    """``(authorization URL, transaction token)``: send the browser to the URL, keep the token in a cookie."""
    with client_factory() as client:
        meta = discover(config, client)
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    now = int(time.time())
    txn = _sign({"state": state, "nonce": nonce, "verifier": verifier, "iat": now,
                 "exp": now + TRANSACTION_SECONDS}, signing_key)
    query = urlencode({"response_type": "code", "client_id": config.client_id, "redirect_uri": config.redirect_uri,
                       "scope": "openid profile", "state": state, "nonce": nonce, "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    return f"{meta['authorization_endpoint']}?{query}", txn


def finish(config: OidcConfig, signing_key: str, code: str, state: str, txn: str | None) -> str:
    """Verify the callback and return the local user name the ID token proves.

    Raises:
        AuthError: missing or expired transaction, wrong ``state``, a refused code exchange, an ID
            token that fails any check.
        InputError: no code.
    """
    if not code:
        raise InputError("the callback has no code", where="code")
    try:
        saved = jwt.decode(txn or "", _txn_key(signing_key), algorithms=["HS256"], options={"require": ["exp", "iat"]})
    except jwt.PyJWTError as exc:
        raise AuthError("the login transaction is missing or expired",
                        hint="start again at /v1/auth/oidc/login") from exc
    if not secrets.compare_digest(str(saved.get("state", "")), state or ""):
        raise AuthError("state does not match this login", where="state", hint="start again")
    with client_factory() as client:
        meta = discover(config, client)
        try:
            resp = client.post(meta["token_endpoint"], data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": config.redirect_uri,
                "client_id": config.client_id, "client_secret": config.client_secret,
                "code_verifier": saved["verifier"]})
            tokens = resp.json() if resp.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise AuthError("the identity provider did not answer", where="token_endpoint") from exc
        if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
            raise AuthError("the identity provider refused the code", where="code", hint="start again")
        jwks = _get_json(client, meta["jwks_uri"])
    return _verify_id_token(config, tokens["id_token"], jwks, str(saved["nonce"]))


def _verify_id_token(config: OidcConfig, token: str, jwks: dict[str, Any], nonce: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ID_TOKEN_ALGORITHMS:
            raise AuthError("ID token signed with a refused algorithm", where="id_token")
        keys = [k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kid") == header.get("kid")]
        if len(keys) != 1:
            raise AuthError("ID token key not in the provider's JWKS", where="id_token")
        key = jwt.PyJWK(keys[0]).key
        claims = jwt.decode(token, key, algorithms=[header["alg"]], audience=config.client_id, issuer=config.issuer,
                            options={"require": ["exp", "iat", "iss", "aud", "sub"]}, leeway=30)
    except AuthError:
        raise
    except jwt.PyJWTError as exc:
        raise AuthError(f"ID token rejected: {exc}", where="id_token") from exc
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise AuthError("ID token nonce does not match this login", where="id_token")
    username = claims.get(config.user_claim)
    if not isinstance(username, str) or not username:
        raise AuthError(f"ID token has no {config.user_claim!r} claim", where="id_token")
    return username
