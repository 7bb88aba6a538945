"""Every Redis client has one explicit retry policy (none: the stores decide) and sub-second timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.sentinel import MasterNotFoundError, SentinelConnectionPool

from myclothes.domain.errors import StoreUnavailable
from myclothes.redisconn import (
    CALL_DEADLINE_S,
    CONNECT_TIMEOUT_S,
    REDISCOVER_EVERY_S,
    RETRY_PAUSES_S,
    SOCKET_TIMEOUT_S,
    NewestConfigSentinel,
    RedisCalls,
    create_redis,
)
from myclothes.settings import Settings


def _assert_bounded(client: Redis) -> None:
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["retry"].get_retries() == 0
    assert kwargs["socket_timeout"] == SOCKET_TIMEOUT_S <= 0.5
    assert kwargs["socket_connect_timeout"] == CONNECT_TIMEOUT_S <= 0.5


def test_a_plain_client_does_not_retry_on_its_own() -> None:
    _assert_bounded(create_redis(Settings(redis_url="redis://127.0.0.1:1/0")))


def test_the_sentinel_master_client_and_the_sentinel_connections_do_not_retry_on_their_own() -> None:
    client = create_redis(Settings(redis_sentinels=("127.0.0.1:1", "127.0.0.1:2"), redis_url="redis://:pw@x/0"))
    _assert_bounded(client)
    assert client.connection_pool.connection_kwargs["password"] == "pw"
    sentinels = client.connection_pool.sentinel_manager.sentinels  # type: ignore[attr-defined]
    assert len(sentinels) == 2
    for sentinel in sentinels:
        _assert_bounded(sentinel)


async def test_a_write_on_a_transport_the_failover_closed_is_retried_then_unavailable_never_a_500() -> None:
    calls = 0

    async def closed_transport() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True>; the handler is closed")

    async def bug() -> None:
        raise RuntimeError("something else entirely")

    store = RedisCalls(client=create_redis(Settings(redis_url="redis://127.0.0.1:1/0")))
    with pytest.raises(StoreUnavailable):
        await store._call(closed_transport)
    assert calls == 1 + len(RETRY_PAUSES_S)  # tried again after each pause, as for any failover error
    with pytest.raises(RuntimeError):
        await store._call(bug)  # a real bug is not disguised as an outage


class FakeSentinels:
    """Sentinels naming ``primary``; counts the questions."""

    def __init__(self) -> None:
        self.primary = ("10.0.0.1", 7000)
        self.asked = 0

    async def discover_master(self, service_name: str) -> tuple[str, int]:
        self.asked += 1
        await asyncio.sleep(0.01)
        return self.primary


async def test_between_attempts_sentinel_is_asked_again_once_for_all_and_a_new_primary_empties_the_pool() -> None:
    """A partitioned primary answers nothing: each pooled connection to it would cost another request a socket
    timeout, even after Sentinel named a new primary (redis-py asks Sentinel only when it connects)."""
    sentinels = FakeSentinels()
    pool = SentinelConnectionPool("myclothes", sentinels)
    closed: list[bool] = []

    async def disconnect(inuse_connections: bool = True) -> None:
        closed.append(inuse_connections)

    pool.disconnect = disconnect  # type: ignore[method-assign]
    client = Redis(connection_pool=pool)
    stores = [RedisCalls(client) for _ in range(20)]  # twenty requests failing at once
    await pool.get_master_address()
    assert sentinels.asked == 1
    sentinels.primary = ("10.0.0.2", 7000)  # Sentinel fails over
    await asyncio.gather(*(store._rediscover() for store in stores))  # none of them waits for the answer
    assert sentinels.asked == 2  # one question for all of them
    await asyncio.sleep(0.05)
    assert pool.master_address == ("10.0.0.2", 7000) and closed == [False, False]  # idle connections closed
    await stores[0]._rediscover()
    assert sentinels.asked == 2  # not again within REDISCOVER_EVERY_S
    await asyncio.sleep(REDISCOVER_EVERY_S)
    await stores[0]._rediscover()
    await asyncio.sleep(0.05)
    assert sentinels.asked == 3


async def test_a_call_that_keeps_failing_gives_up_within_its_deadline() -> None:
    store = RedisCalls(client=create_redis(Settings(redis_url="redis://127.0.0.1:1/0")))  # nothing listens
    started = asyncio.get_running_loop().time()
    with pytest.raises(StoreUnavailable):
        await store._call(lambda: store.client.get("k"))
    assert asyncio.get_running_loop().time() - started <= CALL_DEADLINE_S + 0.05


class FakeSentinel:
    """A Sentinel's answer to SENTINEL MASTERS after ``delay_s`` (None: it never answers, like a cut-off one)."""

    def __init__(self, state: dict[str, Any] | None, delay_s: float | None = 0.0) -> None:
        self.state = state
        self.delay_s = delay_s

    async def sentinel_masters(self) -> dict[str, Any]:
        await asyncio.sleep(3600 if self.delay_s is None else self.delay_s)
        return {"myclothes": self.state} if self.state else {}


def _master(port: int, epoch: int, *flags: str) -> dict[str, Any]:
    return {
        "ip": "10.0.0.1",
        "port": port,
        "config-epoch": epoch,
        "is_master": True,
        "is_sdown": "s_down" in flags,
        "is_odown": "o_down" in flags,
        "num-other-sentinels": 2,
    }


def _discovery(*sentinels: FakeSentinel) -> NewestConfigSentinel:
    manager = NewestConfigSentinel([])
    manager.sentinels = list(sentinels)
    return manager


async def test_discovery_believes_the_newest_configuration_not_the_first_answer() -> None:
    lagging = FakeSentinel(_master(7000, epoch=3))  # has not heard of the failover yet
    switched = FakeSentinel(_master(7001, epoch=4), delay_s=0.005)
    assert await _discovery(lagging, switched).discover_master("myclothes") == ("10.0.0.1", 7001)


async def test_a_cut_off_sentinel_does_not_delay_discovery_and_a_primary_flagged_down_is_not_named() -> None:
    cut_off = FakeSentinel(None, delay_s=None)
    failing_over = FakeSentinel(_master(7000, 3, "s_down", "o_down"))
    switched = FakeSentinel(_master(7001, epoch=4))
    started = asyncio.get_running_loop().time()
    assert await _discovery(cut_off, failing_over, switched).discover_master("myclothes") == ("10.0.0.1", 7001)
    assert asyncio.get_running_loop().time() - started < 0.2
    with pytest.raises(MasterNotFoundError):
        await _discovery(failing_over, FakeSentinel(None)).discover_master("myclothes")
