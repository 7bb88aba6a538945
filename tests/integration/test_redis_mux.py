"""The stores' multiplexed connection (``redismux.py``) over real redis-servers: replies reach the command that sent
them under concurrency, after errors and after a caller gave up; a silent, restarted or demoted server and a
password-protected one behave as the stores' retry policy expects; a replicated write waits on its own
connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis as redis_sync
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ReadOnlyError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tests.support.redis_server import RedisServer
from tests.support.server import frozen

from myclothes.redisconn import NotReplicated, command, create_store_redis, replicated
from myclothes.redismux import SOCKET_TIMEOUT_S, SWEEP_S, MultiplexedRedis
from myclothes.settings import Settings


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as redis_server:
        yield redis_server


@pytest.fixture
async def client(server: RedisServer) -> AsyncIterator[MultiplexedRedis]:
    multiplexed = _client(server.url)
    yield multiplexed
    await multiplexed.aclose()


def _client(url: str) -> MultiplexedRedis:
    client = create_store_redis(Settings(redis_url=url, cart_store="redis"))
    assert isinstance(client, MultiplexedRedis)
    return client


def _clients_of(server: RedisServer) -> int:
    return int(redis_sync.Redis(port=server.port).info("clients")["connected_clients"]) - 1  # less this one


async def test_concurrent_commands_each_get_their_own_reply_over_one_connection(
    client: MultiplexedRedis, server: RedisServer
) -> None:

    async def shopper(n: int) -> list[bytes | None]:
        await command(client, "SET", f"mux:{n}", f"value-{n}".encode())
        seen = [await command(client, "GET", f"mux:{n}") for _ in range(20)]
        await command(client, "HSET", f"mux:h:{n}", "sku", n)
        assert await command(client, "HGETALL", f"mux:h:{n}") == [b"sku", str(n).encode()]  # RESP2: flat
        return seen

    answers = await asyncio.gather(*(shopper(n) for n in range(200)))
    assert all(seen == [f"value-{n}".encode()] * 20 for n, seen in enumerate(answers))
    assert _clients_of(server) == 1  # 200 shoppers, 4 400 commands: one connection


async def test_error_replies_are_redis_py_exceptions_and_the_connection_stays_in_step(client: MultiplexedRedis) -> None:
    await command(client, "SET", "mux:k", b"v")
    with pytest.raises(NoScriptError):
        await command(client, "EVALSHA", "0" * 40, 0)
    with pytest.raises(ResponseError, match=r"^LINES$"):
        await command(client, "EVAL", "return redis.error_reply('LINES')", 0)
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await command(client, "HGETALL", "mux:k")
    assert await command(client, "GET", "mux:k") == b"v"


async def test_a_caller_that_gave_up_leaves_its_reply_behind_not_in_the_next_callers_hands(
    client: MultiplexedRedis, server: RedisServer
) -> None:
    await command(client, "SET", "mux:mine", b"mine")
    slow = "local n = 0 for i = 1, 3000000 do n = n + i end return n"  # ~0.1 s of Lua
    for _ in range(3):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await command(client, "EVAL", slow, 0)  # cancelled while its reply is outstanding
        # queued behind the slow script on the same connection: this reply, not the script's number
        assert await command(client, "GET", "mux:mine") == b"mine"
    assert _clients_of(server) == 1


async def test_a_silent_server_fails_what_is_in_flight_within_the_socket_timeout(
    client: MultiplexedRedis, server: RedisServer
) -> None:
    await command(client, "SET", "mux:k", b"v")
    with frozen(server.pids()):
        started = time.monotonic()
        results = await asyncio.gather(*(command(client, "GET", "mux:k") for _ in range(5)), return_exceptions=True)
        took = time.monotonic() - started
    assert all(isinstance(result, RedisTimeoutError) for result in results), results
    assert SOCKET_TIMEOUT_S <= took < SOCKET_TIMEOUT_S + SWEEP_S + 0.1, took
    assert await command(client, "GET", "mux:k") == b"v"  # a new connection once it answers again


async def test_a_restarted_server_is_a_connection_error_then_served_again(tmp_path: Path) -> None:
    first = RedisServer(tmp_path / "one").start()
    client = _client(first.url)
    try:
        await command(client, "SET", "mux:k", b"v")
        first.stop(kill=True)
        with pytest.raises(RedisConnectionError):
            await command(client, "GET", "mux:k")
        with pytest.raises(RedisConnectionError):  # nobody listens: refused at once, tried again next time
            await command(client, "GET", "mux:k")
        with RedisServer(tmp_path / "two", port=first.port):
            assert await command(client, "GET", "mux:k") is None  # a new, empty server
            await command(client, "SET", "mux:k", b"again")
            assert await command(client, "GET", "mux:k") == b"again"
    finally:
        await client.aclose()


async def test_password_and_database_number_come_from_the_clients_url(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "locked", password="s3cret") as locked:
        client = _client(f"redis://:s3cret@127.0.0.1:{locked.port}/3")
        try:
            await command(client, "SET", "mux:db", b"three")
        finally:
            await client.aclose()
        assert redis_sync.Redis(port=locked.port, password="s3cret", db=3).get("mux:db") == b"three"
        assert redis_sync.Redis(port=locked.port, password="s3cret", db=0).get("mux:db") is None
        wrong = _client(f"redis://:wrong@127.0.0.1:{locked.port}/0")
        try:
            with pytest.raises(RedisConnectionError, match="refused the connection's setup"):
                await command(wrong, "GET", "mux:db")
        finally:
            await wrong.aclose()


async def test_a_demoted_primary_answers_readonly_and_the_next_command_connects_anew(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "a") as a, RedisServer(tmp_path / "b") as b:
        client = _client(a.url)
        try:
            await command(client, "SET", "mux:k", b"v")
            admin = redis_sync.Redis(port=a.port)
            admin.replicaof("127.0.0.1", b.port)  # demoted
            with pytest.raises(ReadOnlyError):
                await command(client, "SET", "mux:k", b"w")
            admin.replicaof("NO", "ONE")  # promoted again
            await command(client, "SET", "mux:k", b"w")
            assert await command(client, "GET", "mux:k") == b"w"
            admin.close()
            assert _clients_of(a) == 1  # the demoted connection was closed, not leaked
        finally:
            await client.aclose()


async def test_a_replicated_write_waits_for_a_replica_on_its_own_connection(tmp_path: Path) -> None:
    with (
        RedisServer(tmp_path / "primary") as primary,
        RedisServer(tmp_path / "replica", replica_of=primary.port) as replica,
    ):
        client = _client(primary.url)
        try:
            deadline = time.monotonic() + 10
            while redis_sync.Redis(port=primary.port).info("replication")["connected_slaves"] < 1:
                assert time.monotonic() < deadline, "the replica never connected"
                await asyncio.sleep(0.05)
            for n in range(50):
                assert await replicated(client, "SET", f"mux:r:{n}", b"x") in (b"OK", "OK", True)
                assert redis_sync.Redis(port=replica.port).get(f"mux:r:{n}") == b"x"  # already there
            with pytest.raises(ResponseError, match="WRONGTYPE"):  # an error, then the WAIT's reply is read too
                await replicated(client, "HSET", "mux:r:0", "f", "v")
            assert await replicated(client, "SET", "mux:r:after", b"y") in (b"OK", "OK", True)
            demoted = _client(replica.url)  # what a write meets on a primary demoted mid-failover
            try:
                with pytest.raises(
                    ReadOnlyError
                ):  # the write's refusal, not the WAIT's ("cannot be used with replica")
                    await replicated(demoted, "SET", "mux:r:demoted", b"x")
                assert await command(demoted, "GET", "mux:r:after") == b"y"  # and that connection stays usable
            finally:
                await demoted.aclose()
            replica.stop(kill=True)
            await asyncio.sleep(0.2)
            with pytest.raises(NotReplicated):
                await replicated(client, "SET", "mux:r:lonely", b"z")
        finally:
            await client.aclose()
