"""The cart of whoever holds the session (guest or customer)."""

from __future__ import annotations

from typing import Any

from litestar import delete, get, post, put

from myclothes.services.shopper_cart import ShopperCart
from myclothes.web.api.schemas import CartAdd, CartSet, cart_json


@get("/cart", tags=["cart"])
async def view_cart(cart: ShopperCart) -> dict[str, Any]:
    return cart_json(await cart.view())


@post("/cart/items", tags=["cart"], status_code=200)
async def add_item(data: CartAdd, cart: ShopperCart) -> dict[str, Any]:
    """Add ``quantity`` (1..99) of ``sku``; returns the cart."""
    return cart_json(await cart.add(data.sku, data.quantity))


@put("/cart/items/{sku:str}", tags=["cart"])
async def set_item(sku: str, data: CartSet, cart: ShopperCart) -> dict[str, Any]:
    """Set a line's quantity (0 removes it); returns the cart."""
    return cart_json(await cart.set_quantity(sku, data.quantity))


@delete("/cart/items/{sku:str}", tags=["cart"], status_code=200)
async def remove_item(sku: str, cart: ShopperCart) -> dict[str, Any]:
    return cart_json(await cart.remove(sku))


handlers = [view_cart, add_item, set_item, remove_item]
