"""The SessionStore contract: a new backend passes this suite or it is not done."""

from __future__ import annotations

import time

from myclothes.ports import AddedToCart, LateMerge, Notice, SessionRecord, SessionState, SessionStore


def a_record(session_id: str = "s1", **state: object) -> SessionRecord:
    now = time.time()
    return SessionRecord(session_id, SessionState(**state), created_at=now, expires_at=now + 600)  # type: ignore[arg-type]


async def test_an_unknown_id_loads_nothing(session_store: SessionStore) -> None:
    assert await session_store.load("nobody", time.time()) is None


async def test_a_saved_session_loads_with_all_its_state(session_store: SessionStore) -> None:
    record = a_record(
        customer_id=7,
        late_merge=LateMerge("g:abc", 1234.5),
        flashes=["Welcome back."],
        problem=Notice("choose a size first", "size"),
        added=AddedToCart(2, "Tee", "navy", "M", 3, 4),
        db_lsn="0/16B3748",
    )
    await session_store.save(record)
    assert await session_store.load("s1", time.time()) == record


async def test_saving_again_replaces_the_state(session_store: SessionStore) -> None:
    record = a_record(guest_cart="g:1")
    await session_store.save(record)
    record.state.guest_cart = None
    record.state.customer_id = 3
    await session_store.save(record)
    loaded = await session_store.load("s1", time.time())
    assert loaded is not None and loaded.state == SessionState(customer_id=3)


async def test_a_loaded_session_is_a_copy_until_saved(session_store: SessionStore) -> None:
    await session_store.save(a_record(flashes=["hi"]))
    loaded = await session_store.load("s1", time.time())
    assert loaded is not None
    loaded.state.flashes.append("changed")
    again = await session_store.load("s1", time.time())
    assert again is not None and again.state.flashes == ["hi"]


async def test_an_expired_session_loads_nothing(session_store: SessionStore) -> None:
    record = a_record(customer_id=1)
    await session_store.save(record)
    assert await session_store.load("s1", record.expires_at + 1) is None


async def test_sessions_are_separate_and_delete_destroys_one(session_store: SessionStore) -> None:
    await session_store.save(a_record("s1", customer_id=1))
    await session_store.save(a_record("s2", customer_id=2))
    await session_store.delete("s1")
    await session_store.delete("never-existed")
    assert await session_store.load("s1", time.time()) is None
    other = await session_store.load("s2", time.time())
    assert other is not None and other.state.customer_id == 2
