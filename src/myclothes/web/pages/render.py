"""Rendering helpers shared by the pages: the header's cart count, flashes, problems, a form shown again with its
error, the add-to-cart confirmation, form parsing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.response import Redirect, Template

from myclothes.domain.cart import CartView
from myclothes.domain.catalog import PRICE_MAX, format_price
from myclothes.domain.errors import InvalidInput, ShopError, StoreUnavailable
from myclothes.domain.garments import colour_hex
from myclothes.ports import AddedToCart
from myclothes.services.sessions import ShopperSession
from myclothes.web.deps import shop_of, shopper_of
from myclothes.web.errors import status_of
from myclothes.web.requestlog import served


async def page(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    """Render ``template`` with what every page shows: who is logged in, the cart count, flashes, categories."""
    shop = shop_of(request)
    shopper = shopper_of(request)
    flashes, problem, added = shopper.take_notices()
    if problem is not None:
        context.setdefault("error", problem.message)
        context.setdefault("error_field", problem.field)
    context.setdefault("error", None)
    context.setdefault("error_field", None)
    categories = await shop.catalog.categories()
    garments = {category.slug: category.garment for category in categories}
    return Template(
        template_name=template,
        context={
            "customer": await shop.sessions.customer(shopper),
            "cart_count": await _cart_count(request),
            "flashes": flashes,
            "added": added,
            "site_url": str(request.base_url).rstrip("/"),
            "nav_categories": categories,
            "price": format_price,
            "colour_hex": colour_hex,
            "garment_of": lambda slug: garments.get(slug, "tshirt"),
            "path": request.url.path,
            "served": served(request),
            **context,
        },
        status_code=status_code,
    )


async def form_error(request: Request[Any, Any, Any], template: str, problem: ShopError, **context: Any) -> Template:
    """Show the form again with what was wrong (and the status the problem means)."""
    return await page(request, template, status_code=status_of(problem), error=str(problem), **context)


def confirm_added(shopper: ShopperSession, cart: CartView, sku: str, quantity: int) -> None:
    """Name what was just added on the next page, with the way to the cart."""
    line = next((line for line in cart.items if line.sku == sku), None)
    if line is None:
        shopper.flash("Added to your cart.")
        return
    shopper.confirm_added(AddedToCart(quantity, line.name, line.colour, line.size, line.quantity, cart.count))


async def form(request: Request[Any, Any, Any]) -> dict[str, str]:
    data = await request.form()
    return {key: str(value) for key, value in data.items() if isinstance(value, str)}


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: never redirect a shopper off the shop."""
    if not target:
        return default
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return default  # browsers read "/\evil.example" as "//evil.example"; control characters hide the same
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def redirect(to: str) -> Redirect:
    return Redirect(to, status_code=303)


def to_int(value: str | None, field: str, default: int | None = None) -> int | None:
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput("must be a whole number", field=field) from None


def to_cents(value: str | None, field: str) -> int | None:
    """A price typed in dollars (``12.50``) as cents."""
    if value is None or value.strip() == "":
        return None
    try:
        amount = float(value)
    except ValueError:
        raise InvalidInput("must be a price such as 12.50", field=field) from None
    if not 0 <= amount <= PRICE_MAX / 100:  # also refuses nan and inf
        raise InvalidInput(f"must be between 0 and {PRICE_MAX // 100}", field=field)
    return round(amount * 100)


async def _cart_count(request: Request[Any, Any, Any]) -> int | str:
    """The header's cart count; a dash when the cart store cannot be reached (the page still renders)."""
    shop = shop_of(request)
    try:
        shopper = shopper_of(request)
        cart_id = await shop.sessions.cart_id(shopper)
        return await shop.carts.count(cart_id, shopper.known_lines(cart_id))
    except StoreUnavailable:
        return "?"
