"""The catalog cache: a byte cache port, and the typed cache-aside the catalog reads through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Cache(Protocol):
    """A byte cache with per-entry TTL, used cache-aside for catalog reads. Every backend passes
    ``tests/contracts/test_cache.py``; a backend that cannot be reached behaves as empty (reads miss)."""

    async def get(self, key: str) -> bytes | None:
        """The live entry for ``key``, or None."""
        ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store ``value`` for ``ttl_s`` seconds, replacing any entry."""
        ...

    async def add(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store ``value`` unless ``key`` already holds an entry (Redis ``SET NX``)."""
        ...

    async def delete(self, *keys: str) -> None:
        """Forget ``keys`` (unknown keys are ignored)."""
        ...

    async def ping(self) -> bool:
        """True when the cache answers; raise if it cannot be reached."""
        ...


class CatalogCache(Protocol):
    """Typed cache-aside for catalog reads: versioned keys, single-flight loads, stale markers, generations."""

    def key(self, *parts: str) -> str:
        """A versioned key built from ``parts``."""
        ...

    async def get_or_load(
        self,
        key: str,
        kind: type[T],
        load: Callable[[], Awaitable[T]],
        *,
        fresh: Callable[[], Awaitable[T]] | None = None,
        ttl_s: float | None = None,
    ) -> T:
        """The cached value for ``key``, else ``load()`` (``fresh()`` after a change), cached for ``ttl_s``."""
        ...

    async def put(self, key: str, value: object, ttl_s: float) -> None:
        """Add an entry a loader already has in hand (never over a stale marker or a newer value)."""
        ...

    async def invalidate(self, *keys: str) -> None:
        """Delete entries: the next reader rebuilds them from a replica."""
        ...

    async def mark_stale(self, *keys: str) -> None:
        """After a committed change: the next reader rebuilds these entries from the primary."""
        ...

    async def generation(self, family: str) -> tuple[str, bool]:
        """The current generation of a family of keys and whether it changed within the stale window."""
        ...

    async def bump(self, family: str) -> None:
        """Start a new generation of ``family`` after a committed change."""
        ...
