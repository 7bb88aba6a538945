"""One Redis client per process: a plain URL or Sentinel, with hiredis, short timeouts and no hidden retries.

redis-py retries on its own by default (several attempts with backoff, per command and per Sentinel connection),
which stacks under the stores' own retry and turns a 0.5 s socket timeout into seconds. Every client here gets
``retry=`` explicitly: no retry at all. The stores decide: the cart and session stores call through
:class:`RedisCalls` (one retry after a short pause, the whole call under a deadline); ``cache/redis.py`` retries
nothing, the database answers instead.

A failover shows up as a connection error or a timeout, or as a reply saying the server cannot take the command
yet (``READONLY``, ``NOREPLICAS``, ``LOADING``, ``MASTERDOWN``, ``TRYAGAIN``). :class:`RedisCalls` retries once
after a short pause, the whole call (Sentinel discovery, connect, command and ``WAIT``) under one deadline, then
raises ``StoreUnavailable`` (503), never a 500. With ``wait_for_replica`` a write counts as done only when a
replica acknowledged it (``WAIT 1``).

With Sentinel, reads (a session, a cart) have a second way: a replica. Once the primary fails a call, it is
*suspect* for ``SUSPECT_HOLD_S`` and reads go to a replica (any one Sentinel lists as up) instead of waiting out
the silent primary's timeouts again, request after request; one read per hold tries the primary again, and the
first call it answers ends the suspicion. Writes always go to the primary. A replica may be a few milliseconds
behind (acknowledged writes reached at least one replica with ``WAIT 1``, not necessarily this one): only during a
failover, and a shopper's session, seen a moment stale, beats a 503 or a page served as a guest. Without this, a
zone partition cost every logged-in page ~0.75 s (a timeout on the dead primary, a reconnect timing out) until
Sentinel named a new primary, and at 126 req/s the web processes' request slots ran out: browse p99 2.6-4.6 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelManagedConnection
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import (
    MasterDownError,
    NoScriptError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import TimeoutError as RedisTimeoutError

from myclothes.domain.cart import CartLine
from myclothes.domain.errors import StoreUnavailable
from myclothes.redismux import CONNECT_TIMEOUT_S, SOCKET_TIMEOUT_S, MultiplexedRedis
from myclothes.settings import Settings

log = logging.getLogger("myclothes.redis")
PREFIX = "myclothes:v1"  # every key of the stores
CART_PREFIX = f"{PREFIX}:cart:"  # a cart: a hash sku -> quantity, plus "~c" (its creation time)
ROUND_TRIPS = Counter(
    "myclothes_redis_round_trips_total", "Requests sent to Redis (a pipeline or a script counts once)", ["client"]
)
STORE_TRIPS = ROUND_TRIPS.labels(client="stores")  # carts and sessions
T = TypeVar("T")
UNAVAILABLE = "Your cart is temporarily unavailable. Please try again in a moment."
CALL_DEADLINE_S = 1.2  # two attempts of a 0.5 s socket timeout, the pause, and slack
RETRY_PAUSE_S = 0.075
REPLICA_ACK_MS = 200  # how long a write waits for a replica's confirmation (``wait_for_replica``)
# Replies (error codes) meaning "this server cannot take the command right now": a failover is in progress.
FAILOVER_REPLIES = ("READONLY", "NOREPLICAS", "LOADING", "MASTERDOWN", "TRYAGAIN")

# SOCKET_TIMEOUT_S (0.5 s) for a reply and CONNECT_TIMEOUT_S (0.15 s) to connect are redismux.py's. A live Redis
# or Sentinel accepts in well under a millisecond (same machine, or the same region's network); a partitioned one
# never answers. At 0.5 s, a logged-in page during a zone partition paid 0.5 s for the dead
# primary's pooled connection and another 0.5 s to reconnect to it, and browse p99 went past 1 s.
SUSPECT_HOLD_S = 1.0  # after a failed call, reads go to a replica this long (one read per hold tries the primary)
REPLICA_READ_DEADLINE_S = 0.6  # a replica read: Sentinel's replica list, connect and the command


def no_retry() -> Retry:
    """The retry policy of every client: a single attempt."""
    return Retry(NoBackoff(), 0)


def create_redis(settings: Settings, redis_class: type[Redis] = Redis) -> Redis:
    """The primary's client. With Sentinel, credentials (if any) come from ``MYCLOTHES_REDIS_URL``."""
    if settings.redis_sentinels:
        return _sentinel(settings).master_for(settings.redis_service, redis_class=redis_class, **_bounded(settings))
    return redis_class.from_url(
        settings.redis_url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        retry=no_retry(),
    )


def create_store_redis(settings: Settings) -> Redis:
    """The cart and session stores' client of the primary: their commands on one multiplexed connection
    (``redismux.py``), the rest (a write that must reach a replica) through its pool. Over TLS (``rediss://``)
    or a Unix socket, redis-py's own connections carry everything (the multiplexed one is plain TCP)."""
    client = create_redis(settings, MultiplexedRedis)
    if client.connection_pool.connection_class in (Connection, SentinelManagedConnection):
        return client
    return create_redis(settings)


