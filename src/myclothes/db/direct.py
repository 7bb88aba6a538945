"""SQLite writes in one thread hop: a transaction run whole, synchronously, in one writer thread.

Through aiosqlite every statement is three or four hops between the event loop and the connection's thread (begin,
execute, fetch, commit), each a wake-up of the loop; a cart add was ~16 of them. Here the request hands the whole
transaction (a function of a synchronous connection) to one thread that owns one connection: one hop there, one
back. Writes stay serialised per process (one thread, one connection) and ``BEGIN IMMEDIATE`` takes the file's
write lock up front, as the async writer does; ``busy_timeout`` lets other processes' writers wait their turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url

from myclothes.db.pools import count_queries, sqlite_setup

T = TypeVar("T")


class WriterThread:
    """One SQLite connection and the one thread that uses it (``check_same_thread`` holds by construction)."""

    def __init__(self, url: str) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        self.engine = create_engine(sync_url, pool_size=1, max_overflow=0, connect_args={"timeout": 15})
        sqlite_setup(self.engine, writer=True)
        count_queries(self.engine, "primary")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    async def run(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` in one transaction: committed when it returns, rolled back when it raises."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        with self.engine.begin() as connection:
            return work(connection)

    def dispose(self) -> None:
        self._thread.shutdown(wait=True)
        self.engine.dispose()
