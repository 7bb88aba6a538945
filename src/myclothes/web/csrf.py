"""CSRF protection that survives a key rotation, and cookie names that a sibling domain cannot set.

Litestar's CSRF middleware signs the token in the ``csrftoken`` cookie with one secret. We rotate
``MYCLOTHES_SECRET_KEYS`` by putting a new key first and keeping the old ones for a while; with one secret, every
browser holding a cookie signed with the old key had every form refused until it dropped the cookie (closed the
browser). Here a token signed with *any* configured key is accepted, and a page fetched with a cookie that the first
key did not sign (an older key's, or a forged one) gets a fresh cookie signed with the first key: its forms carry
the new token from then on.

With ``MYCLOTHES_COOKIE_SECURE`` the session and CSRF cookies carry the ``__Host-`` prefix: browsers accept such a
cookie only from a secure origin, for the exact host and path ``/``, so a neighbour on a sibling subdomain cannot
plant one (cookie tossing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hmac import compare_digest
from typing import Any, cast

from litestar.config.csrf import CSRFConfig
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, CSRFMiddleware, generate_csrf_hash
from litestar.types import ASGIApp, Empty, HTTPResponseStartEvent, HTTPScope, HTTPSendMessage, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

CSRF_COOKIE = "csrftoken"
# A handler's ``opt`` for answers that never carry a form and are never followed by one (probes, metrics, static
# files): the CSRF middleware skips them, so they mint no token and set no cookie (a cookieless probe paid for an
# HMAC-signed token and a Set-Cookie on every call).
NO_CSRF_COOKIE = {"exclude_from_csrf": True}
SESSION_COOKIE = "myclothes_session"
EMPTY_VALUE = '""'
HOST_PREFIX = "__Host-"


def set_cookie_header(name: str, secure: bool) -> Callable[[str, int | None], tuple[bytes, bytes]]:
    """``Set-Cookie`` for the shop's cookies, written as Litestar's ``Cookie`` writes them (HttpOnly, Path=/,
    SameSite=lax, Secure on HTTPS) for values that need no quoting (hex tokens, URL-safe ids, or empty), without
    ``http.cookies`` (its ``SimpleCookie`` was 11% of a cookieless GET)."""
    tail = "; Path=/; SameSite=lax" + ("; Secure" if secure else "")

    def header(value: str, max_age: int | None = None) -> tuple[bytes, bytes]:
        age = "" if max_age is None else f"; Max-Age={max_age}"
        return b"set-cookie", f"{name}={value or EMPTY_VALUE}; HttpOnly{age}{tail}".encode("latin-1")

    return header


def cookie_names(secure: bool) -> tuple[str, str]:
    """(session cookie, CSRF cookie): with the ``__Host-`` prefix when the cookies are Secure."""
    prefix = HOST_PREFIX if secure else ""
    return prefix + SESSION_COOKIE, prefix + CSRF_COOKIE


def csrf_config(secret_keys: Sequence[str], secure: bool) -> CSRFConfig:
    return CSRFConfig(
        secret=secret_keys[0],
        cookie_name=cookie_names(secure)[1],
        cookie_path="/",
        header_name="x-csrftoken",
        cookie_httponly=True,
        cookie_samesite="lax",
        cookie_secure=secure,
    )


class RotatingCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF middleware, verifying against every key and re-issuing cookies the first key did not sign."""

    def __init__(self, app: ASGIApp, config: CSRFConfig, secrets: Sequence[str]) -> None:
        super().__init__(app, config)
        self.secrets = tuple(secrets)
        self._set_cookie = set_cookie_header(config.cookie_name, config.cookie_secure)

    def _set_cookie_if_needed(self, message: HTTPSendMessage, token: str) -> None:
        start = cast("HTTPResponseStartEvent", message)
        start["headers"] = [*start.get("headers", ()), self._set_cookie(token, None)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and cast("HTTPScope", scope)["method"] in self.config.safe_methods:
            cookie = scope_cookies(scope).get(self.config.cookie_name)
            if cookie is not None and verified_token(cookie, self.secrets[:1]) is None:
                _drop_cookie(scope, self.config.cookie_name)  # the page gets a new token, signed with the first key
        await super().__call__(scope, receive, send)

    def _decode_csrf_token(self, token: str) -> str | None:
        return verified_token(token, self.secrets)


def verified_token(token: str, secrets: Sequence[str]) -> str | None:
    """The token's random part when one of ``secrets`` signed it.

    Answers for tokens of a token's usual size are remembered (``VERIFIED_KEPT`` of them, forgotten all at once
    when full): a shopper sends the same token with every request, and its HMAC, checked once or twice per cart
    request, was 2-3% of one."""
    key = (token, secrets if isinstance(secrets, tuple) else tuple(secrets))
    known = _verified.get(key, _UNKNOWN)
    if known is not _UNKNOWN:
        return known
    found = None
    if len(token) >= CSRF_SECRET_LENGTH + 1:
        random_part, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        for secret in secrets:
            if compare_digest(signature, generate_csrf_hash(token=random_part, secret=secret)):
                found = random_part
                break
    if len(token) <= REMEMBERED_LENGTH_MAX:
        if len(_verified) >= VERIFIED_KEPT:
            _verified.clear()
        _verified[key] = found
    return found


VERIFIED_KEPT = 10_000
REMEMBERED_LENGTH_MAX = 256  # a token is CSRF_SECRET_LENGTH characters and a 64-digit signature
_UNKNOWN: Any = object()
_verified: dict[tuple[str, tuple[str, ...]], str | None] = {}


def scope_cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies, read straight from the scope's headers (the first of a name wins)."""
    found: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, cookie_value = part.strip().partition("=")
                if name and cookie_value and name not in found:
                    found[name] = cookie_value.strip('"')
    return found


def _drop_cookie(scope: Scope, name: str) -> None:
    headers = []
    for key, value in scope["headers"]:
        if key == b"cookie":
            kept = [p for p in value.decode("latin-1").split(";") if p.strip().partition("=")[0] != name]
            value = ";".join(kept).strip().encode("latin-1")
            if not value:
                continue
        headers.append((key, value))
    scope["headers"] = headers
    state = ScopeState.from_scope(scope)
    state.headers = state.cookies = Empty  # parsed again from the new headers, if they were parsed already
