"""One Redis client per process: a plain URL or Sentinel, with hiredis and short timeouts."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

from myclothes.settings import Settings

SOCKET_TIMEOUT_S = 0.5


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
            sentinels, socket_timeout=SOCKET_TIMEOUT_S, sentinel_kwargs={"socket_timeout": SOCKET_TIMEOUT_S}
        )
        return sentinel.master_for(
            settings.redis_service,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=SOCKET_TIMEOUT_S,
            username=username,
            password=password,
        )
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=SOCKET_TIMEOUT_S,
    )
