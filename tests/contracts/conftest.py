"""Every backend of each port is built here (cart stores, session stores, caches); each contract suite runs over
all of its port's backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from myclothes.cache.memory import MemoryCache, NullCache
from myclothes.cache.redis import RedisCache
from myclothes.carts.cookie import CartCookieCodec, CookieCartStore
from myclothes.carts.memory import MemoryCartStore
from myclothes.carts.redis import RedisCartStore
from myclothes.carts.sql import SqlCartStore
from myclothes.db.engine import SqlDatabase
from myclothes.db.migrate import upgrade
from myclothes.ports import Cache, CartStore, SessionStore
from myclothes.redisconn import create_store_redis
from myclothes.sessions.hashed import HashedIdSessionStore
from myclothes.sessions.memory import MemorySessionStore
from myclothes.sessions.redis import RedisSessionStore
from myclothes.sessions.sql import SqlSessionStore
from myclothes.settings import Settings

BACKENDS = ["memory", "sql", "redis", "cookie"]
SESSION_BACKENDS = ["memory", "sql", "redis", "sql, ids hashed"]  # production wraps every store (hashed.py)
CACHE_BACKENDS = ["memory", "redis", "none"]


class BrowserJars:
    """Test jar for the cookie store: every cart id is a separate browser holding its own cookie."""

    def __init__(self) -> None:
        self.cookies: dict[str, str | None] = {}

    def load(self, cart_id: str) -> str | None:
        return self.cookies.get(cart_id)

    def save(self, cart_id: str, value: str | None) -> None:
        self.cookies[cart_id] = value


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CartStore]:
    if request.param == "memory":
        yield MemoryCartStore()
        return
    if request.param == "cookie":
        codec = CartCookieCodec(("contract-test-secret-key-0001",), lifetime_s=3600)
        yield CookieCartStore(codec, secure=False, jar=BrowserJars())
        return
    if request.param == "redis":
        client = await _flushed_redis(request, for_stores=True)
        yield RedisCartStore(client, idle_s=3600, absolute_s=7200)
        await client.aclose()
        return
    database = _sqlite_database(tmp_path)
    yield SqlCartStore(database)
    await database.dispose()


def _sqlite_database(tmp_path: Path) -> SqlDatabase:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    return SqlDatabase(url)


async def _flushed_redis(request: pytest.FixtureRequest, for_stores: bool = False) -> Redis:
    """A client of the session's Redis, emptied: the stores' own (its commands multiplexed, ``redismux.py``) or
    a plain one (the cache's)."""
    url = request.getfixturevalue("redis_server").url
    admin = Redis.from_url(url)
    await admin.flushdb()
    await admin.aclose()
    return create_store_redis(Settings(redis_url=url, cart_store="redis")) if for_stores else Redis.from_url(url)


@pytest.fixture(params=SESSION_BACKENDS)
async def session_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    if request.param == "memory":
        yield MemorySessionStore()
        return
    if request.param == "redis":
        client = await _flushed_redis(request, for_stores=True)
        yield RedisSessionStore(client)
        await client.aclose()
        return
    database = _sqlite_database(tmp_path)
    store = SqlSessionStore(database)
    yield HashedIdSessionStore(store) if request.param.endswith("hashed") else store
    await database.dispose()


@dataclass
class CacheUnderTest:
    cache: Cache
    keeps: bool  # False for the ``none`` backend: it answers every read with a miss

    def expect(self, value: bytes) -> bytes | None:
        return value if self.keeps else None


@pytest.fixture(params=CACHE_BACKENDS)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[CacheUnderTest]:
    if request.param == "memory":
        yield CacheUnderTest(MemoryCache(), keeps=True)
        return
    if request.param == "none":
        yield CacheUnderTest(NullCache(), keeps=False)
        return
    redis_cache = RedisCache(await _flushed_redis(request))
    yield CacheUnderTest(redis_cache, keeps=True)
    await redis_cache.close()
