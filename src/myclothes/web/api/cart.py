"""The cart of whoever holds the session (guest or customer)."""

from __future__ import annotations

from typing import Any

from litestar import delete, get, post, put

from myclothes.services.shopper_cart import ShopperCart
from myclothes.web.api.schemas import KEY, CartAdd, CartSet, cart_json
from myclothes.web.contract import refusals


@get("/cart", tags=["cart"], responses=refusals())
async def view_cart(cart: ShopperCart) -> dict[str, Any]:
    return cart_json(await cart.view())


@post("/cart/items", tags=["cart"], status_code=200, responses=refusals(409, unsafe=True, body=True))
async def add_item(data: CartAdd, cart: ShopperCart) -> dict[str, Any]:
    """Add ``quantity`` (1..99) of ``sku``; returns the cart."""
    return cart_json(await cart.add(data.sku, data.quantity))


@put("/cart/items/{sku:str}", tags=["cart"], responses=refusals(409, unsafe=True, body=True))
async def set_item(data: CartSet, cart: ShopperCart, sku: str = KEY) -> dict[str, Any]:
    """Set a line's quantity (0 removes it); returns the cart."""
    return cart_json(await cart.set_quantity(sku, data.quantity))


@delete("/cart/items/{sku:str}", tags=["cart"], status_code=200, responses=refusals(unsafe=True))
async def remove_item(cart: ShopperCart, sku: str = KEY) -> dict[str, Any]:
    return cart_json(await cart.remove(sku))


handlers = [view_cart, add_item, set_item, remove_item]
