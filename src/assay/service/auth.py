"""Who may write: API clients with a bearer token, browsers with a session made from a token.
Sessions live in a signed cookie; every form post carries the session's CSRF token."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from assay.store import Store


@dataclass(frozen=True)
class Principal:
    user_id: int
    user_name: str
    token_id: int


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def require_token(request: Request) -> Principal:
    """401 with a WWW-Authenticate challenge for every failure (RFC 6750): no credentials,
    a malformed header, an unknown or tampered token, a revoked token."""
    header = request.headers.get("authorization")
    if header is None:
        raise _unauthorized("authentication required: send 'Authorization: Bearer <token>'", None)
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise _unauthorized("malformed Authorization header: expected 'Bearer <token>'", "invalid_request")
    check = await run_in_threadpool(store_of(request).verify_token, token)
    if check.status == "revoked":
        raise _unauthorized("token revoked", "invalid_token")
    if check.status != "ok" or check.user_id is None or check.token_id is None:
        raise _unauthorized("invalid token", "invalid_token")
    return Principal(check.user_id, check.user_name or "", check.token_id)


def _unauthorized(message: str, error: str | None) -> HTTPException:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return HTTPException(401, message, headers={"WWW-Authenticate": challenge})


def session_user(request: Request) -> Principal | None:
    """The signed-in user, re-checked against the token on every request so revoking a token
    also ends the browser sessions made from it. Blocking: call from sync handlers."""
    token_id = request.session.get("tid")
    if not isinstance(token_id, int):
        return None
    check = store_of(request).token_active(token_id)
    if check.status != "ok" or check.user_id is None:
        request.session.pop("tid", None)
        return None
    return Principal(check.user_id, check.user_name or "", token_id)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: object) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not isinstance(submitted, str) or not submitted:
        raise HTTPException(403, "missing CSRF token; reload the page and try again")
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise HTTPException(403, "bad CSRF token; reload the page and try again")
