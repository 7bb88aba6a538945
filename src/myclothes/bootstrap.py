"""Composition root: settings -> concrete adapters -> services. The only place that picks backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from myclothes.cache.aside import CacheAside, FillableCache
from myclothes.cache.memory import MemoryCache, NullCache
from myclothes.cache.redis import RedisCache
from myclothes.carts.base import InstrumentedCartStore
from myclothes.carts.cookie import CartCookieCodec, CookieCartStore
from myclothes.carts.memory import MemoryCartStore, MemorySessionStore
from myclothes.carts.redis import RedisCartStore, RedisSessionStore
from myclothes.carts.sql import SqlCartStore, SqlSessionStore
from myclothes.db.engine import SqlDatabase
from myclothes.passwords import Argon2Hasher
from myclothes.ports import CartStore, ClientStateCarrier, PasswordHasher, SessionStore
from myclothes.redisconn import create_redis
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
    redis: Redis | None
    cart_store: CartStore
    session_store: SessionStore
    client_state: ClientStateCarrier | None
    catalog: CatalogService
    carts: CartService
    accounts: AccountService
    checkout: CheckoutService
    admin: AdminService
    cache_ping: Callable[[], Awaitable[None]] | None = None  # a remote catalog cache to check for readiness

    @property
    def cart_per_browser(self) -> bool:
        """True when the cart lives in the browser (cookie store) rather than with the account."""
        return self.client_state is not None

    async def close(self) -> None:
        await self.database.dispose()
        if self.redis is not None:
            await self.redis.aclose()


def _cache(settings: Settings) -> FillableCache:
    if settings.cache == "none":
        return NullCache()
    if settings.cache == "memory":
        return MemoryCache()
    if not (settings.redis_url or settings.redis_sentinels):
        raise SettingsError("MYCLOTHES_CACHE=redis needs MYCLOTHES_REDIS_URL or MYCLOTHES_REDIS_SENTINELS")
    return RedisCache(create_redis(settings))  # its own client: the near cache's listener holds a connection


def _stores(
    settings: Settings, database: SqlDatabase, redis: Redis | None
) -> tuple[CartStore, SessionStore, ClientStateCarrier | None]:
    """The cart store and the session store that goes with it (identity always stays server-verifiable)."""
    if settings.cart_store == "sql":
        return SqlCartStore(database), SqlSessionStore(database), None
    if settings.cart_store == "memory":
        return MemoryCartStore(), MemorySessionStore(), None
    if settings.cart_store == "redis":
        assert redis is not None
        wait = settings.wait_for_replica
        carts = RedisCartStore(redis, settings.session_idle_s, settings.session_absolute_s, wait)
        return carts, RedisSessionStore(redis, wait), None
    cookie = CookieCartStore(CartCookieCodec(settings.secret_keys, settings.session_idle_s), settings.cookie_secure)
    return cookie, SqlSessionStore(database), cookie


def build_shop(settings: Settings, hasher: PasswordHasher | None = None) -> Shop:
    """Wire the shop for these settings."""
    database = SqlDatabase(settings.effective_database_url, settings.database_replica_urls, settings.replica_max_lag_s)
    redis = create_redis(settings) if settings.redis_url or settings.redis_sentinels else None
    raw_cart_store, session_store, client_state = _stores(settings, database, redis)
    cart_store = InstrumentedCartStore(raw_cart_store)
    cache = _cache(settings)
    catalog = CatalogService(database, CacheAside(cache, settings.catalog_cache_ttl_s))
    limits = LoginLimits(
        account_max_per_hour=settings.login_account_max_per_hour,
        ip_max_per_window=settings.login_ip_max_per_window,
        ip_window_s=settings.login_ip_window_s,
    )
    return Shop(
        settings=settings,
        database=database,
        redis=redis,
        cart_store=cart_store,
        session_store=session_store,
        client_state=client_state,
        catalog=catalog,
        carts=CartService(cart_store, database),
        accounts=AccountService(database, hasher or Argon2Hasher(), limits),
        checkout=CheckoutService(database, cart_store, catalog),
        admin=AdminService(database, catalog),
        cache_ping=cache.ping if isinstance(cache, RedisCache) else None,
    )
