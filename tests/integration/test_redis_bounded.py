"""Every Redis call is bounded and retried at most once, over real servers: a hung Redis (SIGSTOP) or hung
Sentinels cost the cart and session store at most ~1.2 s and the cache at most ~0.5 s; replies that mean "failover
in progress" (READONLY, NOREPLICAS, MASTERDOWN) are a 503-worthy StoreUnavailable after one retry, never a 500."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_sync
from redis.asyncio import Redis
from tests.support.redis_server import RedisServer, SentinelServer
from tests.support.server import frozen

from myclothes.cache.redis import RedisCache
from myclothes.carts.redis import RedisCartStore
from myclothes.domain.errors import StoreUnavailable
from myclothes.ports import SessionRecord, SessionState
from myclothes.redisconn import command, create_redis, create_store_redis
from myclothes.redismux import MultiplexedRedis
from myclothes.sessions.redis import RedisSessionStore
from myclothes.settings import Settings

CART_BUDGET_S = 1.35  # the store's deadline (1.2 s) and slack
CACHE_BUDGET_S = 0.65


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[RedisServer, RedisServer]]:
    """A Redis primary and its replica, both the test's own."""
    with (
        RedisServer(tmp_path / "primary") as primary,
        RedisServer(tmp_path / "replica", replica_of=primary.port) as replica,
    ):
        yield primary, replica


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A Redis of the test's own (it is frozen or reconfigured)."""
    with RedisServer(tmp_path / "redis") as redis_server:
        yield redis_server


async def _fails_within(call: Callable[[], Awaitable[object]], budget_s: float) -> float:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        await call()
    took = time.monotonic() - started
    assert took < budget_s, f"took {took:.2f} s"
    return took


def _calls(server: RedisServer, command: str) -> int:
    stats = redis_sync.Redis(port=server.port).info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_a_hung_redis_costs_the_stores_about_a_second_and_the_cache_half_a_second(server: RedisServer) -> None:
    client = create_store_redis(Settings(redis_url=server.url, cart_store="redis"))
    carts = RedisCartStore(client, 3600, 7200)
    sessions = RedisSessionStore(client)
    cache = RedisCache(create_redis(Settings(redis_url=server.url, cache="redis")))
    try:
        await carts.add("c1", "SKU-1", 1)
        await sessions.save(SessionRecord("s1", SessionState(customer_id=1), time.time(), time.time() + 60))
        with frozen(server.pids()):
            load = await _fails_within(lambda: sessions.load("s1", time.time()), CART_BUDGET_S)
            add = await _fails_within(lambda: carts.add("c1", "SKU-1", 1), CART_BUDGET_S)
            started = time.monotonic()
            assert await cache.get("myclothes:v2:anything") is None  # a miss: the database answers instead
            cache_s = time.monotonic() - started
            started = time.monotonic()
            assert await cache.get("myclothes:v2:anything") is None
            breaker_s = time.monotonic() - started
        print(f"\nRedis hung: session load {load:.2f} s, cart add {add:.2f} s, cache get {cache_s:.2f} s then ")
        print(f"{breaker_s * 1000:.1f} ms (circuit open)")
        assert cache_s < CACHE_BUDGET_S and breaker_s < 0.05
        assert [line.quantity for line in await carts.lines("c1")] in ([1], [2])  # answered again
    finally:
        await client.aclose()
        await cache.close()


async def test_hung_sentinels_bound_master_discovery(tmp_path: Path) -> None:
    primary = RedisServer(tmp_path / "primary").start()
    sentinels = [SentinelServer(tmp_path / f"sentinel-{n}", primary.port).start() for n in range(3)]
    try:
        settings = Settings(redis_sentinels=tuple(f"127.0.0.1:{s.port}" for s in sentinels), cart_store="redis")
        client = create_store_redis(settings)
        assert isinstance(client, MultiplexedRedis)
        store = RedisCartStore(client, 3600, 7200)
        assert await store.lines("c1") == []  # discovery works
        client.channel.reset()  # the next call discovers the master again
        with frozen([pid for sentinel in sentinels for pid in sentinel.pids()]):
            took = await _fails_within(lambda: store.lines("c1"), CART_BUDGET_S)
        print(f"\nevery Sentinel hung: a cart read gave up after {took:.2f} s")
        await client.aclose()
    finally:
        for sentinel in sentinels:
            sentinel.stop()
        primary.stop()


async def test_a_write_that_meets_a_replica_is_store_unavailable_after_one_retry(
    pair: tuple[RedisServer, RedisServer],
) -> None:
    replica = pair[1]
    client = Redis.from_url(replica.url)  # what a client still pointed at a demoted primary meets: READONLY
    store = RedisCartStore(client, 3600, 7200)
    before = _calls(replica, "evalsha")
    await _fails_within(lambda: store.add("c1", "SKU-1", 1), CART_BUDGET_S)
    assert _calls(replica, "evalsha") - before <= 3  # two attempts (plus a NOSCRIPT load on first use)
    await client.aclose()


async def test_noreplicas_and_masterdown_replies_are_store_unavailable(pair: tuple[RedisServer, RedisServer]) -> None:
    primary, replica = pair
    admin = redis_sync.Redis(port=primary.port)
    admin.config_set("min-replicas-to-write", 5)  # more than there are: every write is refused NOREPLICAS
    client = Redis.from_url(primary.url)
    await _fails_within(lambda: RedisCartStore(client, 3600, 7200).add("c1", "SKU-1", 1), CART_BUDGET_S)
    await _fails_within(lambda: RedisSessionStore(client).delete("s1"), CART_BUDGET_S)
    await client.aclose()

    redis_sync.Redis(port=replica.port).config_set("replica-serve-stale-data", "no")
    primary.stop()  # the replica's master is gone: reads there answer MASTERDOWN
    client = Redis.from_url(replica.url)
    await _fails_within(lambda: RedisSessionStore(client).load("s1", time.time()), CART_BUDGET_S)
    await client.aclose()


async def test_a_command_cut_off_mid_reply_leaves_nothing_for_the_next_one(server: RedisServer) -> None:
    """``redisconn.command`` sends on a pooled connection itself: one cancelled while its reply is outstanding must
    not go back to the pool with that reply still to come (the next command would read it as its own)."""
    client = create_redis(Settings(redis_url=server.url, cart_store="redis"))
    try:
        await command(client, "SET", "cut-off:value", b"mine")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await command(client, "BLPOP", "cut-off:empty", "0.3")  # answers nil in 0.3 s: too late
        # at once: on the same connection, this would queue behind the BLPOP and read its nil
        for _ in range(3):
            assert await command(client, "GET", "cut-off:value") == b"mine"
        assert await command(client, "HGETALL", "cut-off:missing") in ([], {})
    finally:
        await client.aclose()
