"""Register, log in, log out. Login rotates the session id and merges the guest cart (``services/sessions.py``)."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from myclothes.services.accounts import AccountService
from myclothes.services.sessions import SessionService, ShopperSession
from myclothes.web.api.schemas import Login, Register, customer_json
from myclothes.web.contract import refusals
from myclothes.web.deps import client_ip


@post("/auth/register", tags=["auth"], status_code=201, responses=refusals(409, 429, unsafe=True, body=True))
async def register(
    request: Request[Any, Any, Any],
    data: Register,
    accounts: AccountService,
    sessions: SessionService,
    shopper: ShopperSession,
) -> dict[str, Any]:
    """Create an account and log in. One address may try this a limited number of times an hour (429)."""
    customer = await accounts.register(data.email, data.password, data.name, ip=client_ip(request))
    merged = await sessions.login(shopper, customer)
    return {"customer": customer_json(customer), "merged": merged}


@post("/auth/login", tags=["auth"], status_code=200, responses=refusals(401, 429, unsafe=True, body=True))
async def login(
    request: Request[Any, Any, Any],
    data: Login,
    accounts: AccountService,
    sessions: SessionService,
    shopper: ShopperSession,
) -> dict[str, Any]:
    """Log in; ``merged`` says what the guest cart added to the account's cart."""
    customer = await accounts.login(data.email, data.password, client_ip(request))
    merged = await sessions.login(shopper, customer)
    return {"customer": customer_json(customer), "merged": merged}


@post("/auth/logout", tags=["auth"], status_code=200, responses=refusals(unsafe=True))
async def logout(sessions: SessionService, shopper: ShopperSession) -> dict[str, str]:
    await sessions.logout(shopper)
    return {"status": "logged out"}


handlers = [register, login, logout]
