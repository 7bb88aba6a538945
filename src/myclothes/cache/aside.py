"""Cache-aside (lazy loading): look in the cache, on a miss load from the database and fill the cache."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
from prometheus_client import Counter

from myclothes.ports import Cache

T = TypeVar("T")
KEY_VERSION = "v1"
CACHE_REQUESTS = Counter("myclothes_cache_requests_total", "Catalog cache look-ups", ["result"])


class CacheAside:
    """Typed cache-aside over a byte cache; keys are versioned so a new format never reads old entries."""

    def __init__(self, cache: Cache, ttl_s: float) -> None:
        self.cache = cache
        self.ttl_s = ttl_s

    @staticmethod
    def key(*parts: str) -> str:
        return ":".join(("myclothes", KEY_VERSION, *parts))

    async def get_or_load(self, key: str, kind: type[T], load: Callable[[], Awaitable[T]]) -> T:
        cached = await self.cache.get(key)
        if cached is not None:
            CACHE_REQUESTS.labels(result="hit").inc()
            return msgspec.json.decode(cached, type=kind)
        CACHE_REQUESTS.labels(result="miss").inc()
        value = await load()
        ttl = self.ttl_s * random.uniform(0.9, 1.1)  # jitter: entries filled together do not expire together
        await self.cache.set(key, msgspec.json.encode(value), ttl)
        return value

    async def invalidate(self, *keys: str) -> None:
        await self.cache.delete(*keys)
