"""What handlers are given (Litestar dependency injection) and the guards of the customers' and admins' routes.

A handler names what it needs: ``catalog``, ``carts``, ``accounts``, ``orders``, ``admin``, ``sessions`` (the shop's
services), ``shopper`` (this request's session), ``cart`` (this shopper's cart) or ``customer`` (the logged-in
customer; the route's guard has already refused anyone else).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler

from myclothes.domain.customers import Customer
from myclothes.services.sessions import ShopperSession
from myclothes.services.shopper_cart import ShopperCart
from myclothes.web.security import client_address, trusted_proxies_of

if TYPE_CHECKING:
    from myclothes.bootstrap import Shop

Connection = ASGIConnection[Any, Any, Any, Any]


def shop_of(connection: Connection) -> Shop:
    return cast("Shop", connection.app.state["shop"])


def shopper_of(connection: Connection) -> ShopperSession:
    return cast(ShopperSession, connection.scope["state"]["shopper"])


def client_ip(connection: Connection) -> str:
    """The shopper's address as the per-IP limits see it (X-Forwarded-For only from a trusted proxy)."""
    peer = connection.client.host if connection.client else None
    return client_address(peer, connection.headers.get("x-forwarded-for"), trusted_proxies_of(connection))


def _from_shop(service: str) -> Provide:
    """A dependency handing handlers one of the shop's services."""

    def provide(request: Connection) -> Any:
        return getattr(shop_of(request), service)

    return Provide(provide, sync_to_thread=False)


def provide_shopper(request: Connection) -> ShopperSession:
    return shopper_of(request)


def provide_cart(request: Connection) -> ShopperCart:
    shop = shop_of(request)
    return ShopperCart(shop.carts, shop.sessions, shopper_of(request))


async def provide_customer(request: Connection) -> Customer:
    return await shop_of(request).sessions.require_customer(shopper_of(request))


async def customers_only(connection: Connection, _handler: BaseRouteHandler) -> None:
    """Guard: a logged-in customer (401, or 503 while the session store cannot be read)."""
    await shop_of(connection).sessions.require_customer(shopper_of(connection))


async def admins_only(connection: Connection, _handler: BaseRouteHandler) -> None:
    """Guard: a logged-in admin (401 or 403)."""
    await shop_of(connection).sessions.require_admin(shopper_of(connection))


DEPENDENCIES = {
    "catalog": _from_shop("catalog"),  # CatalogService
    "carts": _from_shop("carts"),  # CartService
    "accounts": _from_shop("accounts"),  # AccountService
    "orders": _from_shop("checkout"),  # CheckoutService
    "admin": _from_shop("admin"),  # AdminService
    "sessions": _from_shop("sessions"),  # SessionService
    "shopper": Provide(provide_shopper, sync_to_thread=False),
    "cart": Provide(provide_cart, sync_to_thread=False),
    "customer": Provide(provide_customer),
}
