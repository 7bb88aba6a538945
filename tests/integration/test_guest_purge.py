"""An abandoned guest cart leaves no rows once its session can no longer exist (the ``sql`` cart store)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from myclothes.carts.sql import SqlCartStore
from myclothes.db.engine import SqlDatabase
from myclothes.db.migrate import upgrade
from myclothes.db.tables import cart_lines


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
