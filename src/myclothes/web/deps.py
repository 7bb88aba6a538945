"""Request-scoped access to the shop, the session and the logged-in customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request

from myclothes.domain.customers import Customer
from myclothes.domain.errors import AuthenticationRequired, Forbidden, StoreUnavailable
from myclothes.web.session import ShopperSession

if TYPE_CHECKING:
    from myclothes.bootstrap import Shop


SESSION_UNAVAILABLE = "Your account is temporarily unavailable. Please try again in a few seconds."


def shop_of(request: Request[Any, Any, Any]) -> Shop:
    return request.app.state["shop"]  # type: ignore[no-any-return]


def session_of(request: Request[Any, Any, Any]) -> ShopperSession:
    return request.scope["state"]["shopper"]  # type: ignore[no-any-return]


async def customer_of(request: Request[Any, Any, Any]) -> Customer | None:
    """The logged-in customer, or None (also while the session store cannot be read: browse as a guest). Cached
    on the request."""
    state = request.scope["state"]
    if "customer" not in state:
        session = session_of(request)
        customer_id = session.customer_id
        state["customer"] = await shop_of(request).accounts.customer(customer_id) if customer_id else None
        if customer_id and state["customer"] is None:
            session.logout()  # the account is gone
    return state["customer"]  # type: ignore[no-any-return]


async def require_customer(request: Request[Any, Any, Any]) -> Customer:
    """The logged-in customer. While the session store cannot be read, who this is is unknown (not absent):
    ``StoreUnavailable`` (503, try again), never "log in first"."""
    customer = await customer_of(request)
    if customer is None:
        if session_of(request).unavailable:
            raise StoreUnavailable(SESSION_UNAVAILABLE)
        raise AuthenticationRequired("log in first")
    return customer


async def require_admin(request: Request[Any, Any, Any]) -> Customer:
    customer = await require_customer(request)
    if not customer.is_admin:
        raise Forbidden("admins only")
    return customer


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


async def cart_id_of(request: Request[Any, Any, Any]) -> str | None:
    """This shopper's cart key, if they have a cart; finishes a login merge that late guest writes reached."""
    session = session_of(request)
    if session.unavailable:
        raise StoreUnavailable("Your cart is temporarily unavailable. Please try again in a moment.")
    source = session.late_merge_source()
    target = session.cart_id
    if source and target and source != target:
        for message in await shop_of(request).carts.merge(source, target):
            session.flash(message)
    return target


async def writable_cart_id(request: Request[Any, Any, Any]) -> str:
    """This shopper's cart key, creating a guest cart if there is none yet."""
    return await cart_id_of(request) or session_of(request).ensure_cart_id()