def _sentinel(settings: Settings) -> Sentinel:
    sentinels = []
    for entry in settings.redis_sentinels:
        host, _, port = entry.rpartition(":")
        sentinels.append((host or "127.0.0.1", int(port)))
    return Sentinel(
        sentinels,
        sentinel_kwargs={
            "socket_timeout": SOCKET_TIMEOUT_S,
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
            "retry": no_retry(),
        },
    )


def _bounded(settings: Settings) -> dict[str, Any]:
    """A Sentinel-managed client's keyword arguments: timeouts, no retry, credentials from the URL."""
    parts = urlsplit(settings.redis_url) if settings.redis_url else None
    return {
        "socket_timeout": SOCKET_TIMEOUT_S,
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "retry": no_retry(),
        "username": unquote(parts.username) if parts and parts.username else None,
        "password": unquote(parts.password) if parts and parts.password else None,
    }


def create_replica_reader(settings: Settings) -> Redis | None:
    """A client for reads from the replicas Sentinel lists as up (round robin); None without Sentinel."""
    if not settings.redis_sentinels:
        return None
    return _sentinel(settings).slave_for(settings.redis_service, **_bounded(settings))


def failover_in_progress(error: RedisError) -> bool:
    """True for errors a failover produces: lost or refused connections, timeouts, no master known yet, and
    replies saying the server cannot take the command now (a demoted primary, a replica still loading...)."""
    if isinstance(error, (RedisConnectionError, RedisTimeoutError, ReadOnlyError, TryAgainError, MasterDownError)):
        return True  # ConnectionError covers LOADING (BusyLoadingError) and Sentinel's MasterNotFoundError
    if isinstance(error, ResponseError):
        code = str(getattr(error, "status_code", None) or str(error).split(" ", 1)[0])
        return code in FAILOVER_REPLIES
    return False


class PrimaryHealth:
    """Whether the primary just failed a call (shared by the stores of one client; see the module docstring)."""

    def __init__(self, hold_s: float = SUSPECT_HOLD_S) -> None:
        self.hold_s = hold_s
        self._until = 0.0

    def suspect(self) -> bool:
        """True while reads should go to a replica; when a hold runs out, False for one caller (who tries the
        primary) while the others stay on the replica for another hold."""
        if not self._until:
            return False
        now = time.monotonic()
        if now < self._until:
            return True
        self._until = now + self.hold_s
        return False

    def failed(self) -> None:
        self._until = time.monotonic() + self.hold_s

    def answered(self) -> None:
        self._until = 0.0


Send = Callable[..., Awaitable[Any]]  # (client, *command) -> reply: ``command`` or ``replicated``


async def run_script(
    script: AsyncScript, client: Redis, keys: Sequence[str], args: Sequence[Any], send: Send | None = None
) -> Any:
    """``script`` on ``client``: ``EVALSHA``, and after a ``NOSCRIPT`` (a server that restarted or was failed over
    to has not seen it) ``SCRIPT LOAD`` and again. What redis-py's ``AsyncScript.__call__`` does, less its per-call
    imports and pipeline checks (about 5% of a cart view's time), sent by ``send`` (``command`` by default)."""
    send = send or command
    try:
        return await send(client, "EVALSHA", script.sha, len(keys), *keys, *args)
    except NoScriptError:
        sha = await command(client, "SCRIPT", "LOAD", script.script)
        script.sha = sha.decode() if isinstance(sha, bytes) else sha
        return await send(client, "EVALSHA", script.sha, len(keys), *keys, *args)


async def command(client: Redis, *args: Any) -> Any:
    """One command on one of ``client``'s pooled connections, its raw reply (no response callback).

    What ``Redis.execute_command`` does for it, less what these clients do not use and pay for on every call: the
    retry wrapper (``no_retry``: one attempt anyway), the per-call observability hooks and the reply callbacks. The
    pool and the connections stay redis-py's, and with them Sentinel's discovery of the primary, reconnects, the
    socket timeouts and ``READONLY`` from a demoted primary. A connection whose send or read failed or was
    cancelled is closed by redis-py before it goes back to the pool, as ``execute_command`` would.
    ``RedisCalls`` retries and bounds the call as it does any other. The stores send their reads, writes and scripts
    this way (through ``execute_command``, the session save alone was 13% of the add-to-cart form's profile).

    The stores' client of the primary (``create_store_redis``) sends it on its multiplexed connection instead
    (``redismux.py``)."""
    if isinstance(client, MultiplexedRedis):
        return await client.channel.call(*args)
    pool = client.connection_pool
    connection = await pool.get_connection()
    try:
        await connection.send_packed_command(connection.pack_command(*args), check_health=False)
        return await connection.read_response()
    finally:
        await pool.release(connection)


