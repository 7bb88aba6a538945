"""The address book: list, add (also from checkout), edit, delete. Customers only."""

from __future__ import annotations

import dataclasses
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.response import Redirect, Template

from myclothes.domain.customers import AddressFields, Customer
from myclothes.domain.errors import NotFound, ShopError
from myclothes.services.accounts import AccountService
from myclothes.services.sessions import ShopperSession
from myclothes.web.deps import customers_only
from myclothes.web.pages.render import form, form_error, page, redirect, safe_next


@get("/account/addresses", include_in_schema=False)
async def addresses(request: Request[Any, Any, Any], customer: Customer, accounts: AccountService) -> Template:
    found = await accounts.addresses(customer.id)
    return await page(request, "addresses.html", addresses=found, values={}, next="/account/addresses")


def _address_fields(data: dict[str, str]) -> AddressFields:
    return AddressFields(
        full_name=data.get("full_name", ""),
        line1=data.get("line1", ""),
        line2=data.get("line2", ""),
        city=data.get("city", ""),
        postal_code=data.get("postal_code", ""),
        country=data.get("country", ""),
        phone=data.get("phone", ""),
        is_default=data.get("is_default") in {"on", "true", "1"},
    )


@post("/account/addresses", include_in_schema=False)
async def add_address(
    request: Request[Any, Any, Any], customer: Customer, accounts: AccountService, shopper: ShopperSession
) -> Response[Any]:
    data = await form(request)
    target = safe_next(data.get("next"), "/account/addresses")
    try:
        address = await accounts.add_address(customer.id, _address_fields(data))
    except ShopError as problem:
        found = await accounts.addresses(customer.id)
        return await form_error(request, "addresses.html", problem, addresses=found, values=data, next=target)
    shopper.flash("Address saved.")
    if target.startswith("/checkout"):
        target = f"/checkout?address_id={address.id}"
    return redirect(target)


@get("/account/addresses/{address_id:int}/edit", include_in_schema=False)
async def edit_address(
    request: Request[Any, Any, Any], customer: Customer, accounts: AccountService, address_id: int
) -> Template:
    address = await accounts.address(customer.id, address_id)
    values = {field.name: getattr(address, field.name) for field in dataclasses.fields(AddressFields)}
    return await page(request, "address_edit.html", address=address, values=values)


@post("/account/addresses/{address_id:int}", include_in_schema=False)
async def update_address(
    request: Request[Any, Any, Any],
    customer: Customer,
    accounts: AccountService,
    shopper: ShopperSession,
    address_id: int,
) -> Response[Any]:
    data = await form(request)
    try:
        await accounts.update_address(customer.id, address_id, _address_fields(data))
    except NotFound:
        raise
    except ShopError as problem:
        address = await accounts.address(customer.id, address_id)
        return await form_error(request, "address_edit.html", problem, address=address, values=data)
    shopper.flash("Address updated.")
    return redirect("/account/addresses")


@post("/account/addresses/{address_id:int}/delete", include_in_schema=False)
async def delete_address(
    customer: Customer, accounts: AccountService, shopper: ShopperSession, address_id: int
) -> Redirect:
    await accounts.delete_address(customer.id, address_id)
    shopper.flash("Address deleted.")
    return redirect("/account/addresses")


router = Router(
    path="/",
    guards=[customers_only],
    route_handlers=[addresses, add_address, edit_address, update_address, delete_address],
)
handlers = [router]
