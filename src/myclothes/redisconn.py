"""One Redis client per process: a plain URL or Sentinel, with hiredis, short timeouts and no hidden retries.

redis-py retries on its own by default (several attempts with backoff, per command and per Sentinel connection),
which stacks under the stores' own retry and turns a 0.5 s socket timeout into seconds. Every client here gets
``retry=`` explicitly: no retry at all. The stores decide: the cart and session stores call through
:class:`RedisCalls` (one retry after a short pause, the whole call under a deadline); ``cache/redis.py`` retries
nothing, the database answers instead.

A failover shows up as a connection error or a timeout, or as a reply saying the server cannot take the command
yet (``READONLY``, ``NOREPLICAS``, ``LOADING``, ``MASTERDOWN``, ``TRYAGAIN``). :class:`RedisCalls` tries once more
after a short pause, the whole call (Sentinel discovery, connect, command and ``WAIT``) under one deadline, then
raises ``StoreUnavailable`` (503), never a 500. With ``wait_for_replica`` a write counts as done only when a
replica acknowledged it (``WAIT 1``).

A failing call fails fast. Every logged-in page waits on the session store, and HAProxy gives each web process a
few slots: calls that outlast the failover held pages up to 1.2 s during a zone partition, the queue filled, and
browse p99 reached 7.7-11.2 s in 4 of 4 drills with four attempts, 9.7-14.8 s in 2 of 6 with two attempts that
waited for a fresh Sentinel answer (the previous client: 0 of 5).

A killed primary resets every connection at once, but a partitioned one answers nothing, and redis-py asks
Sentinel only when it opens a connection: each pooled connection to the silent primary cost a request its socket
timeout even after Sentinel had named a new primary. So after a failure the Sentinels are asked again in the
background (once per pool at a time, at most every ``REDISCOVER_EVERY_S``); a new answer closes the idle
connections to the old primary. Discovery (:class:`NewestConfigSentinel`) asks every Sentinel at once and believes
the newest configuration: a cut-off Sentinel does not delay it, a lagging one does not name an old primary.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool
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
RETRY_PAUSES_S = (0.075,)  # one more attempt: every logged-in page waits on the session store, so no more
LAST_ATTEMPT_S = 0.1  # an attempt starts only with this much of the deadline left
REDISCOVER_EVERY_S = 0.2
DISCOVERY_GRACE_S = 0.02  # after the first usable answer, for the other Sentinels' (to compare epochs)
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


class NewestConfigSentinel(Sentinel):
    """Sentinel discovery that asks every Sentinel at once and names the primary of the newest configuration.

    redis-py asks the Sentinels one after the other and takes the first usable answer. During a zone partition
    the cut-off Sentinel stays first in its list until a discovery succeeds, so every discovery of the failover
    paid its timeout (0.15-0.5 s) before asking the others; and a Sentinel that has not yet heard of a failover
    names the old primary. Here the first usable answer (a primary not flagged down) is taken after
    ``DISCOVERY_GRACE_S`` more for the others, and the highest ``config-epoch`` among them wins (Sentinel raises it
    at each failover).
    """

    async def discover_master(self, service_name: str) -> tuple[str, int]:
        async def ask(sentinel: Redis) -> dict[str, Any] | None:
            try:
                masters = cast(dict[str, dict[str, Any]], await sentinel.sentinel_masters())
            except (RedisError, OSError):
                return None
            state = masters.get(service_name)
            return state if state and self.check_master_state(state, service_name) else None

        loop = asyncio.get_running_loop()
        pending = {asyncio.ensure_future(ask(sentinel)) for sentinel in self.sentinels}
        usable: list[dict[str, Any]] = []
        grace_until: float | None = None
        while pending:
            timeout = None if grace_until is None else max(0.0, grace_until - loop.time())
            done, pending = await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                break  # the slow ones finish on their own (bounded by the socket timeout), nobody waits for them
            for task in done:
                if (state := task.result()) is not None:
                    usable.append(state)
                    grace_until = grace_until or loop.time() + DISCOVERY_GRACE_S
        if not usable:
            raise MasterNotFoundError(f"No master found for {service_name!r}")
        newest = max(usable, key=lambda state: int(state.get("config-epoch", 0)))
        return newest["ip"], newest["port"]


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
        sentinel = NewestConfigSentinel(
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
        """Run ``operation``; during a failover try again after a short pause, all within ``CALL_DEADLINE_S``."""
        loop = asyncio.get_running_loop()
        last_start = loop.time() + CALL_DEADLINE_S - LAST_ATTEMPT_S
        pauses = iter(RETRY_PAUSES_S)
        try:
            async with asyncio.timeout(CALL_DEADLINE_S):
                while True:
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
                        pause = next(pauses, None)
                        if pause is None or loop.time() + pause > last_start:
                            log.warning("redis unavailable: %s: %s", type(error).__name__, error)
                            raise StoreUnavailable(UNAVAILABLE) from None
                    await asyncio.sleep(pause)
                    await self._rediscover()
        except TimeoutError:
            log.warning("redis call exceeded its %g s deadline", CALL_DEADLINE_S)
            raise StoreUnavailable(UNAVAILABLE) from None

    async def _rediscover(self) -> None:
        """Before another attempt, with Sentinel: have the Sentinels asked again who the primary is, in the
        background (one question at a time per pool, not again within ``REDISCOVER_EVERY_S``). A new answer closes
        the idle connections to the old primary. Nobody waits for it: a failing call must fail fast, or during a
        failover the calls that cannot succeed hold HAProxy's slots and the pages queue behind them."""
        pool = self.client.connection_pool
        if not isinstance(pool, SentinelConnectionPool):
            return
        loop = asyncio.get_running_loop()
        state = _DISCOVERY.setdefault(pool, _Discovery())
        if state.running is None and loop.time() - state.asked_at >= REDISCOVER_EVERY_S:
            state.asked_at = loop.time()
            state.running = asyncio.ensure_future(pool.get_master_address())
            state.running.add_done_callback(lambda task: _forget(state, task))


@dataclass
class _Discovery:
    asked_at: float = -1e9
    running: asyncio.Future[Any] | None = None


_DISCOVERY: weakref.WeakKeyDictionary[SentinelConnectionPool, _Discovery] = weakref.WeakKeyDictionary()


def _forget(state: _Discovery, task: asyncio.Future[Any]) -> None:
    state.running = None
    if not task.cancelled():
        task.exception()  # retrieved: a failed discovery is the next attempt's to report
