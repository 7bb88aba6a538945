"""CSRF tokens are checked against the configured keys, and the answers remembered stay the right answers."""

from __future__ import annotations

from litestar.middleware.csrf import generate_csrf_token

from myclothes.web import csrf
from myclothes.web.csrf import verified_token


def test_a_token_is_verified_by_the_key_that_signed_it_and_by_no_other_remembered_or_not() -> None:
    old, new = "old-key-" + "x" * 24, "new-key-" + "y" * 24
    token = generate_csrf_token(old)
    for _ in range(2):  # the first answer is computed, the second remembered: the same both times
        assert verified_token(token, (old,)) == token[: csrf.CSRF_SECRET_LENGTH]
        assert verified_token(token, [new, old]) == token[: csrf.CSRF_SECRET_LENGTH]  # rotated: still accepted
        assert verified_token(token, (new,)) is None  # the first key alone (a new token is minted) refuses it
        assert verified_token(token[:-1] + ("0" if token[-1] != "0" else "1"), (old,)) is None  # tampered
        assert verified_token("short", (old,)) is None
    assert (token, (new,)) in csrf._verified


def test_what_is_remembered_is_bounded_in_count_and_in_size(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(csrf, "_verified", {})
    monkeypatch.setattr(csrf, "VERIFIED_KEPT", 3)
    key = "k" * 32
    for n in range(7):
        assert verified_token(f"{n:0>70}", (key,)) is None
        assert len(csrf._verified) <= 3
    huge = generate_csrf_token(key) + "0" * 10_000
    assert verified_token(huge, (key,)) is None
    assert all(len(token) <= csrf.REMEMBERED_LENGTH_MAX for token, _ in csrf._verified)
