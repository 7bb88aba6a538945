"""The cart page and its forms: add (from the product page's picker), change a quantity, remove."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from myclothes.domain.errors import ShopError, StoreUnavailable
from myclothes.services.cart import CartService
from myclothes.services.catalog import CatalogService
from myclothes.services.sessions import SessionService, ShopperSession
from myclothes.web.pages.picker import back_to_picker, picked_quantity, picked_sku
from myclothes.web.pages.render import confirm_added, form, page, redirect, safe_next, to_int


@get("/cart", include_in_schema=False)
async def cart(
    request: Request[Any, Any, Any], carts: CartService, sessions: SessionService, shopper: ShopperSession
) -> Template:
    view = await carts.view(await sessions.cart_id(shopper))
    return await page(request, "cart.html", cart=view)


@post("/cart/add", include_in_schema=False)
async def cart_add(
    request: Request[Any, Any, Any],
    catalog: CatalogService,
    carts: CartService,
    sessions: SessionService,
    shopper: ShopperSession,
) -> Response[Any]:
    data = await form(request)
    back = back_to_picker(safe_next(data.get("next"), "/cart"), data)

    async def add() -> None:
        sku = await picked_sku(catalog, data)
        quantity = picked_quantity(data.get("quantity"))
        view = await carts.add(await sessions.writable_cart_id(shopper), sku, quantity)
        confirm_added(shopper, view, sku, quantity)

    return await _change_cart(shopper, add, back, done=back)


@post("/cart/update", include_in_schema=False)
async def cart_update(
    request: Request[Any, Any, Any], carts: CartService, sessions: SessionService, shopper: ShopperSession
) -> Response[Any]:
    data = await form(request)

    async def update() -> None:
        quantity = to_int(data.get("quantity"), "quantity", 0) or 0
        await carts.set_quantity(await sessions.writable_cart_id(shopper), data.get("sku", ""), quantity)
        shopper.flash("Cart updated.")

    return await _change_cart(shopper, update, safe_next(data.get("next"), "/cart"))


@post("/cart/remove", include_in_schema=False)
async def cart_remove(
    request: Request[Any, Any, Any], carts: CartService, sessions: SessionService, shopper: ShopperSession
) -> Response[Any]:
    data = await form(request)

    async def remove() -> None:
        if cart_id := await sessions.cart_id(shopper):
            await carts.remove(cart_id, data.get("sku", ""))
            shopper.flash("Removed from your cart.")

    return await _change_cart(shopper, remove, safe_next(data.get("next"), "/cart"))


async def _change_cart(
    shopper: ShopperSession, change: Callable[[], Awaitable[None]], back: str, done: str = "/cart"
) -> Response[Any]:
    """Make the change and go on to ``done``; if the shop refuses it, go ``back`` saying why. An outage is not a
    refusal: it leaves as the friendly 503 page (nothing could be kept anyway)."""
    try:
        await change()
    except StoreUnavailable:
        raise
    except ShopError as problem:
        shopper.tell_problem(f"Could not update the cart: {problem.message}", problem.field)
        return redirect(back)
    return redirect(done)


handlers = [cart, cart_add, cart_update, cart_remove]
