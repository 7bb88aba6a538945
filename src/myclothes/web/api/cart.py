"""The cart of whoever holds the session (guest or customer)."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, post, put

from myclothes.web.api.schemas import CartAdd, CartSet, cart_json
from myclothes.web.deps import cart_id_of, shop_of, writable_cart_id


@get("/cart", tags=["cart"])
async def view_cart(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return cart_json(await shop_of(request).carts.view(await cart_id_of(request)))


@post("/cart/items", tags=["cart"], status_code=200)
async def add_item(request: Request[Any, Any, Any], data: CartAdd) -> dict[str, Any]:
    """Add ``quantity`` (1..99) of ``sku``; returns the cart."""
    cart_id = await writable_cart_id(request)
    return cart_json(await shop_of(request).carts.add(cart_id, data.sku, data.quantity))


@put("/cart/items/{sku:str}", tags=["cart"])
async def set_item(request: Request[Any, Any, Any], sku: str, data: CartSet) -> dict[str, Any]:
    """Set a line's quantity (0 removes it); returns the cart."""
    cart_id = await writable_cart_id(request)
    return cart_json(await shop_of(request).carts.set_quantity(cart_id, sku, data.quantity))


@delete("/cart/items/{sku:str}", tags=["cart"], status_code=200)
async def remove_item(request: Request[Any, Any, Any], sku: str) -> dict[str, Any]:
    cart_id = await cart_id_of(request)
    shop = shop_of(request)
    if cart_id is None:
        return cart_json(await shop.carts.view(None))
    return cart_json(await shop.carts.remove(cart_id, sku))


handlers = [view_cart, add_item, set_item, remove_item]
