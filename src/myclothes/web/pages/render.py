"""Rendering helpers shared by the pages: the header's cart count, flashes, problems, the add-to-cart confirmation,
form parsing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.response import Redirect, Template

from myclothes.domain.cart import CartView
from myclothes.domain.catalog import format_price
from myclothes.domain.errors import InvalidInput, StoreUnavailable
from myclothes.domain.garments import colour_hex
from myclothes.web.deps import cart_id_of, customer_of, session_of, shop_of
from myclothes.web.session import ShopperSession


async def page(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    """Render ``template`` with what every page shows: who is logged in, the cart count, flashes, categories."""
    shop = shop_of(request)
    session = session_of(request)
    flashes = session.pop("flash", []) or []
    problem = session.pop("problem", None) or {}
    context.setdefault("error", problem.get("message"))
    context.setdefault("error_field", problem.get("field"))
    categories = await shop.catalog.categories()
    garments = {category.slug: category.garment for category in categories}
    return Template(
        template_name=template,
        context={
            "customer": await customer_of(request),
            "cart_count": await _cart_count(request),
            "flashes": flashes,
            "added": session.pop("added", None),
            "site_url": str(request.base_url).rstrip("/"),
            "nav_categories": categories,
            "price": format_price,
            "colour_hex": colour_hex,
            "garment_of": lambda slug: garments.get(slug, "tshirt"),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


def tell_problem(session: ShopperSession, message: str, field: str | None = None) -> None:
    """Show ``message`` as an alert on the next page (after a redirect); ``field`` says which control it is about."""
    session.set("problem", {"message": message, "field": field})


def confirm_added(session: ShopperSession, cart: CartView, sku: str, quantity: int) -> None:
    """Name what was just added on the next page, with the way to the cart."""
    line = next((line for line in cart.items if line.sku == sku), None)
    if line is None:
        session.flash("Added to your cart.")
        return
    session.set(
        "added",
        {
            "quantity": quantity,
            "name": line.name,
            "colour": line.colour,
            "size": line.size,
            "in_cart": line.quantity,
            "cart_count": cart.count,
        },
    )


async def form(request: Request[Any, Any, Any]) -> dict[str, str]:
    data = await request.form()
    return {key: str(value) for key, value in data.items() if isinstance(value, str)}


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: never redirect a shopper off the shop."""
    if not target:
        return default
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
    if amount < 0 or amount > 100000:
        raise InvalidInput("must be between 0 and 100000", field=field)
    return round(amount * 100)


async def _cart_count(request: Request[Any, Any, Any]) -> int | str:
    """The header's cart count; a dash when the cart store cannot be reached (the page still renders)."""
    try:
        return await shop_of(request).carts.count(await cart_id_of(request))
    except StoreUnavailable:
        return "?"
