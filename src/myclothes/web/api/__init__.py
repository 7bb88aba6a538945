"""The JSON API under /api (prices in integer cents)."""

from __future__ import annotations

from litestar import Router

from myclothes.web.api import account, admin, auth, cart, catalog, orders

api_router = Router(
    path="/api",
    route_handlers=[
        *catalog.handlers,
        *cart.handlers,
        *auth.handlers,
        *account.handlers,
        *orders.handlers,
        *admin.handlers,
    ],
)
