"""The shop writes its Set-Cookie headers by hand (``web/csrf.set_cookie_header``): byte for byte what Litestar's
``Cookie`` writes for the same cookie, Secure and ``__Host-`` included."""

from __future__ import annotations

import secrets

import pytest
from litestar.datastructures import Cookie

from myclothes.web.csrf import cookie_names, set_cookie_header


@pytest.mark.parametrize("secure", [False, True])
@pytest.mark.parametrize("max_age", [None, 0, 2_592_000])
@pytest.mark.parametrize("value", ["", secrets.token_urlsafe(32), secrets.token_hex(32) + "f00d"])
def test_a_hand_written_set_cookie_is_litestars(secure: bool, max_age: int | None, value: str) -> None:
    for name in cookie_names(secure):
        expected = Cookie(
            key=name, value=value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure
        ).to_header(header="")
        assert set_cookie_header(name, secure)(value, max_age) == (b"set-cookie", expected.encode("latin-1"))
