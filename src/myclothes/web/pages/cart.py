"""The cart page and its forms: add (from the product page's picker), change a quantity, remove."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from myclothes.domain.errors import ShopError, StoreUnavailable
from myclothes.services.catalog import CatalogService
from myclothes.services.sessions import ShopperSession
from myclothes.services.shopper_cart import ShopperCart
from myclothes.web.deps import shop_of
from myclothes.web.pages.picker import back_to_picker, picked_quantity, picked_sku
from myclothes.web.pages.render import confirm_added, form, page, redirect, safe_next, to_int


@get("/cart", include_in_schema=False)
async def cart_page(request: Request[Any, Any, Any], cart: ShopperCart) -> Template:
    return await page(request, "cart.html", cart=await cart.view())


@post("/cart/add", include_in_schema=False)
async def cart_add(request: Request[Any, Any, Any], cart: ShopperCart) -> Response[Any]:
    # The catalog is taken from the shop, not injected: Litestar resolves two or more dependencies of a handler in an
    # anyio task group, a task each (10% of this, the busiest form's, time), even when they are plain attributes.
    return redirect(await add_from_form(shop_of(request).catalog, cart, await form(request)))


async def add_from_form(catalog: CatalogService, cart: ShopperCart, data: dict[str, str]) -> str:
    """The add-to-cart form's change (``data``: its fields); where the shopper goes next. The fast lane
    (``web/fastlane.py``) answers this form with it too."""
    back = back_to_picker(safe_next(data.get("next"), "/cart"), data)

    async def add() -> None:
        sku = await picked_sku(catalog, data)
        quantity = picked_quantity(data.get("quantity"))
        confirm_added(cart.shopper, await cart.add(sku, quantity), sku, quantity)

    return await _change_cart(cart.shopper, add, back, done=back)


@post("/cart/update", include_in_schema=False)
async def cart_update(request: Request[Any, Any, Any], cart: ShopperCart) -> Response[Any]:
    data = await form(request)

    async def update() -> None:
        await cart.set_quantity(data.get("sku", ""), to_int(data.get("quantity"), "quantity", 0) or 0)
        cart.shopper.flash("Cart updated.")

    return redirect(await _change_cart(cart.shopper, update, safe_next(data.get("next"), "/cart")))


@post("/cart/remove", include_in_schema=False)
async def cart_remove(request: Request[Any, Any, Any], cart: ShopperCart) -> Response[Any]:
    data = await form(request)

    async def remove() -> None:
        if await cart.id():
            await cart.remove(data.get("sku", ""))
            cart.shopper.flash("Removed from your cart.")

    return redirect(await _change_cart(cart.shopper, remove, safe_next(data.get("next"), "/cart")))


async def _change_cart(
    shopper: ShopperSession, change: Callable[[], Awaitable[None]], back: str, done: str = "/cart"
) -> str:
    """Make the change and go on to ``done``; if the shop refuses it, go ``back`` saying why. An outage is not a
    refusal: it leaves as the friendly 503 page (nothing could be kept anyway)."""
    try:
        await change()
    except StoreUnavailable:
        raise
    except ShopError as problem:
        shopper.tell_problem(f"Could not update the cart: {problem.message}", problem.field)
        return back
    return done


handlers = [cart_page, cart_add, cart_update, cart_remove]
