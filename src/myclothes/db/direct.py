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
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url

from myclothes.db.pools import NO_BEGIN, count_queries, sqlite_setup
from myclothes.db.tables import json_text

T = TypeVar("T")
Mode = Literal["transaction", "statements", "read"]
READER_THREADS = 2


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
