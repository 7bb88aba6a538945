"""The Redis cache backend, with a small in-process near cache invalidated across instances by pub/sub.

Reads look in the near cache first, then Redis (``GET`` + ``PTTL`` in one round trip, so a near copy never
outlives the Redis entry). Every overwrite or delete is published on one channel; each instance's listener
drops those keys from its near cache. While the listener is not subscribed (Redis down, reconnecting) the near
cache is emptied and bypassed, so a missed invalidation can never serve an old price.

If Redis fails (an error, a failover reply such as ``READONLY``, or no answer within ``OPERATION_DEADLINE_S``,
Sentinel discovery and connect included), the cache behaves as empty for ``retry_after_s`` (a circuit breaker,
so a dead or hung Redis costs no time per request) and the catalog is served from the database: slower, never an
error. The client retries nothing by itself (``redisconn.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from myclothes.cache.memory import MemoryCache
from myclothes.redisconn import ROUND_TRIPS

log = logging.getLogger("myclothes.cache.redis")
CHANNEL = "myclothes:cache:invalidate"
OPERATION_DEADLINE_S = 0.5  # a cache look-up must never cost more than the database query it saves
CACHE_TRIPS = ROUND_TRIPS.labels(client="cache")


class RedisCache:
    """Catalog entries in Redis (``MYCLOTHES_CACHE=redis``), fronted by a near cache of ``near_max_s`` seconds."""

    def __init__(
        self,
        client: Redis,
        near_entries: int = 10_000,
        near_max_s: float = 30.0,
        retry_after_s: float = 1.0,
        channel: str = CHANNEL,
        max_in_flight: int = 64,
    ) -> None:
        self.client = client
        self.near = MemoryCache(near_entries)
        self.near_max_s = near_max_s
        self.retry_after_s = retry_after_s
        self.channel = channel
        self._down_until = 0.0
        self._subscribed = False
        self._invalidations = 0  # bumped per invalidation received: a read that raced one is not kept near
        self._listener: asyncio.Task[None] | None = None
        self._reads: dict[str, asyncio.Future[bytes | None]] = {}
        self._slots = asyncio.Semaphore(max_in_flight)  # bounds the connections one process opens

    async def get(self, key: str) -> bytes | None:
        self._ensure_listener()
        if self._subscribed and (value := self.near.peek(key)) is not None:
            return value
        if self._is_down():
            return None
        # Concurrent reads of one key share one round trip (a hot key that just expired costs one GET).
        task = self._reads.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key))
            self._reads[key] = task
            task.add_done_callback(lambda done: self._reads.pop(key, None) if self._reads.get(key) is done else None)
        return await asyncio.shield(task)

    async def _fetch(self, key: str) -> bytes | None:
        seen = self._invalidations
        answers = await self._round_trip("get", lambda pipe: [pipe.get(key), pipe.pttl(key)])
        if answers is None:
            return None
        value, ttl_ms = answers
        if value is not None and self._subscribed and ttl_ms > 0 and seen == self._invalidations:
            self.near.put(key, value, min(self.near_max_s, ttl_ms / 1000))
        found: bytes | None = value
        return found

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self.near.discard(key)
        if not self._is_down():
            ttl_ms = max(1, int(ttl_s * 1000))
            await self._round_trip(
                "set", lambda pipe: [pipe.set(key, value, px=ttl_ms), pipe.publish(self.channel, key)]
            )

    async def add(self, key: str, value: bytes, ttl_s: float) -> None:
        if self._is_down():
            return
        seen = self._invalidations
        try:
            CACHE_TRIPS.inc()
            async with asyncio.timeout(OPERATION_DEADLINE_S), self._slots:
                added = await self.client.set(key, value, px=max(1, int(ttl_s * 1000)), nx=True)
        except (RedisError, OSError) as error:
            self._failed("add", error)
            return
        if added and self._subscribed and seen == self._invalidations:
            self.near.put(key, value, min(self.near_max_s, ttl_s))

    async def delete(self, *keys: str) -> None:
        self.near.discard(*keys)
        if keys and not self._is_down():
            await self._round_trip(
                "delete", lambda pipe: [pipe.delete(*keys), pipe.publish(self.channel, "\n".join(keys))]
            )

    async def ping(self) -> bool:
        """True when Redis answers within the operation deadline; raise if it cannot be reached."""
        async with asyncio.timeout(OPERATION_DEADLINE_S):
            return bool(await self.client.ping())

    async def close(self) -> None:
        """Stop the invalidation listener and close the connections."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        with contextlib.suppress(RedisError, OSError):
            await self.client.aclose()

    async def _round_trip(self, operation: str, commands: Callable[[Pipeline], list[object]]) -> list[Any] | None:
        """Send ``commands`` (queued on a pipeline) in one round trip within the deadline; their answers, or None
        when Redis fails (the breaker then opens)."""
        try:
            CACHE_TRIPS.inc()
            async with (
                asyncio.timeout(OPERATION_DEADLINE_S),
                self._slots,
                self.client.pipeline(transaction=False) as pipe,
            ):
                commands(pipe)
                return list(await pipe.execute())
        except (RedisError, OSError) as error:  # OSError includes the deadline's TimeoutError
            self._failed(operation, error)
            return None

    def _is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, operation: str, error: BaseException) -> None:
        if not self._is_down():
            log.warning("redis %s failed (%s); serving from the database for %gs", operation, error, self.retry_after_s)
        self._down_until = time.monotonic() + self.retry_after_s

    def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="cache-invalidations")

    async def _listen(self) -> None:
        while True:
            pubsub = self.client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                self.near.clear()
                self._subscribed = True
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message["type"] == "message":
                        data = message["data"]
                        text = data.decode() if isinstance(data, bytes) else str(data)
                        self._invalidations += 1
                        self.near.discard(*text.split("\n"))
            except (RedisError, OSError) as error:
                if self._subscribed:
                    log.warning("cache invalidation channel lost (%s); near cache off until it is back", error)
            finally:
                self._subscribed = False
                self.near.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(self.retry_after_s)