async def replicated(client: Redis, *args: Any) -> Any:
    """A write that counts as done once a replica has it: the command and ``WAIT 1`` sent together on one pooled
    connection (``WAIT`` counts the writes of its own connection, and would hold every command queued behind it
    on the multiplexed one), one round trip. ``NotReplicated`` when no replica confirmed it in time."""
    pool = client.connection_pool
    connection = await pool.get_connection()
    try:
        packed = connection.pack_commands([args, ("WAIT", 1, REPLICA_ACK_MS)])
        await connection.send_packed_command(packed, check_health=False)
        try:
            reply = await connection.read_response()
        except ResponseError:
            # The WAIT's reply follows an error too; a replica refuses WAIT as well, and the write's own refusal
            # (READONLY) is what counts.
            with contextlib.suppress(ResponseError):
                await connection.read_response()
            raise
        replicas = await connection.read_response()
    finally:
        await pool.release(connection)
    if replicas < 1:
        raise NotReplicated
    return reply


class NotReplicated(Exception):
    """No replica confirmed a write within ``REPLICA_ACK_MS``."""


class RedisCalls:
    """Calls to Redis under the stores' one retry policy (see the module docstring)."""

    def __init__(
        self,
        client: Redis,
        wait_for_replica: bool = False,
        replica: Redis | None = None,
        health: PrimaryHealth | None = None,
    ) -> None:
        self.client = client
        self.wait_for_replica = wait_for_replica
        self.replica = replica
        self.health = health or PrimaryHealth()

    async def _read(self, read: Callable[[Redis], Awaitable[T]]) -> T:
        """A read on the primary, or on a replica while the primary is suspect or when it fails this call."""
        if self.replica is None:
            return await self._call(lambda _send: read(self.client))
        tried_primary = not self.health.suspect()
        if tried_primary:
            try:
                STORE_TRIPS.inc()
                async with asyncio.timeout(SOCKET_TIMEOUT_S + 0.05):
                    answer = await read(self.client)
                self.health.answered()
                return answer
            except (RedisError, RuntimeError, TimeoutError) as error:
                if not _outage(error):
                    raise
                self.health.failed()
        try:
            STORE_TRIPS.inc()
            async with asyncio.timeout(REPLICA_READ_DEADLINE_S):
                return await read(self.replica)
        except (RedisError, RuntimeError, TimeoutError) as error:
            if not _outage(error):
                raise
            if not tried_primary:  # the replica is the one in trouble: the primary may answer after all
                return await self._call(lambda _send: read(self.client))
            log.warning("redis replica read failed too: %s: %s", type(error).__name__, error)
            raise StoreUnavailable(UNAVAILABLE) from None

    async def _call(self, operation: Callable[[Send], Awaitable[T]], write: bool = False) -> T:
        """Run ``operation`` with the way to send its command (``replicated`` for a write that must reach a
        replica, else ``command``); during a failover retry once after a short pause, all within
        ``CALL_DEADLINE_S``."""
        send: Send = replicated if write and self.wait_for_replica else command
        try:
            async with asyncio.timeout(CALL_DEADLINE_S):
                for attempt in (1, 2):
                    try:
                        STORE_TRIPS.inc()
                        result = await operation(send)
                        self.health.answered()
                        return result
                    except NotReplicated:
                        raise StoreUnavailable("No replica confirmed the change. Please try again.") from None
                    except (RedisError, RuntimeError) as error:
                        if not _outage(error):
                            raise
                        self.health.failed()
                        if attempt == 2:
                            log.warning("redis unavailable: %s: %s", type(error).__name__, error)
                            raise StoreUnavailable(UNAVAILABLE) from None
                    await asyncio.sleep(RETRY_PAUSE_S)
        except TimeoutError:
            self.health.failed()
            log.warning("redis call exceeded its %g s deadline", CALL_DEADLINE_S)
            raise StoreUnavailable(UNAVAILABLE) from None
        raise AssertionError("unreachable")


def _outage(error: BaseException) -> bool:
    """True for what a failover looks like; anything else is a bug and is not disguised as an outage.

    A ``RuntimeError`` counts only when uvloop refuses a write on a transport that the failover just closed
    ("unable to perform operation on <TCPTransport closed=True ...>"), seen in a drill.
    """
    if isinstance(error, TimeoutError):
        return True
    if isinstance(error, RuntimeError):
        return "closed" in str(error)
    return isinstance(error, RedisError) and failover_in_progress(error)


def cart_lines(flat: list[Any]) -> list[CartLine]:
    """A cart hash's fields and values (``HGETALL``'s flat reply) as lines; fields starting with ``~`` are not."""
    pairs = iter(flat)
    return [CartLine(sku.decode(), int(qty)) for sku, qty in zip(pairs, pairs, strict=True) if sku[:1] != b"~"]
