"""The cart cookie's sealing: authenticated, expiring, rotating keys."""

from __future__ import annotations

import pytest

from myclothes.carts.cookie import CartCookieCodec, CookieRejected, set_cookie_header
from myclothes.domain.cart import CartLine

LINES = [CartLine("MC000001-NAVY-M", 2), CartLine("MC000002-RED-L", 1)]
KEY, OTHER = "first-secret-key-000000000", "other-secret-key-00000000"


def test_a_sealed_cart_opens_to_the_same_lines() -> None:
    codec = CartCookieCodec((KEY,), lifetime_s=60)
    assert codec.open(codec.seal(LINES, now=1000), now=1059) == LINES


def test_sealing_is_randomised() -> None:
    codec = CartCookieCodec((KEY,), lifetime_s=60)
    assert codec.seal(LINES, now=1000) != codec.seal(LINES, now=1000)


def test_an_expired_cookie_is_rejected_as_expired() -> None:
    codec = CartCookieCodec((KEY,), lifetime_s=60)
    with pytest.raises(CookieRejected) as rejected:
        codec.open(codec.seal(LINES, now=1000), now=1060)
    assert rejected.value.reason == "expired"


def test_the_expiry_cannot_be_edited_because_it_is_authenticated() -> None:
    codec = CartCookieCodec((KEY,), lifetime_s=60)
    sealed = codec.seal(LINES, now=1000)
    for index in range(len(sealed)):
        flipped = sealed[:index] + ("A" if sealed[index] != "A" else "B") + sealed[index + 1 :]
        with pytest.raises(CookieRejected):
            codec.open(flipped, now=1000)


def test_rotation_first_key_seals_all_keys_open() -> None:
    old = CartCookieCodec((OTHER,), lifetime_s=60)
    rotated = CartCookieCodec((KEY, OTHER), lifetime_s=60)
    assert rotated.open(old.seal(LINES, now=0), now=1) == LINES
    with pytest.raises(CookieRejected):
        old.open(rotated.seal(LINES, now=0), now=1)


def test_the_header_carries_the_flags() -> None:
    header = set_cookie_header("v", 60, secure=True)
    assert header == "myclothes_cart=v; Max-Age=60; Path=/; SameSite=Lax; HttpOnly; Secure"


def test_a_full_cart_of_seeded_skus_fits_in_a_cookie() -> None:
    codec = CartCookieCodec((KEY,), lifetime_s=60)
    lines = [CartLine(f"MC{n:06d}-BURGUNDY-XXL", 99) for n in range(100)]
    assert len(set_cookie_header(codec.seal(lines, now=0), 60, secure=True)) < 4096
