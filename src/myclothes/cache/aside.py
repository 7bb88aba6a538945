"""Cache-aside (lazy loading): look in the cache, on a miss load from the database and fill the cache.

- TTL with jitter, so entries filled together do not expire together.
- Single-flight: concurrent misses of one key in a process share one load (one database query).
- Negative caching: a ``None`` result (an unknown product) is kept for a short ``negative_ttl_s``.
- After a committed change, :meth:`CacheAside.mark_stale` replaces the entry by a *stale* marker for
  ``stale_window_s`` (longer than a replica may lag): the next reader rebuilds it with the ``fresh`` loader (the
  primary) and overwrites the marker, while an ordinary fill only adds a missing entry, so a fill from a
  lagging replica that raced the change cannot overwrite the marker with the old value.
- Keys are versioned: a deploy with a new format never reads old entries.
- A hit whose bytes are those of the last hit on the key returns the value decoded then (the same object:
  callers treat cached values as read-only; the domain's are frozen). A hot product was decoded on every request.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import msgspec
from prometheus_client import Counter

from myclothes.ports import Cache

T = TypeVar("T")
KEY_VERSION = "v2"
NEGATIVE = b"null"  # what None encodes to: a cached "no such thing"
STALE = b"\x00stale"  # never valid JSON, so never a value
GENERATION_TTL_S = 86400.0
CACHE_REQUESTS = Counter("myclothes_cache_requests_total", "Catalog cache look-ups", ["result"])
HITS, NEGATIVE_HITS, MISSES = (CACHE_REQUESTS.labels(result=r) for r in ("hit", "negative_hit", "miss"))
DECODED_KEPT = 4096  # decoded values kept for reuse (the memo is emptied when full)


class CacheAside:
    """Typed cache-aside over a byte cache, with single-flight, negative caching and stale markers (the
    ``CatalogCache`` port)."""

    def __init__(
        self,
        cache: Cache,
        ttl_s: float,
        negative_ttl_s: float = 5.0,
        stale_window_s: float = 10.0,
    ) -> None:
        self.cache = cache
        self.ttl_s = ttl_s
        self.negative_ttl_s = negative_ttl_s
        self.stale_window_s = stale_window_s
        self._inflight: dict[str, asyncio.Task[object]] = {}
        self._decoded: dict[str, tuple[bytes, object]] = {}

    @staticmethod
    def key(*parts: str) -> str:
        """A versioned cache key: ``myclothes:<version>:<parts...>``."""
        return ":".join(("myclothes", KEY_VERSION, *parts))

    async def get_or_load(
        self,
        key: str,
        kind: type[T],
        load: Callable[[], Awaitable[T]],
        *,
        fresh: Callable[[], Awaitable[T]] | None = None,
        ttl_s: float | None = None,
    ) -> T:
        """The cached value for ``key``, else ``load()`` (``fresh()`` after a change), cached for ``ttl_s``."""
        cached = await self.cache.get(key)
        if cached is not None and cached != STALE:
            (NEGATIVE_HITS if cached == NEGATIVE else HITS).inc()
            return cast(T, self._decode(key, cached, kind))
        MISSES.inc()
        after_change = cached == STALE
        loader = fresh if after_change and fresh is not None else load
        ttl = self.ttl_s if ttl_s is None else ttl_s

        async def fill() -> object:
            value = await loader()
            data = msgspec.json.encode(value)
            expires = (self.negative_ttl_s if data == NEGATIVE else ttl) * random.uniform(0.9, 1.1)
            if after_change:
                await self.cache.set(key, data, expires)  # replaces the stale marker
            else:
                await self.cache.add(key, data, expires)
            return value

        return cast(T, await self._single_flight(key, fill))

    def _decode(self, key: str, cached: bytes, kind: type[T]) -> object:
        kept = self._decoded.get(key)
        if kept is not None and (kept[0] is cached or kept[0] == cached):
            return kept[1]
        value = msgspec.json.decode(cached, type=kind)
        if len(self._decoded) >= DECODED_KEPT:
            self._decoded.clear()
        self._decoded[key] = (cached, value)
        return value

    async def _single_flight(self, key: str, fill: Callable[[], Awaitable[object]]) -> object:
        task = self._inflight.get(key)
        if task is None:
            # A task of its own: a cancelled request does not cancel the load the others wait for.
            task = asyncio.ensure_future(fill())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    def _finished(self, key: str, task: asyncio.Task[object]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a failure nobody awaited is not logged as lost

    async def invalidate(self, *keys: str) -> None:
        """Delete entries: the next reader rebuilds them from a replica."""
        await self.cache.delete(*keys)

    async def mark_stale(self, *keys: str) -> None:
        """After a committed change: the next reader rebuilds these entries from the primary."""
        for key in keys:
            await self.cache.set(key, STALE, self.stale_window_s)

    async def put(self, key: str, value: object, ttl_s: float) -> None:
        """Add an entry a loader already has in hand (never over a stale marker or a newer value)."""
        await self.cache.add(key, msgspec.json.encode(value), ttl_s * random.uniform(0.9, 1.1))

    async def generation(self, family: str) -> tuple[str, bool]:
        """The current generation of a family of keys (say, every product list) and whether it changed recently.

        Keys built with the token are all abandoned at once by :meth:`bump`; while the change is recent (within
        the stale window) their rebuilds should read the primary.
        """
        key = self.key("generation", family)
        raw = await self.cache.get(key)
        if raw is None:
            raw = f"{secrets.token_hex(6)}:0".encode()
            await self.cache.add(key, raw, GENERATION_TTL_S)
        token, _, changed_at = raw.decode(errors="replace").partition(":")
        try:
            recent = time.time() - float(changed_at) < self.stale_window_s
        except ValueError:
            recent = True
        return token, recent

    async def bump(self, family: str) -> None:
        """Start a new generation of ``family`` after a committed change."""
        value = f"{secrets.token_hex(6)}:{time.time():.3f}".encode()
        await self.cache.set(self.key("generation", family), value, GENERATION_TTL_S)
