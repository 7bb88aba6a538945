"""Register, log in, log out. Login rotates the session id and merges the guest cart."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from myclothes.domain.customers import Customer
from myclothes.web.api.schemas import Login, Register
from myclothes.web.deps import client_ip, session_of, shop_of


async def start_session(request: Request[Any, Any, Any], customer: Customer) -> list[str]:
    """Log ``customer`` in on this request: merge the guest cart, rotate the session id."""
    session = session_of(request)
    guest_cart = session.login(customer.id)
    request.scope["state"]["customer"] = customer
    if guest_cart is None or session.cart_id is None:
        return []
    return await shop_of(request).carts.merge(guest_cart, session.cart_id)


async def end_session(request: Request[Any, Any, Any]) -> None:
    """Log out: the server-side session dies; a cart kept in the browser is emptied too (shared computers)."""
    session = session_of(request)
    if session.cart_per_browser and session.customer_id is not None and session.cart_id:
        await shop_of(request).carts.clear(session.cart_id)
    session.logout()


def customer_json(customer: Customer) -> dict[str, Any]:
    return {"id": customer.id, "email": customer.email, "name": customer.name, "is_admin": customer.is_admin}


@post("/auth/register", tags=["auth"], status_code=201)
async def register(request: Request[Any, Any, Any], data: Register) -> dict[str, Any]:
    """Create an account and log in."""
    customer = await shop_of(request).accounts.register(data.email, data.password, data.name)
    merged = await start_session(request, customer)
    return {"customer": customer_json(customer), "merged": merged}


@post("/auth/login", tags=["auth"], status_code=200)
async def login(request: Request[Any, Any, Any], data: Login) -> dict[str, Any]:
    """Log in; ``merged`` says what the guest cart added to the account's cart."""
    customer = await shop_of(request).accounts.login(data.email, data.password, client_ip(request))
    merged = await start_session(request, customer)
    return {"customer": customer_json(customer), "merged": merged}


@post("/auth/logout", tags=["auth"], status_code=200)
async def logout(request: Request[Any, Any, Any]) -> dict[str, str]:
    await end_session(request)
    return {"status": "logged out"}


handlers = [register, login, logout]
