"""The JSON API under /api (prices in integer cents)."""

from __future__ import annotations

from litestar import Router

from myclothes.web.api import account, admin, auth, cart, catalog, orders
from myclothes.web.contract import strict_json_body

api_router = Router(
    path="/api",
    before_request=strict_json_body,
    route_handlers=[
        *catalog.handlers,
        *cart.handlers,
        *auth.handlers,
        *account.handlers,
        *orders.handlers,
        *admin.handlers,
    ],
)
