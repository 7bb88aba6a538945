"""One Redis client per process: a plain URL or Sentinel, with hiredis, short timeouts and no hidden retries.

redis-py retries on its own by default (several attempts with backoff, per command and per Sentinel connection),
which stacks under the stores' own retry and turns a 0.5 s socket timeout into seconds. Every client here gets
``retry=`` explicitly: no retry at all. The stores decide (``carts/redis.py``: one retry after a short pause, the
whole call under a deadline; ``cache/redis.py``: none, the database answers instead).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from myclothes.settings import Settings

SOCKET_TIMEOUT_S = 0.5
CONNECT_TIMEOUT_S = 0.5


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
