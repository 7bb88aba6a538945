"""Session ids are stored hashed, whatever the backend: a database dump, a backup or a Redis snapshot holds no id
that a browser could present.

The cookie carries a random 256-bit id; the store keys the session by SHA-256 of it (a fast hash is enough for a
random secret of that size: there is nothing to guess). Sessions saved before ids were hashed are found once under
the raw id, then moved under the hashed one, so an upgrade logs nobody out and orphans no guest cart (an id shaped
like a stored key is never looked up raw: a key from a leaked dump opens nothing). During a rolling upgrade, a
process of the previous version does not find sessions that upgraded processes saved: a shopper may look logged
out on some requests until the rollout ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from myclothes.ports import (
    CartGuess,
    CartPrefetchingSessionStore,
    GuardedSessionStore,
    SessionGuard,
    SessionRecord,
    SessionStore,
)

T = TypeVar("T")
Loaded = tuple[SessionRecord | None, T | None]  # a session, and what the store read with it


def stored_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()  # 64 hex characters: the column holds 64


class HashedIdSessionStore:
    """Wraps any ``SessionStore`` so that it only ever sees hashed ids."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._prefetching = isinstance(store, CartPrefetchingSessionStore)
        self._guarded = isinstance(store, GuardedSessionStore)

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        record = await self.store.load(stored_id(session_id), now)
        if record is None:
            return await self._saved_unhashed(session_id, now)
        return _keyed(record, session_id)

    async def _saved_unhashed(self, session_id: str, now: float) -> SessionRecord | None:
        """A session saved before ids were hashed, moved under its hashed id."""
        if _looks_hashed(session_id):
            return None  # a stored key from a leaked dump is not a way in
        record = await self.store.load(session_id, now)
        if record is None:
            return None
        await self.store.save(_keyed(record, stored_id(session_id)))
        await self.store.delete(session_id)
        return _keyed(record, session_id)

    async def load_with_cart(self, session_id: str, now: float) -> tuple[SessionRecord | None, CartGuess | None]:
        """``load``, with the cart the session points to when the store can read both at once."""
        if not self._prefetching:
            return await self.load(session_id, now), None
        return await self._load_with(cast(CartPrefetchingSessionStore, self.store).load_with_cart, session_id, now)

    async def load_guarded(self, session_id: str, now: float) -> tuple[SessionRecord | None, SessionGuard | None]:
        """``load``, from the store's own copy with a guard when it keeps one."""
        if not self._guarded:
            return await self.load(session_id, now), None
        return await self._load_with(cast(GuardedSessionStore, self.store).load_guarded, session_id, now)

    async def _load_with(
        self,
        load: Callable[[str, float], Awaitable[Loaded[T]]],
        session_id: str,
        now: float,
    ) -> Loaded[T]:
        """A load that returns something more with the session, under the hashed id (or the unhashed, moved)."""
        record, more = await load(stored_id(session_id), now)
        if record is None:
            return await self._saved_unhashed(session_id, now), None
        return _keyed(record, session_id), more

    async def save(self, record: SessionRecord) -> None:
        await self.store.save(_keyed(record, stored_id(record.id)))

    async def delete(self, session_id: str) -> None:
        await self.store.delete(stored_id(session_id))


def _looks_hashed(session_id: str) -> bool:
    return len(session_id) == 64 and all(ch in "0123456789abcdef" for ch in session_id)


def _keyed(record: SessionRecord, session_id: str) -> SessionRecord:
    return SessionRecord(session_id, record.state, record.created_at, record.expires_at)
