"""Engines and the explicit read/write units.

``writer()`` opens a transaction on the primary; ``reader()`` a read-only unit (the same SQLite file in the
embedded default; replicas arrive with the data tier). A unit of work opened by ``reader()`` refuses writes,
so a write path that touches a reader fails loudly in tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import Counter
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from myclothes.db.repositories import SqlUnitOfWork

DB_QUERIES = Counter("myclothes_db_queries_total", "SQL statements sent, by database role", ["role"])


def _sqlite_engine(url: str, *, writer: bool) -> AsyncEngine:
    # One writer connection per process serialises local writes; BEGIN IMMEDIATE takes the file's write lock
    # up front so two processes never deadlock upgrading a read lock.
    engine = create_async_engine(
        url,
        pool_size=1 if writer else 5,
        max_overflow=0 if writer else 10,
        pool_timeout=30,
        connect_args={"timeout": 15},
    )
    begin_sql = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=15000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql(begin_sql)

    return engine


def _engine(url: str, *, writer: bool) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, writer=writer)
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _count_queries(engine: AsyncEngine, role: str) -> None:
    counter = DB_QUERIES.labels(role=role)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(*_args: Any) -> None:
        counter.inc()


class SqlDatabase:
    """The relational database behind the shop, with explicit read and write units."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.writer_engine = _engine(url, writer=True)
        self.reader_engine = _engine(url, writer=False)
        _count_queries(self.writer_engine, "primary")
        _count_queries(self.reader_engine, "primary")

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[SqlUnitOfWork]:
        """A transaction on the primary: commits when the block ends, rolls back on error."""
        async with self.writer_engine.begin() as connection:
            yield SqlUnitOfWork(connection, read_only=False)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[SqlUnitOfWork]:
        """A read-only unit; any write through it raises."""
        async with self.reader_engine.connect() as connection:
            yield SqlUnitOfWork(connection, read_only=True)
            await connection.rollback()

    async def ping(self) -> None:
        async with self.reader_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.writer_engine.dispose()
        await self.reader_engine.dispose()
