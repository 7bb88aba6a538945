"""Register, log in, log out, and the account's overview page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from myclothes.domain.customers import Customer
from myclothes.domain.errors import ShopError
from myclothes.services.accounts import AccountService
from myclothes.services.checkout import CheckoutService
from myclothes.services.sessions import SessionService, ShopperSession
from myclothes.web.deps import client_ip, customers_only
from myclothes.web.pages.render import form, form_error, page, redirect, safe_next


@get("/account/register", include_in_schema=False)
async def register_form(request: Request[Any, Any, Any], next: str | None = None) -> Template:
    return await page(request, "register.html", values={}, next=safe_next(next, "/account"))


@post("/account/register", include_in_schema=False)
async def register(
    request: Request[Any, Any, Any], accounts: AccountService, sessions: SessionService, shopper: ShopperSession
) -> Response[Any]:
    data = await form(request)
    target = safe_next(data.get("next"), "/account")
    try:
        customer = await accounts.register(data.get("email", ""), data.get("password", ""), data.get("name", ""))
    except ShopError as problem:
        values = {"email": data.get("email", ""), "name": data.get("name", "")}
        return await form_error(request, "register.html", problem, values=values, next=target)
    return await _welcome(sessions, shopper, customer, f"Welcome to MyClothes, {customer.name}!", target)


@get("/account/login", include_in_schema=False)
async def login_form(request: Request[Any, Any, Any], next: str | None = None) -> Template:
    return await page(request, "login.html", values={}, next=safe_next(next, "/account"))


@post("/account/login", include_in_schema=False)
async def login(
    request: Request[Any, Any, Any], accounts: AccountService, sessions: SessionService, shopper: ShopperSession
) -> Response[Any]:
    data = await form(request)
    target = safe_next(data.get("next"), "/account")
    try:
        customer = await accounts.login(data.get("email", ""), data.get("password", ""), client_ip(request))
    except ShopError as problem:
        return await form_error(request, "login.html", problem, values={"email": data.get("email", "")}, next=target)
    return await _welcome(sessions, shopper, customer, f"Welcome back, {customer.name}.", target)


async def _welcome(
    sessions: SessionService, shopper: ShopperSession, customer: Customer, greeting: str, target: str
) -> Response[Any]:
    """Log in, greet, say what the guest cart brought, and go on to ``target``."""
    merged = await sessions.login(shopper, customer)
    for message in (greeting, *merged):
        shopper.flash(message)
    return redirect(target)


@post("/account/logout", include_in_schema=False)
async def logout(sessions: SessionService, shopper: ShopperSession) -> Redirect:
    await sessions.logout(shopper)
    return redirect("/")


@get("/account", include_in_schema=False, guards=[customers_only])
async def account(
    request: Request[Any, Any, Any], customer: Customer, accounts: AccountService, orders: CheckoutService
) -> Template:
    addresses = await accounts.addresses(customer.id)
    placed = await orders.orders(customer.id)
    return await page(request, "account.html", addresses=addresses, orders=placed[:5])


handlers = [register_form, register, login_form, login, logout, account]
