"""The database layer: read/write units, the write-on-reader guard, a 100,000-product catalog."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from tests.support.server import ShopServer

from myclothes.db.engine import SqlDatabase
from myclothes.db.migrate import upgrade
from myclothes.db.repositories import WriteOnReader


async def test_a_write_through_a_reader_fails_loudly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}"
    upgrade(url)
    database = SqlDatabase(url)
    try:
        async with database.reader() as uow:
            with pytest.raises(WriteOnReader):
                await uow.catalog.take_stock("ANY", 1)
            with pytest.raises(WriteOnReader):
                await uow.customers.record_login_failure("a@example.com", "127.0.0.1", 0.0)
    finally:
        await database.dispose()


def test_seed_100000_products_and_browse_with_indexes(tmp_path: Path) -> None:
    server = ShopServer(tmp_path)
    seed = server.cli("db", "seed", "--products", "100000")
    assert seed.returncode == 0, seed.stderr
    with sqlite3.connect(tmp_path / "myclothes.db") as db:
        assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 100_000
        plan = " ".join(
            row[-1]
            for row in db.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM products WHERE category_id = 3 ORDER BY price_cents LIMIT 24"
            )
        )
        assert "ix_products_category_price" in plan
        plan = " ".join(
            row[-1]
            for row in db.execute("EXPLAIN QUERY PLAN SELECT 1 FROM variants WHERE product_id = 7 AND size = 'M'")
        )
        assert "INDEX" in plan
    with server:
        page = httpx.get(
            f"{server.url}/api/products", params={"category": "hoodies", "size": "M", "sort": "price_asc", "page": 100}
        ).json()
        assert page["total"] > 5000 and len(page["items"]) == 24
        assert httpx.get(f"{server.url}/products", params={"q": "wool", "page": 3}).status_code == 200
    again = server.cli("db", "seed", "--products", "100000")
    assert "added 0 products" in again.stdout
