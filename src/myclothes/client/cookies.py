"""The browser's side of cookies and CSRF: which cookie holds the token, how it is echoed, how Set-Cookie applies.

The store sets the CSRF token in a cookie on the first answer and wants it back on every unsafe request, in the
``X-CSRFToken`` header (API) or the ``_csrf_token`` form field (HTML forms). With Secure cookies both cookie names
carry the ``__Host-`` prefix.
"""

from __future__ import annotations

import http.cookiejar
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

CSRF_COOKIES = ("csrftoken", "__Host-csrftoken")
SESSION_COOKIES = ("myclothes_session", "__Host-myclothes_session")
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "_csrf_token"


def _first(cookies: Mapping[str, str], names: Iterable[str]) -> str | None:
    return next((value for name in names if (value := cookies.get(name))), None)


def csrf_token(cookies: Mapping[str, str]) -> str:
    """The CSRF token the store set in ``cookies`` ("" before the first answer)."""
    return _first(cookies, CSRF_COOKIES) or ""


def session_cookie(cookies: Mapping[str, str]) -> str | None:
    """The session cookie's value, if the store has set one."""
    return _first(cookies, SESSION_COOKIES)


def csrf_header(cookies: Mapping[str, str]) -> dict[str, str]:
    """The header that echoes the token on an unsafe API request."""
    return {CSRF_HEADER: csrf_token(cookies)}


def csrf_field(cookies: Mapping[str, str]) -> dict[str, str]:
    """The hidden form field that echoes the token, as a browser submits an HTML form."""
    return {CSRF_FIELD: csrf_token(cookies)}


def cookie_header(cookies: Mapping[str, str]) -> str:
    """The ``Cookie`` header a browser holding ``cookies`` sends."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def take_cookies(cookies: MutableMapping[str, str], set_cookie: Iterable[str]) -> None:
    """Apply Set-Cookie header values to a shopper's ``cookies``, deletions (empty, expired) included."""
    for header in set_cookie:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        value = value.strip('"')
        lowered = attributes.lower().replace(" ", "")
        if not value or "max-age=0" in lowered or "expires=thu,01jan1970" in lowered:
            cookies.pop(name, None)
        else:
            cookies[name] = value


def no_cookie_jar() -> http.cookiejar.CookieJar:
    """A jar that keeps nothing: for an HTTP client shared by shoppers that each keep their own cookies."""

    class Refuse(http.cookiejar.DefaultCookiePolicy):
        def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
            return False

    return http.cookiejar.CookieJar(policy=Refuse())
