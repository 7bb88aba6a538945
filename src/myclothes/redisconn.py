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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MasterDownError, ReadOnlyError, RedisError, ResponseError, TryAgainError
from redis.exceptions import TimeoutError as RedisTimeoutError

from myclothes.domain.errors import StoreUnavailable
from myclothes.settings import Settings

log = logging.getLogger("myclothes.redis")
T = TypeVar("T")
UNAVAILABLE = "Your cart is temporarily unavailable. Please try again in a moment."
CALL_DEADLINE_S = 1.2  # two attempts of a 0.5 s socket timeout, the pause, and slack
RETRY_PAUSE_S = 0.075
# Replies (error codes) meaning "this server cannot take the command right now": a failover is in progress.
FAILOVER_REPLIES = ("READONLY", "NOREPLICAS", "LOADING", "MASTERDOWN", "TRYAGAIN")

SOCKET_TIMEOUT_S = 0.5
# A live Redis or Sentinel accepts in well under a millisecond (same machine, or the same region's network); a
# partitioned one never answers. At 0.5 s, a logged-in page during a zone partition paid 0.5 s for the dead
# primary's pooled connection and another 0.5 s to reconnect to it, and browse p99 went past 1 s.
CONNECT_TIMEOUT_S = 0.15


def no_retry() -> Retry:
    """The retry policy of every client: a single attempt."""
    return Retry(NoBackoff(), 0)


def create_redis(settings: Settings) -> Redis:
    """The primary's client. With Sentinel, credentials (if any) come from ``MYCLOTHES_REDIS_URL``."""
    if settings.redis_sentinels:
        parts = urlsplit(settings.redis_url) if settings.redis_url else None
        username = unquote(parts.username) if parts and parts.username else None
        password = unquote(parts.password) if parts and parts.password else None
        sentinels = []
        for entry in settings.redis_sentinels:
            host, _, port = entry.rpartition(":")
            sentinels.append((host or "127.0.0.1", int(port)))
        sentinel = Sentinel(
            sentinels,
            sentinel_kwargs={
                "socket_timeout": SOCKET_TIMEOUT_S,
                "socket_connect_timeout": CONNECT_TIMEOUT_S,
                "retry": no_retry(),
            },
        )
        return sentinel.master_for(
            settings.redis_service,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            retry=no_retry(),
            username=username,
            password=password,
        )
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        retry=no_retry(),
    )


def failover_in_progress(error: RedisError) -> bool:
    """True for errors a failover produces: lost or refused connections, timeouts, no master known yet, and
    replies saying the server cannot take the command now (a demoted primary, a replica still loading...)."""
    if isinstance(error, (RedisConnectionError, RedisTimeoutError, ReadOnlyError, TryAgainError, MasterDownError)):
        return True  # ConnectionError covers LOADING (BusyLoadingError) and Sentinel's MasterNotFoundError
    if isinstance(error, ResponseError):
        code = str(getattr(error, "status_code", None) or str(error).split(" ", 1)[0])
        return code in FAILOVER_REPLIES
    return False


class RedisCalls:
    """Calls to Redis under the stores' one retry policy (see the module docstring)."""

    def __init__(self, client: Redis, wait_for_replica: bool = False) -> None:
        self.client = client
        self.wait_for_replica = wait_for_replica

    async def _call(self, operation: Callable[[], Awaitable[T]], write: bool = False) -> T:
        """Run ``operation``; during a failover retry once after a short pause, all within ``CALL_DEADLINE_S``."""
        try:
            async with asyncio.timeout(CALL_DEADLINE_S):
                for attempt in (1, 2):
                    try:
                        result = await operation()
                        if write and self.wait_for_replica and await self.client.wait(1, 200) < 1:
                            raise StoreUnavailable("No replica confirmed the change. Please try again.")
                        return result
                    except (RedisError, RuntimeError) as error:
                        # RuntimeError: uvloop refuses a write on a transport that the failover just closed
                        # ("unable to perform operation on <TCPTransport closed=True ...>"), seen in a drill.
                        if isinstance(error, RuntimeError):
                            if "closed" not in str(error):
                                raise
                        elif not failover_in_progress(error):
                            raise
                        if attempt == 2:
                            log.warning("redis unavailable: %s: %s", type(error).__name__, error)
                            raise StoreUnavailable(UNAVAILABLE) from None
                    await asyncio.sleep(RETRY_PAUSE_S)
        except TimeoutError:
            log.warning("redis call exceeded its %g s deadline", CALL_DEADLINE_S)
            raise StoreUnavailable(UNAVAILABLE) from None
        raise AssertionError("unreachable")
