"""The customer's account and address book (another customer's address is a 404)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, post, put

from myclothes.domain.customers import Customer
from myclothes.services.accounts import AccountService
from myclothes.services.sessions import SessionService, ShopperSession
from myclothes.web.api.schemas import AddressBody, PasswordChange, address_json, customer_json
from myclothes.web.contract import refusals
from myclothes.web.deps import client_ip, customers_only


@get("/account", tags=["account"], responses=refusals(401))
async def account(customer: Customer) -> dict[str, Any]:
    return customer_json(customer)


@post("/account/password", tags=["account"], status_code=204, responses=refusals(401, 429, unsafe=True, body=True))
async def change_password(
    request: Request[Any, Any, Any], data: PasswordChange, sessions: SessionService, shopper: ShopperSession
) -> None:
    """Change the password (the current one required). Every other session of this account ends; this one goes on
    under a new session id. A wrong current password is a 400 on ``current_password`` and counts as a failed
    login (the same limits apply)."""
    await sessions.change_password(shopper, data.current_password, data.new_password, client_ip(request))


@get("/account/addresses", tags=["account"], responses=refusals(401))
async def list_addresses(customer: Customer, accounts: AccountService) -> list[dict[str, Any]]:
    return [address_json(a) for a in await accounts.addresses(customer.id)]


@post("/account/addresses", tags=["account"], status_code=201, responses=refusals(401, 409, unsafe=True, body=True))
async def add_address(customer: Customer, accounts: AccountService, data: AddressBody) -> dict[str, Any]:
    return address_json(await accounts.add_address(customer.id, data.fields()))


@get("/account/addresses/{address_id:int}", tags=["account"], responses=refusals(400, 401, 404))
async def get_address(customer: Customer, accounts: AccountService, address_id: int) -> dict[str, Any]:
    return address_json(await accounts.address(customer.id, address_id))


@put("/account/addresses/{address_id:int}", tags=["account"], responses=refusals(401, 404, unsafe=True, body=True))
async def update_address(
    customer: Customer, accounts: AccountService, address_id: int, data: AddressBody
) -> dict[str, Any]:
    return address_json(await accounts.update_address(customer.id, address_id, data.fields()))


@delete(
    "/account/addresses/{address_id:int}",
    tags=["account"],
    status_code=204,
    responses=refusals(400, 401, 404, unsafe=True),
)
async def delete_address(customer: Customer, accounts: AccountService, address_id: int) -> None:
    await accounts.delete_address(customer.id, address_id)


router = Router(
    path="/",
    guards=[customers_only],
    route_handlers=[account, change_password, list_addresses, add_address, get_address, update_address, delete_address],
)
handlers = [router]
