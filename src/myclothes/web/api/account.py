"""The customer's account and address book (another customer's address is a 404)."""

from __future__ import annotations

from typing import Any

from litestar import Router, delete, get, post, put

from myclothes.domain.customers import Customer
from myclothes.services.accounts import AccountService
from myclothes.web.api.schemas import AddressBody, address_json, customer_json
from myclothes.web.deps import customers_only


@get("/account", tags=["account"])
async def account(customer: Customer) -> dict[str, Any]:
    return customer_json(customer)


@get("/account/addresses", tags=["account"])
async def list_addresses(customer: Customer, accounts: AccountService) -> list[dict[str, Any]]:
    return [address_json(a) for a in await accounts.addresses(customer.id)]


@post("/account/addresses", tags=["account"], status_code=201)
async def add_address(customer: Customer, accounts: AccountService, data: AddressBody) -> dict[str, Any]:
    return address_json(await accounts.add_address(customer.id, data.fields()))


@get("/account/addresses/{address_id:int}", tags=["account"])
async def get_address(customer: Customer, accounts: AccountService, address_id: int) -> dict[str, Any]:
    return address_json(await accounts.address(customer.id, address_id))


@put("/account/addresses/{address_id:int}", tags=["account"])
async def update_address(
    customer: Customer, accounts: AccountService, address_id: int, data: AddressBody
) -> dict[str, Any]:
    return address_json(await accounts.update_address(customer.id, address_id, data.fields()))


@delete("/account/addresses/{address_id:int}", tags=["account"], status_code=204)
async def delete_address(customer: Customer, accounts: AccountService, address_id: int) -> None:
    await accounts.delete_address(customer.id, address_id)


router = Router(
    path="/",
    guards=[customers_only],
    route_handlers=[account, list_addresses, add_address, get_address, update_address, delete_address],
)
handlers = [router]
