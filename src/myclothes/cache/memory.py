"""An in-process LRU cache with per-entry TTL (the embedded default), and the ``none`` cache."""

from __future__ import annotations

import time
from collections import OrderedDict


class MemoryCache:
    """Bytes by key in this process, least recently used evicted beyond ``max_entries``."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def peek(self, key: str) -> bytes | None:
        """The live entry for ``key`` or None, without awaiting (the near cache in front of Redis uses it)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store ``value`` for ``ttl_s`` seconds, evicting the least recently used beyond the limit."""
        self._entries[key] = (time.monotonic() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def discard(self, *keys: str) -> None:
        """Forget ``keys`` (unknown keys are ignored)."""
        for key in keys:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    async def get(self, key: str) -> bytes | None:
        return self.peek(key)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self.put(key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> None:
        if self.peek(key) is None:
            self.put(key, value, ttl_s)

    async def delete(self, *keys: str) -> None:
        self.discard(*keys)

    async def ping(self) -> bool:
        return self.max_entries > 0  # nothing to reach: the entries are this process's own


class NullCache:
    """``MYCLOTHES_CACHE=none``: every read goes to the database."""

    async def get(self, key: str) -> bytes | None:
        return None

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        return None

    async def add(self, key: str, value: bytes, ttl_s: float) -> None:
        return None

    async def delete(self, *keys: str) -> None:
        return None

    async def ping(self) -> bool:
        return True  # nothing to reach
