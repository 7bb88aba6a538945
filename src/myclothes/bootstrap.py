"""Composition root: settings -> concrete adapters -> services. The only place that picks backends."""

from __future__ import annotations

from dataclasses import dataclass

from myclothes.cache.aside import CacheAside
from myclothes.cache.memory import MemoryCache, NullCache
from myclothes.carts.memory import MemoryCartStore, MemorySessionStore
from myclothes.carts.sql import SqlCartStore, SqlSessionStore
from myclothes.db.engine import SqlDatabase
from myclothes.passwords import Argon2Hasher
from myclothes.ports import Cache, CartStore, PasswordHasher, SessionStore
from myclothes.services.accounts import AccountService, LoginLimits
from myclothes.services.admin import AdminService
from myclothes.services.cart import CartService
from myclothes.services.catalog import CatalogService
from myclothes.services.checkout import CheckoutService
from myclothes.settings import Settings, SettingsError


@dataclass
class Shop:
    """Everything a web process needs, built once per process."""

    settings: Settings
    database: SqlDatabase
    cart_store: CartStore
    session_store: SessionStore
    catalog: CatalogService
    carts: CartService
    accounts: AccountService
    checkout: CheckoutService
    admin: AdminService

    async def close(self) -> None:
        await self.database.dispose()


def _cache(settings: Settings) -> Cache:
    if settings.cache == "none":
        return NullCache()
    if settings.cache == "memory":
        return MemoryCache()
    raise SettingsError(f"MYCLOTHES_CACHE={settings.cache} is not available in this version; use memory or none")


def _stores(settings: Settings, database: SqlDatabase) -> tuple[CartStore, SessionStore]:
    if settings.cart_store == "sql":
        return SqlCartStore(database), SqlSessionStore(database)
    if settings.cart_store == "memory":
        return MemoryCartStore(), MemorySessionStore()
    raise SettingsError(
        f"MYCLOTHES_CART_STORE={settings.cart_store} is not available in this version; use sql or memory"
    )


def build_shop(settings: Settings, hasher: PasswordHasher | None = None) -> Shop:
    """Wire the shop for these settings."""
    database = SqlDatabase(settings.effective_database_url)
    cart_store, session_store = _stores(settings, database)
    catalog = CatalogService(database, CacheAside(_cache(settings), settings.catalog_cache_ttl_s))
    limits = LoginLimits(
        account_max_per_hour=settings.login_account_max_per_hour,
        ip_max_per_window=settings.login_ip_max_per_window,
        ip_window_s=settings.login_ip_window_s,
    )
    return Shop(
        settings=settings,
        database=database,
        cart_store=cart_store,
        session_store=session_store,
        catalog=catalog,
        carts=CartService(cart_store, database),
        accounts=AccountService(database, hasher or Argon2Hasher(), limits),
        checkout=CheckoutService(database, cart_store, catalog),
        admin=AdminService(database, catalog),
    )
