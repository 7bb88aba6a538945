"""Every CartStore backend is built here; the contract suite runs over all of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from myclothes.carts.memory import MemoryCartStore
from myclothes.carts.sql import SqlCartStore
from myclothes.db.engine import SqlDatabase
from myclothes.db.migrate import upgrade
from myclothes.ports import CartStore

BACKENDS = ["memory", "sql"]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CartStore]:
    if request.param == "memory":
        yield MemoryCartStore()
        return
    url = f"sqlite+aiosqlite:///{tmp_path / 'carts.db'}"
    upgrade(url)
    database = SqlDatabase(url)
    yield SqlCartStore(database)
    await database.dispose()
