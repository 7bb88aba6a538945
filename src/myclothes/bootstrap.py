"""Composition root: settings -> concrete adapters -> services. The only place that picks backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from myclothes.cache.aside import CacheAside
from myclothes.cache.memory import MemoryCache, NullCache
from myclothes.cache.redis import RedisCache
from myclothes.carts.base import InstrumentedCartStore
from myclothes.carts.cookie import CartCookieCodec, CookieCartStore
from myclothes.carts.memory import MemoryCartStore
from myclothes.carts.redis import RedisCartStore
from myclothes.carts.sql import SqlCartStore
from myclothes.db.engine import SqlDatabase
from myclothes.db.sweep import Sweep
from myclothes.domain.events import ProductChanged, StockSold
from myclothes.passwords import Argon2Hasher
from myclothes.payments.luhn import LuhnTestGateway
from myclothes.ports import Cache, CartStore, ClientStateCarrier, Database, PasswordHasher, SessionStore
from myclothes.redisconn import PrimaryHealth, create_redis, create_replica_reader, create_store_redis
from myclothes.services.accounts import AccountService, LoginLimits
from myclothes.services.admin import AdminService
from myclothes.services.cart import CartService
from myclothes.services.cart_ids import AccountCarts, BrowserCarts, CartIds
from myclothes.services.catalog import CatalogService
from myclothes.services.checkout import CheckoutService
from myclothes.services.messagebus import MessageBus
from myclothes.services.sessions import SessionLifetime, SessionService
from myclothes.sessions.hashed import HashedIdSessionStore
from myclothes.sessions.memory import MemorySessionStore
from myclothes.sessions.redis import RedisSessionStore
from myclothes.sessions.sql import SqlSessionStore
from myclothes.settings import Settings, SettingsError


@dataclass
class Shop:
    """Everything a web process needs, built once per process: ports and the services over them."""

    settings: Settings
    database: Database
    cart_store: CartStore
    client_state: ClientStateCarrier | None  # a store that keeps state in the browser's cookies
    remote_cache: Cache | None  # the catalog cache when it lives outside the process (checked for readiness)
    catalog: CatalogService
    carts: CartService
    accounts: AccountService
    checkout: CheckoutService
    admin: AdminService
    sessions: SessionService
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    sweeps: list[Sweep] = field(default_factory=list)  # background clean-ups, finished before the database closes

    async def close(self) -> None:
        for sweep in self.sweeps:
            await sweep.wait()
        await self.database.dispose()
        for close in self.closers:
            await close()


def _cache(settings: Settings) -> Cache:
    if settings.cache == "none":
        return NullCache()
    if settings.cache == "memory":
        return MemoryCache()
    if not (settings.redis_url or settings.redis_sentinels):
        raise SettingsError("MYCLOTHES_CACHE=redis needs MYCLOTHES_REDIS_URL or MYCLOTHES_REDIS_SENTINELS")
    return RedisCache(create_redis(settings))  # its own client: the near cache's listener holds a connection


@dataclass
class _Stores:
    carts: CartStore
    sessions: SessionStore
    cart_ids: CartIds
    client_state: ClientStateCarrier | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    sweeps: list[Sweep] = field(default_factory=list)


def _stores(settings: Settings, database: SqlDatabase) -> _Stores:
    """The cart store and the session store that goes with it (identity always stays server-verifiable)."""
    if settings.cart_store == "sql":
        sql_carts, sql_sessions = SqlCartStore(database, settings.session_absolute_s), SqlSessionStore(database)
        return _Stores(sql_carts, sql_sessions, AccountCarts(), sweeps=[sql_carts.sweep, sql_sessions.sweep])
    if settings.cart_store == "memory":
        memory_carts = MemoryCartStore(guest_max_age_s=settings.session_absolute_s)
        return _Stores(memory_carts, MemorySessionStore(), AccountCarts())
    if settings.cart_store == "redis":
        redis, replica, health = create_store_redis(settings), create_replica_reader(settings), PrimaryHealth()
        wait = settings.wait_for_replica
        carts = RedisCartStore(redis, settings.session_idle_s, settings.session_absolute_s, wait, replica, health)
        closers: list[Callable[[], Awaitable[None]]] = [redis.aclose]
        if replica is not None:
            closers.append(replica.aclose)
        return _Stores(carts, RedisSessionStore(redis, wait, replica, health), AccountCarts(), closers=closers)
    cookie = CookieCartStore(CartCookieCodec(settings.secret_keys, settings.session_idle_s), settings.cookie_secure)
    sessions = SqlSessionStore(database)
    return _Stores(cookie, sessions, BrowserCarts(), client_state=cookie, sweeps=[sessions.sweep])


def build_shop(settings: Settings, hasher: PasswordHasher | None = None) -> Shop:
    """Wire the shop for these settings."""
    database = SqlDatabase(settings.effective_database_url, settings.database_replica_urls, settings.replica_max_lag_s)
    stores = _stores(settings, database)
    stores.sessions = HashedIdSessionStore(stores.sessions)  # no store ever holds a presentable session id
    cart_store = InstrumentedCartStore(stores.carts)
    cache = _cache(settings)
    catalog = CatalogService(database, CacheAside(cache, settings.catalog_cache_ttl_s))
    bus = MessageBus()
    bus.subscribe(ProductChanged, catalog.on_product_changed)
    bus.subscribe(StockSold, catalog.on_stock_sold)
    limits = LoginLimits(
        account_max_per_hour=settings.login_account_max_per_hour,
        ip_max_per_window=settings.login_ip_max_per_window,
        ip_window_s=settings.login_ip_window_s,
        register_ip_max_per_hour=settings.register_ip_max_per_hour,
    )
    accounts = AccountService(database, hasher or Argon2Hasher(), limits)
    carts = CartService(cart_store, database)
    lifetime = SessionLifetime(settings.session_idle_s, settings.session_absolute_s)
    remote_cache = cache if isinstance(cache, RedisCache) else None
    closers = [*stores.closers, *([remote_cache.close] if remote_cache else [])]
    return Shop(
        settings=settings,
        database=database,
        cart_store=cart_store,
        client_state=stores.client_state,
        remote_cache=remote_cache,
        catalog=catalog,
        carts=carts,
        accounts=accounts,
        checkout=CheckoutService(database, cart_store, LuhnTestGateway(), bus),
        admin=AdminService(database, bus),
        sessions=SessionService(stores.sessions, stores.cart_ids, lifetime, accounts, carts, database),
        closers=closers,
        sweeps=stores.sweeps,
    )
