"""The fast lane's cart answer (``EncodedCart``): the bytes msgspec gives for ``cart_json``, each line's item encoded
once and reused while the cart service hands back the same line object."""

from __future__ import annotations

import msgspec

from myclothes.domain.cart import CartView, PricedLine
from myclothes.web.api.schemas import EncodedCart, cart_json


def _line(n: int, quantity: int = 1) -> PricedLine:
    return PricedLine(f"SKU-{n}", f'Café “{n}” \\ " \x01', f"tee-{n}", "M", "Navy", 1999 + n, quantity, 5)


def test_the_bytes_are_msgspecs_for_every_cart_shape() -> None:
    encoded = EncodedCart(kept=3)  # smaller than the carts: the kept items are dropped and encoded again
    lines = [_line(n, n + 1) for n in range(6)]
    for view in (CartView([]), CartView(lines[:1]), CartView(lines), CartView(lines[2:]), CartView(lines)):
        assert encoded(view) == msgspec.json.encode(cart_json(view))


def test_a_changed_line_is_a_new_object_and_is_encoded_anew() -> None:
    encoded = EncodedCart()
    first = _line(1, 2)
    assert b'"quantity":2' in encoded(CartView([first]))
    changed = PricedLine(first.sku, first.name, first.slug, first.size, first.colour, first.unit_price, 3, first.stock)
    again = encoded(CartView([first, changed]))
    assert again == msgspec.json.encode(cart_json(CartView([first, changed])))
    assert b'"quantity":3,"line_total":6000' in again and b'"count":5' in again
