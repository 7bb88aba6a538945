"""Every CartStore backend is built here; the contract suite runs over all of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from myclothes.carts.cookie import CartCookieCodec, CookieCartStore
from myclothes.carts.memory import MemoryCartStore
from myclothes.carts.redis import RedisCartStore
from myclothes.carts.sql import SqlCartStore
from myclothes.db.engine import SqlDatabase
from myclothes.db.migrate import upgrade
from myclothes.ports import CartStore

BACKENDS = ["memory", "sql", "redis", "cookie"]


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
        redis_server = request.getfixturevalue("redis_server")
        client = Redis.from_url(redis_server.url)
        await client.flushdb()
        yield RedisCartStore(client, idle_s=3600, absolute_s=7200)
        await client.aclose()
        return
    url = f"sqlite+aiosqlite:///{tmp_path / 'carts.db'}"
    upgrade(url)
    database = SqlDatabase(url)
    yield SqlCartStore(database)
    await database.dispose()
