"""Every Redis client has one explicit retry policy (none: the stores decide) and sub-second timeouts."""

from __future__ import annotations

from redis.asyncio import Redis

from myclothes.redisconn import CONNECT_TIMEOUT_S, SOCKET_TIMEOUT_S, create_redis, create_store_redis
from myclothes.redismux import MultiplexedRedis
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
    import pytest

    from myclothes.domain.errors import StoreUnavailable
    from myclothes.redisconn import RedisCalls

    calls = 0

    async def closed_transport(_send: object) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True>; the handler is closed")

    async def bug(_send: object) -> None:
        raise RuntimeError("something else entirely")

    store = RedisCalls(client=None)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):
        await store._call(closed_transport)
    assert calls == 2  # one retry, as for any failover error
    with pytest.raises(RuntimeError):
        await store._call(bug)  # a real bug is not disguised as an outage


def test_the_stores_multiplex_plain_tcp_and_leave_tls_and_unix_sockets_to_redis_py() -> None:
    assert isinstance(create_store_redis(Settings(redis_url="redis://127.0.0.1:1/0")), MultiplexedRedis)
    sentinels = Settings(redis_sentinels=("127.0.0.1:1",), redis_url="redis://:pw@x/0")
    assert isinstance(create_store_redis(sentinels), MultiplexedRedis)
    for url in ("rediss://:token@127.0.0.1:1/0", "unix:///run/redis.sock"):
        client = create_store_redis(Settings(redis_url=url))
        assert not isinstance(client, MultiplexedRedis), url
        assert isinstance(client, Redis)
