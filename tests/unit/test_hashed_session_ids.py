"""No store ever holds a session id a browser could present; sessions from before hashing survive the upgrade."""

from __future__ import annotations

import time

from myclothes.ports import SessionRecord, SessionState
from myclothes.sessions.hashed import HashedIdSessionStore, stored_id
from myclothes.sessions.memory import MemorySessionStore


def record(session_id: str) -> SessionRecord:
    now = time.time()
    return SessionRecord(session_id, SessionState(customer_id=5), created_at=now, expires_at=now + 600)


async def test_the_backend_sees_only_the_hash_and_the_caller_only_the_id() -> None:
    backend = MemorySessionStore()
    store = HashedIdSessionStore(backend)
    await store.save(record("presentable-id"))
    assert list(backend._sessions) == [stored_id("presentable-id")]
    assert stored_id("presentable-id") != "presentable-id" and len(stored_id("x")) == 64
    loaded = await store.load("presentable-id", time.time())
    assert loaded is not None and loaded.id == "presentable-id" and loaded.state.customer_id == 5
    assert await store.load(stored_id("presentable-id"), time.time()) is None  # a leaked hash opens nothing
    await store.delete("presentable-id")
    assert backend._sessions == {}


async def test_a_session_saved_before_hashing_is_found_once_and_moved_under_its_hash() -> None:
    backend = MemorySessionStore()
    await backend.save(record("old-raw-id"))
    store = HashedIdSessionStore(backend)
    loaded = await store.load("old-raw-id", time.time())
    assert loaded is not None and loaded.id == "old-raw-id" and loaded.state.customer_id == 5
    assert list(backend._sessions) == [stored_id("old-raw-id")]
