"""While the Redis primary is silent, sessions and carts are read from a replica instead of each request waiting out
the primary's timeouts (``redisconn.RedisCalls._read``); writes still go to the primary only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import redis as redis_sync
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from tests.support.redis_server import RedisServer, SentinelServer
from tests.support.server import frozen

from myclothes.carts.redis import RedisCartStore
from myclothes.domain.cart import CartLine
from myclothes.domain.errors import StoreUnavailable
from myclothes.ports import CartGuess, SessionRecord, SessionState
from myclothes.redisconn import SUSPECT_HOLD_S, PrimaryHealth, create_replica_reader, create_store_redis
from myclothes.sessions.hashed import HashedIdSessionStore
from myclothes.sessions.redis import RedisSessionStore
from myclothes.settings import Settings

T = TypeVar("T")


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[RedisServer, RedisServer, Settings]]:
    """A primary, its replica and a Sentinel that lists the replica."""
    with (
        RedisServer(tmp_path / "primary") as primary,
        RedisServer(tmp_path / "replica", replica_of=primary.port) as replica,
    ):
        sentinel = SentinelServer(tmp_path / "sentinel", primary.port).start()
        try:
            deadline = time.monotonic() + 20
            client = redis_sync.Redis(port=sentinel.port)
            while not client.execute_command("SENTINEL", "REPLICAS", "myclothes"):
                assert time.monotonic() < deadline, "the Sentinel never listed the replica"
                time.sleep(0.1)
            client.close()
            # Sentinel lists a replica as soon as the primary names it, before its first sync is done: the stores'
            # writes (each confirmed by WAIT 1 within 200 ms) failed until then on a loaded machine. Wait until a
            # write is confirmed.
            link = redis_sync.Redis(port=primary.port)
            while not (link.set("myclothes-test:probe", "1") and link.wait(1, 200) >= 1):
                assert time.monotonic() < deadline, "the replica never confirmed a write"
                time.sleep(0.05)
            link.close()
            yield primary, replica, Settings(redis_sentinels=(f"127.0.0.1:{sentinel.port}",), cart_store="redis")
        finally:
            sentinel.stop()


async def _timed(call: Awaitable[T]) -> tuple[T, float]:
    started = time.monotonic()
    answer = await call
    return answer, time.monotonic() - started


def _stores(settings: Settings) -> tuple[Redis, Redis, PrimaryHealth, RedisSessionStore, RedisCartStore]:
    """The primary's and the replicas' clients, and the stores over them, sharing one view of the primary."""
    client, replica = create_store_redis(settings), create_replica_reader(settings)
    assert replica is not None
    health = PrimaryHealth()
    sessions = RedisSessionStore(client, True, replica, health)
    return client, replica, health, sessions, RedisCartStore(client, 3600, 7200, True, replica, health)


async def test_a_silent_primary_costs_one_timeout_then_reads_come_from_the_replica(
    watched: tuple[RedisServer, RedisServer, Settings],
) -> None:
    primary, _replica, settings = watched
    client, replica, health, sessions, carts = _stores(settings)
    try:
        now = time.time()
        await sessions.save(SessionRecord("s1", SessionState(customer_id=7), now, now + 600))
        await carts.add("c1", "SKU-1", 2)  # both acknowledged by the replica (WAIT 1)
        assert (await sessions.load("s1", now)) is not None and not health.suspect()
        await carts.lines("c1")  # the replica client has its connection before the primary goes silent
        with frozen(primary.pids()):
            first, first_s = await _timed(sessions.load("s1", time.time()))
            assert first is not None and first.state.customer_id == 7
            assert health.suspect()
            later = [await _timed(sessions.load("s1", time.time())) for _ in range(5)]
            lines, lines_s = await _timed(carts.lines("c1"))
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await carts.add("c1", "SKU-1", 1)  # writes never go to a replica
            write_s = time.monotonic() - started
        print(f"\nprimary silent: first load {first_s:.3f} s, then {max(s for _, s in later) * 1000:.1f} ms at most;")
        print(f"cart read {lines_s * 1000:.1f} ms; a write refused after {write_s:.2f} s")
        assert first_s < 0.75  # one socket timeout on the primary, then the replica
        assert all(record is not None and record.state.customer_id == 7 for record, _ in later)
        assert max(s for _, s in later) < 0.1 and lines_s < 0.1
        assert [(line.sku, line.quantity) for line in lines] == [("SKU-1", 2)]
        # The primary answers again: after the hold, one read tries it and the suspicion ends.
        await asyncio.sleep(SUSPECT_HOLD_S + 0.1)
        assert (await sessions.load("s1", time.time())) is not None
        assert not health.suspect()
    finally:
        await client.aclose()
        await replica.aclose()


def test_after_a_failure_reads_are_held_on_the_replica_and_one_read_per_hold_tries_the_primary() -> None:
    health = PrimaryHealth(hold_s=0.2)
    assert not health.suspect()
    health.failed()
    assert health.suspect() and health.suspect()
    time.sleep(0.25)
    assert not health.suspect()  # this caller tries the primary...
    assert health.suspect()  # ...while the others stay on the replica
    health.answered()
    assert not health.suspect()


def _scripts_run(server: RedisServer) -> int:
    stats = redis_sync.Redis(port=server.port).info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval"))


def _round_trips() -> float:
    return REGISTRY.get_sample_value("myclothes_redis_round_trips_total", {"client": "stores"}) or 0.0


async def test_a_session_and_its_cart_are_read_in_one_round_trip_from_the_primary_or_a_replica(
    watched: tuple[RedisServer, RedisServer, Settings],
) -> None:
    primary, replica_server, settings = watched
    client, replica, health, raw_sessions, carts = _stores(settings)
    sessions = HashedIdSessionStore(raw_sessions)
    try:
        now = time.time()
        await sessions.save(SessionRecord("guest-id", SessionState(guest_cart="g:abc"), now, now + 600))
        await sessions.save(SessionRecord("ada-id", SessionState(customer_id=42), now, now + 600))
        await sessions.save(SessionRecord("no-cart-id", SessionState(), now, now + 600))
        await carts.add("g:abc", "SKU-1", 2)
        await carts.add("c:42", "SKU-2", 3)
        before = _round_trips()
        guest, guest_cart = await sessions.load_with_cart("guest-id", now)
        ada, ada_cart = await sessions.load_with_cart("ada-id", now)
        plain, no_cart = await sessions.load_with_cart("no-cart-id", now)
        assert _round_trips() - before == 3  # one per session, its cart included
        assert guest is not None and guest.id == "guest-id" and guest_cart == CartGuess("g:abc", [CartLine("SKU-1", 2)])
        assert ada is not None and ada_cart == CartGuess("c:42", [CartLine("SKU-2", 3)])
        assert plain is not None and no_cart is None

        health.failed()  # the primary is suspect: reads go to the replica, the script included
        on_primary, on_replica = _scripts_run(primary), _scripts_run(replica_server)
        again, again_cart = await sessions.load_with_cart("ada-id", time.time())
        assert again is not None and again_cart == ada_cart
        assert _scripts_run(primary) == on_primary and _scripts_run(replica_server) > on_replica
    finally:
        await client.aclose()
        await replica.aclose()
