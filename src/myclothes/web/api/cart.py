"""The cart of whoever holds the session (guest or customer)."""

from __future__ import annotations

from typing import Any

from litestar import delete, get, post, put

from myclothes.services.cart import CartService
from myclothes.services.sessions import SessionService, ShopperSession
from myclothes.web.api.schemas import CartAdd, CartSet, cart_json


@get("/cart", tags=["cart"])
async def view_cart(carts: CartService, sessions: SessionService, shopper: ShopperSession) -> dict[str, Any]:
    return cart_json(await carts.view(await sessions.cart_id(shopper)))


@post("/cart/items", tags=["cart"], status_code=200)
async def add_item(
    data: CartAdd, carts: CartService, sessions: SessionService, shopper: ShopperSession
) -> dict[str, Any]:
    """Add ``quantity`` (1..99) of ``sku``; returns the cart."""
    cart_id = await sessions.writable_cart_id(shopper)
    return cart_json(await carts.add(cart_id, data.sku, data.quantity))


@put("/cart/items/{sku:str}", tags=["cart"])
async def set_item(
    sku: str, data: CartSet, carts: CartService, sessions: SessionService, shopper: ShopperSession
) -> dict[str, Any]:
    """Set a line's quantity (0 removes it); returns the cart."""
    cart_id = await sessions.writable_cart_id(shopper)
    return cart_json(await carts.set_quantity(cart_id, sku, data.quantity))


@delete("/cart/items/{sku:str}", tags=["cart"], status_code=200)
async def remove_item(
    sku: str, carts: CartService, sessions: SessionService, shopper: ShopperSession
) -> dict[str, Any]:
    cart_id = await sessions.cart_id(shopper)
    if cart_id is None:
        return cart_json(await carts.view(None))
    return cart_json(await carts.remove(cart_id, sku))


handlers = [view_cart, add_item, set_item, remove_item]
