"""HTML pages, one module per area (like ``web/api/``), sharing ``render.py``; templates/ and static/ beside."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from myclothes.web.pages import about, account, addresses, admin, cart, catalog, checkout, icons

page_handlers: list[ControllerRouterHandler] = [
    *catalog.handlers,
    *cart.handlers,
    *account.handlers,
    *addresses.handlers,
    *checkout.handlers,
    *admin.handlers,
    *icons.handlers,
    *about.handlers,
]
