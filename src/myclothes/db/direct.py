"""SQLite in one thread hop: work on a synchronous connection, run whole in a thread that owns that connection.

Through aiosqlite every statement is three or four hops between the event loop and the connection's thread (begin,
execute, fetch, commit), each a wake-up of the loop; a cart add was ~16 of them. Here a request hands its whole unit
of work (a function of a synchronous connection) to a thread: one hop there, one back.

- Writes: one writer thread with one connection, so writes stay serialised per process. A ``"transaction"`` begins
  with ``BEGIN IMMEDIATE`` (the file's write lock up front, as the async writer does); ``"statements"`` runs each
  statement in autocommit, for work whose statements are each atomic on their own (a single conditional upsert,
  then a read of the result), and sends no ``BEGIN`` at all. ``busy_timeout`` lets other processes' writers wait.
- Reads (``"read"``): a few reader threads sharing a small pool of connections; each statement in autocommit sees
  the last committed state of the file (WAL), so a single ``SELECT`` needs no ``BEGIN`` either.

On these connections the hottest statements (a cart's upsert and its lines) run through ``execute``: compiled by
SQLAlchemy once, then sent to the sqlite3 connection itself. SQLAlchemy's per-execution work (the statement's cache
key, the execution context, each row's processing) cost more than SQLite's own: measured in the writer thread, a
cart add's upsert 42.8 us against 6.7 us, a 50-line cart's lines 72 us against 33 us.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.sql import ClauseElement

from myclothes.db.pools import DB_QUERIES, NO_BEGIN, count_queries, sqlite_setup
from myclothes.db.tables import json_text

T = TypeVar("T")
Mode = Literal["transaction", "statements", "read"]
READER_THREADS = 2
_COUNTED = DB_QUERIES.labels(role="primary")  # as ``count_queries`` counts the statements SQLAlchemy sends


class _Compiled:
    """A statement's SQLite text and its parameters' order, with the values compiled into it (literal binds)."""

    __slots__ = ("fixed", "order", "sql")

    def __init__(self, statement: ClauseElement, connection: Connection) -> None:
        compiled: Any = statement.compile(dialect=connection.dialect)  # an SQLCompiler
        self.sql = str(compiled)
        self.order = tuple(compiled.positiontup or ())
        self.fixed = compiled.construct_params({}, _check=False)

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        fixed = self.fixed
        return tuple(params[name] if name in params else fixed[name] for name in self.order)


_compiled: dict[int, tuple[ClauseElement, _Compiled]] = {}


def execute(connection: Connection, statement: ClauseElement, params: Mapping[str, Any]) -> Iterable[tuple[Any, ...]]:
    """``statement``'s rows (plain tuples): on this module's SQLite connections, compiled once and sent to the
    sqlite3 connection itself (counted as SQLAlchemy counts a statement); elsewhere (PostgreSQL) through SQLAlchemy.
    Only for statements built once and kept (they are compiled once, by identity), with simple parameters (no
    expanding ``IN`` lists, no type processing beyond what sqlite3 does itself)."""
    if connection.dialect.driver != "pysqlite":
        return connection.execute(statement, params)  # type: ignore[call-overload]
    kept = _compiled.get(id(statement))
    if kept is None or kept[0] is not statement:
        kept = _compiled[id(statement)] = (statement, _Compiled(statement, connection))
    _COUNTED.inc()
    driver = connection.connection.driver_connection
    assert driver is not None
    return driver.execute(kept[1].sql, kept[1].values(params))


class SqliteThreads:
    """The writer connection and its thread, and the reader connections and theirs."""

    def __init__(self, url: str, readers: int = READER_THREADS) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        self.writer = create_engine(
            sync_url, pool_size=1, max_overflow=0, connect_args={"timeout": 15}, json_serializer=json_text
        )
        self.reader = create_engine(
            sync_url,
            pool_size=readers,
            max_overflow=0,
            connect_args={"timeout": 15, "check_same_thread": False},
            json_serializer=json_text,
        )
        self.engines: tuple[Engine, ...] = (self.writer, self.reader)
        sqlite_setup(self.writer, writer=True)
        sqlite_setup(self.reader, writer=False)
        for engine in self.engines:
            count_queries(engine, "primary")
        self._write = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._read = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sqlite-reader")

    async def run(self, work: Callable[[Connection], T], mode: Mode) -> T:
        """``work(connection)``: a ``"transaction"`` commits when it returns and rolls back when it raises."""
        pool = self._read if mode == "read" else self._write
        return await asyncio.get_running_loop().run_in_executor(pool, self._unit, work, mode)

    def _unit(self, work: Callable[[Connection], T], mode: Mode) -> T:
        if mode == "transaction":
            with self.writer.begin() as connection:
                return work(connection)
        with (self.reader if mode == "read" else self.writer).connect() as connection:
            connection.execution_options(**NO_BEGIN)
            found = work(connection)
            connection.commit()  # nothing is open: the statements committed one by one
            return found

    def dispose(self) -> None:
        self._write.shutdown(wait=True)
        self._read.shutdown(wait=True)
        for engine in self.engines:
            engine.dispose()
