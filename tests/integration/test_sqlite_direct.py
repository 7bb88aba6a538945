"""``db/direct.execute`` on a real SQLite file: the cart's statements sent to sqlite3 itself give the rows
SQLAlchemy gives, keep the values compiled into them, are counted as statements, and refuse as the upsert must."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy import Connection

from myclothes.carts.sql import _LINES, SqlCartStore
from myclothes.db.direct import execute
from myclothes.db.engine import SqlDatabase
from myclothes.db.migrate import upgrade
from myclothes.domain.cart import MAX_LINES


def _statements() -> float:
    return REGISTRY.get_sample_value("myclothes_db_queries_total", {"role": "primary"}) or 0.0


async def test_the_carts_statements_on_sqlite3_match_sqlalchemys_rows_and_are_counted(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    database = SqlDatabase(url)
    store = SqlCartStore(database)
    try:
        for n in range(5):
            await store.add("g:cart", f"SKU-{n}", n + 1)
        line = {"cart_id": "g:cart", "sku": "SKU-2", "quantity": 4, "added_at": 0.0, "limit": 99}

        def compare(connection: Connection) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], float]:
            assert connection.dialect.driver == "pysqlite"  # the direct connections, where execute uses sqlite3
            through_sqlalchemy = [tuple(row) for row in connection.execute(_LINES, {"cart_id": "g:cart"})]
            before = _statements()
            direct = [tuple(row) for row in execute(connection, _LINES, {"cart_id": "g:cart"})]
            return through_sqlalchemy, direct, _statements() - before

        sqlalchemy_rows, direct_rows, counted = await database.run_on_primary(compare, "read")
        assert direct_rows == sqlalchemy_rows == [(f"SKU-{n}", n + 1) for n in range(5)]
        assert counted == 1

        def add(connection: Connection) -> list[tuple[object, ...]]:
            return [tuple(row) for row in execute(connection, store._add, line)]

        assert await database.run_on_primary(add, "statements") == [(7,)]  # 3 + 4: the new quantity returned
        line["limit"] = 7
        assert await database.run_on_primary(add, "statements") == []  # 7 + 4 would pass the limit: refused
        for n in range(5, MAX_LINES):
            await store.add("g:cart", f"SKU-{n}", 1)
        full = {**line, "sku": "SKU-NEW", "quantity": 1, "limit": 99}
        assert await database.run_on_primary(lambda c: list(execute(c, store._add, full)), "statements") == []
        assert len(await store.lines("g:cart")) == MAX_LINES  # the compiled-in line limit held
    finally:
        await database.dispose()
