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

from myclothes.ports import SessionRecord, SessionStore


def stored_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()  # 64 hex characters: the column holds 64


class HashedIdSessionStore:
    """Wraps any ``SessionStore`` so that it only ever sees hashed ids."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        record = await self.store.load(stored_id(session_id), now)
        if record is None:
            if _looks_hashed(session_id):
                return None  # a stored key from a leaked dump is not a way in
            record = await self.store.load(session_id, now)  # saved before ids were hashed
            if record is None:
                return None
            await self.store.save(_keyed(record, stored_id(session_id)))
            await self.store.delete(session_id)
        return _keyed(record, session_id)

    async def save(self, record: SessionRecord) -> None:
        await self.store.save(_keyed(record, stored_id(record.id)))

    async def delete(self, session_id: str) -> None:
        await self.store.delete(stored_id(session_id))


def _looks_hashed(session_id: str) -> bool:
    return len(session_id) == 64 and all(ch in "0123456789abcdef" for ch in session_id)


def _keyed(record: SessionRecord, session_id: str) -> SessionRecord:
    return SessionRecord(session_id, record.state, record.created_at, record.expires_at)
