"""The customer's account and address book (another customer's address is a 404)."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, post, put

from myclothes.web.api.auth import customer_json
from myclothes.web.api.schemas import AddressBody, address_json
from myclothes.web.deps import require_customer, shop_of


@get("/account", tags=["account"])
async def account(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return customer_json(await require_customer(request))


@get("/account/addresses", tags=["account"])
async def list_addresses(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    customer = await require_customer(request)
    return [address_json(a) for a in await shop_of(request).accounts.addresses(customer.id)]


@post("/account/addresses", tags=["account"], status_code=201)
async def add_address(request: Request[Any, Any, Any], data: AddressBody) -> dict[str, Any]:
    customer = await require_customer(request)
    return address_json(await shop_of(request).accounts.add_address(customer.id, data.fields()))


@get("/account/addresses/{address_id:int}", tags=["account"])
async def get_address(request: Request[Any, Any, Any], address_id: int) -> dict[str, Any]:
    customer = await require_customer(request)
    return address_json(await shop_of(request).accounts.address(customer.id, address_id))


@put("/account/addresses/{address_id:int}", tags=["account"])
async def update_address(request: Request[Any, Any, Any], address_id: int, data: AddressBody) -> dict[str, Any]:
    customer = await require_customer(request)
    return address_json(await shop_of(request).accounts.update_address(customer.id, address_id, data.fields()))


@delete("/account/addresses/{address_id:int}", tags=["account"], status_code=204)
async def delete_address(request: Request[Any, Any, Any], address_id: int) -> None:
    customer = await require_customer(request)
    await shop_of(request).accounts.delete_address(customer.id, address_id)


handlers = [account, list_addresses, add_address, get_address, update_address, delete_address]
