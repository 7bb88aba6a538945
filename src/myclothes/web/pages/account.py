"""Register, log in, log out, and the account's overview page."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class _FormPage:
    """A register or login form."""

    template: str
    kept: tuple[str, ...]  # the fields shown again after a problem (never the password)
    greeting: str  # the flash after success, with ``{name}``


REGISTER = _FormPage("register.html", kept=("email", "name"), greeting="Welcome to MyClothes, {name}!")
LOGIN = _FormPage("login.html", kept=("email",), greeting="Welcome back, {name}.")


@get("/account/register", include_in_schema=False)
async def register_form(request: Request[Any, Any, Any], next: str | None = None) -> Template:
    return await page(request, "register.html", values={}, next=safe_next(next, "/account"))


@get("/account/login", include_in_schema=False)
async def login_form(request: Request[Any, Any, Any], next: str | None = None) -> Template:
    return await page(request, "login.html", values={}, next=safe_next(next, "/account"))


@post("/account/register", include_in_schema=False)
async def register(
    request: Request[Any, Any, Any], accounts: AccountService, sessions: SessionService, shopper: ShopperSession
) -> Response[Any]:
    data = await form(request)
    attempt = accounts.register(
        data.get("email", ""), data.get("password", ""), data.get("name", ""), ip=client_ip(request)
    )
    return await _sign_in(request, sessions, shopper, attempt, REGISTER, data)


@post("/account/login", include_in_schema=False)
async def login(
    request: Request[Any, Any, Any], accounts: AccountService, sessions: SessionService, shopper: ShopperSession
) -> Response[Any]:
    data = await form(request)
    attempt = accounts.login(data.get("email", ""), data.get("password", ""), client_ip(request))
    return await _sign_in(request, sessions, shopper, attempt, LOGIN, data)


async def _sign_in(
    request: Request[Any, Any, Any],
    sessions: SessionService,
    shopper: ShopperSession,
    attempt: Awaitable[Customer],
    form_page: _FormPage,
    data: dict[str, str],
) -> Response[Any]:
    """Register or log in (``attempt``): on success log in, greet, say what the guest cart brought and go on to the
    form's ``next``; on a problem show the form again with its error and what was typed (never the password)."""
    target = safe_next(data.get("next"), "/account")
    try:
        customer = await attempt
    except ShopError as problem:
        values = {key: data.get(key, "") for key in form_page.kept}
        return await form_error(request, form_page.template, problem, values=values, next=target)
    for message in (form_page.greeting.format(name=customer.name), *await sessions.login(shopper, customer)):
        shopper.flash(message)
    return redirect(target)


@post("/account/logout", include_in_schema=False)
async def logout(sessions: SessionService, shopper: ShopperSession) -> Redirect:
    await sessions.logout(shopper)
    return redirect("/")


@get("/account/password", include_in_schema=False, guards=[customers_only])
async def password_form(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "password.html")


@post("/account/password", include_in_schema=False, guards=[customers_only])
async def change_password(
    request: Request[Any, Any, Any], sessions: SessionService, shopper: ShopperSession
) -> Response[Any]:
    data = await form(request)
    try:
        await sessions.change_password(
            shopper, data.get("current_password", ""), data.get("new_password", ""), client_ip(request)
        )
    except ShopError as problem:
        return await form_error(request, "password.html", problem)
    shopper.flash("Your password was changed. Your other devices are logged out.")
    return redirect("/account")


@get("/account", include_in_schema=False, guards=[customers_only])
async def account(
    request: Request[Any, Any, Any], customer: Customer, accounts: AccountService, orders: CheckoutService
) -> Template:
    addresses = await accounts.addresses(customer.id)
    placed = await orders.orders(customer.id)
    return await page(request, "account.html", addresses=addresses, orders=placed[:5])


handlers = [register_form, login_form, register, login, logout, password_form, change_password, account]
