"""An abandoned guest cart leaves nothing behind once its session can no longer exist (``sql`` and ``memory``)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select
from tests.unit.fakes import ManualClock

from myclothes.carts.memory import MemoryCartStore
from myclothes.carts.sql import SqlCartStore
from myclothes.db.engine import SqlDatabase
from myclothes.db.migrate import upgrade
from myclothes.db.tables import cart_lines
from myclothes.db.tables import sessions as sessions_table
from myclothes.ports import SessionRecord
from myclothes.sessions.memory import SWEEP_EVERY_S, MemorySessionStore
from myclothes.sessions.sql import SqlSessionStore


async def _rows(database: SqlDatabase) -> dict[str, int]:
    async with database.primary_connection() as connection:
        found = await connection.execute(select(cart_lines.c.cart_id, func.count()).group_by(cart_lines.c.cart_id))
        return {cart_id: count for cart_id, count in found}


async def test_an_expired_guest_cart_is_purged_and_nothing_else_is(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    database = SqlDatabase(url)
    store = SqlCartStore(database, guest_max_age_s=60)
    try:
        await store.add("g:abandoned", "SKU-1", 1)
        await store.add("g:abandoned", "SKU-2", 2)
        await store.add("g:shopping-now", "SKU-1", 1)
        await store.add("c:42", "SKU-1", 1)  # an account's cart: kept however old
        async with database.primary_transaction() as connection:  # the abandoned guest added its lines long ago
            await connection.execute(
                cart_lines.update().where(cart_lines.c.cart_id != "g:shopping-now").values(added_at=time.time() - 120)
            )
        assert await store.purge_abandoned(time.time()) == 2
        assert await _rows(database) == {"g:shopping-now": 1, "c:42": 1}
    finally:
        await database.dispose()


async def test_the_memory_store_forgets_abandoned_guest_carts_and_expired_sessions() -> None:
    clock = ManualClock(1_000_000.0)
    carts = MemoryCartStore(guest_max_age_s=3600, clock=clock)
    await carts.add("g:abandoned", "SKU-1", 1)
    await carts.add("c:42", "SKU-1", 1)  # an account's cart: kept however old
    clock.now += 1800
    await carts.add("g:shopping-now", "SKU-1", 1)
    clock.now += 1900  # the abandoned cart is 3700 s old, the other 1900 s
    await carts.add("g:shopping-now", "SKU-2", 1)  # a change after SWEEP_EVERY_S sweeps
    assert await carts.lines("g:abandoned") == []
    assert len(await carts.lines("g:shopping-now")) == 2 and len(await carts.lines("c:42")) == 1

    sessions = MemorySessionStore(clock=clock)
    await sessions.save(SessionRecord(id="gone", expires_at=clock.now + 10))
    await sessions.save(SessionRecord(id="alive", expires_at=clock.now + 7200))
    clock.now += SWEEP_EVERY_S + 20
    await sessions.save(SessionRecord(id="new", expires_at=clock.now + 7200))  # nobody ever read "gone" again
    assert set(sessions._sessions) == {"alive", "new"}


async def test_sql_writes_start_the_sweeps_in_the_background_when_they_are_due(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    database = SqlDatabase(url)
    carts, sessions = SqlCartStore(database, guest_max_age_s=60), SqlSessionStore(database)
    carts.sweep._next_at = sessions.sweep._next_at = float("inf")  # not due (the first falls anywhere in 60 s)
    try:
        await carts.add("g:abandoned", "SKU-1", 1)
        await sessions.save(SessionRecord(id="gone", expires_at=time.time() - 1))
        async with database.primary_transaction() as connection:
            await connection.execute(cart_lines.update().values(added_at=time.time() - 120))
        await carts.add("c:42", "SKU-1", 1)
        await carts.sweep.wait()
        await sessions.sweep.wait()
        assert set(await _rows(database)) == {"g:abandoned", "c:42"}  # neither sweep was due yet
        carts.sweep._next_at = sessions.sweep._next_at = 0  # their interval has passed
        await carts.add("c:42", "SKU-2", 1)
        await sessions.save(SessionRecord(id="alive", expires_at=time.time() + 3600))
        await carts.sweep.wait()
        await sessions.sweep.wait()
        assert set(await _rows(database)) == {"c:42"}
        async with database.primary_connection() as connection:
            left = await connection.execute(select(sessions_table.c.id))
            assert {row[0] for row in left} == {"alive"}
    finally:
        await database.dispose()
