"""Connection pools: one engine per role, bounded on PostgreSQL, serialised writes on SQLite; counted queries."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, cast

from prometheus_client import Counter
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from myclothes.db.tables import json_text

DB_QUERIES = Counter("myclothes_db_queries_total", "SQL statements sent, by database role", ["role"])

# PostgreSQL bounds: a connect (each host of a multi-host URL) and a statement, and the wait for a pooled
# connection. A statement longer than this is a fault here: the shop's queries take milliseconds.
CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 3.0
POOL_TIMEOUT_S = 2.0


def _private_file(url: str) -> None:
    """Create the database file readable by its owner only (accounts, password hashes, sessions live in it);
    SQLite gives its -wal and -shm files the same mode."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)


def sqlite_engine(url: str, *, writer: bool) -> AsyncEngine:
    # One writer connection per process serialises local writes; BEGIN IMMEDIATE takes the file's write lock
    # up front so two processes never deadlock upgrading a read lock.
    _private_file(url)
    engine = create_async_engine(
        url,
        pool_size=1 if writer else 5,
        max_overflow=0 if writer else 10,
        pool_timeout=30,
        connect_args={"timeout": 15},
        json_serializer=json_text,
    )
    sqlite_setup(engine.sync_engine, writer=writer)
    return engine


# A connection's execution option: send no ``BEGIN``, every statement commits on its own (``db/direct.py``).
NO_BEGIN = {"myclothes_no_begin": True}


def sqlite_setup(engine: Engine, *, writer: bool) -> None:
    """Every SQLite connection: WAL, foreign keys, a 15 s busy timeout, and our own ``BEGIN`` (``IMMEDIATE`` for
    a writer; none on a connection with the ``NO_BEGIN`` option)."""
    begin_sql = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=15000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if not connection.get_execution_options().get("myclothes_no_begin"):
            connection.exec_driver_sql(begin_sql)


def make_engine(url: str, *, writer: bool, pool_size: int = 10) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        return sqlite_engine(url, writer=writer)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # bounded by command_timeout like any statement
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={"timeout": CONNECT_TIMEOUT_S, "command_timeout": COMMAND_TIMEOUT_S},
        json_serializer=json_text,
    )


def count_queries(engine: AsyncEngine | Engine, role: str) -> None:
    counter = DB_QUERIES.labels(role=role)

    @event.listens_for(engine.sync_engine if isinstance(engine, AsyncEngine) else engine, "before_cursor_execute")
    def _before(*_args: Any) -> None:
        counter.inc()


async def checkout(engine: AsyncEngine, wait_s: float | None) -> AsyncConnection:
    """A pooled connection, or ``TimeoutError`` after ``wait_s`` (None: as long as the pool takes).

    The checkout runs as a task of its own and is never cancelled: one interrupted half-way through its pre-ping
    could leave a pooled connection in an unknown state. One that arrives after its caller gave up is given back.
    """

    async def connect() -> AsyncConnection:
        connection = engine.connect()
        await connection.start()
        return connection

    if wait_s is None:
        return await connect()
    attempt = asyncio.ensure_future(connect())
    try:
        await asyncio.wait({attempt}, timeout=wait_s)
    finally:
        if not attempt.done():
            attempt.add_done_callback(close_late)
    if not attempt.done():
        raise TimeoutError(f"no database connection within {wait_s:g} s")
    return attempt.result()


async def select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def first_answer(engines: list[AsyncEngine]) -> None:
    """Return as soon as one engine answers ``SELECT 1`` (the others finish on their own); raise if none does."""
    pending = {asyncio.ensure_future(select_one(engine)) for engine in engines}
    errors: list[BaseException] = []
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for attempt in done:
            if attempt.exception() is None:
                for other in pending:
                    other.add_done_callback(retrieve)
                return
            errors.append(cast(BaseException, attempt.exception()))
    raise errors[0]


def retrieve(task: asyncio.Future[Any]) -> None:
    """Done callback for an attempt nobody waits for any more: collect its outcome so it is not logged as lost."""
    if not task.cancelled():
        task.exception()


def close_late(task: asyncio.Future[AsyncConnection]) -> None:
    """Done callback for a primary connection that arrived after its read had moved on: give it back."""
    if not task.cancelled() and task.exception() is None:
        asyncio.ensure_future(task.result().close()).add_done_callback(retrieve)
