"""Engines and the explicit read/write units, with replica routing and read-your-writes.

``writer()`` opens a transaction on the primary. ``reader()`` opens a read-only unit: on the embedded default the
same SQLite file; with ``MYCLOTHES_DATABASE_REPLICA_URLS`` a healthy replica in round-robin (``replicas.py``), or
the primary when none is in rotation or the session's last commit (``consistency.py``) has not been replayed there
yet. A unit opened by ``reader()`` refuses writes, so a write path that touches a reader fails loudly in tests.
If a replica goes away in the middle of a reader, its statements continue on the primary: a read never fails
because a replica did.

Every call is bounded (connect, statement and pool timeouts) and a connection-class failure on the primary (lost
connection, refused or closed by a proxy with no server behind it, a standby that cannot take writes) becomes the
domain's ``StoreUnavailable`` here, at the adapter's boundary. After such a failure, or while the replica health
loop cannot reach the primary, ``writer()`` refuses at once for a moment instead of waiting on it again, and a read
that read-your-writes would send to the primary is served by a replica (a little stale: ``primary_unreachable``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from myclothes.db.consistency import SessionPosition, current_position, track_session_lsn
from myclothes.db.direct import Mode, SqliteThreads
from myclothes.db.failures import READS_UNAVAILABLE, WRITES_UNAVAILABLE, is_connection_failure, retry_on_primary
from myclothes.db.pools import checkout, count_queries, first_answer, make_engine
from myclothes.db.replica_reads import ReplicaConnection, waiting_for_an_endpoint
from myclothes.db.replicas import REPLICA_FALLBACKS, Replica, ReplicaRouter, describe
from myclothes.db.repositories import SqlUnitOfWork
from myclothes.domain.errors import ShopError, StoreUnavailable

__all__ = ["SqlDatabase", "is_connection_failure"]


log = logging.getLogger("myclothes.db")
T = TypeVar("T")
CHECKOUT_WAIT_S = 2.0  # a pooled primary connection, pre-ping included (a hung server: not waited for)
PRIMARY_DOWN_HOLD_S = 1.0  # after a connection failure, writes are refused at once for this long
PRIMARY_WAIT_FOR_READ_S = 0.25  # how long a read-your-writes read waits for the primary before using a replica


class SqlDatabase:
    """The relational database behind the shop, with explicit read and write units.

    ``replica_urls`` lists read replicas (PostgreSQL hot standbys); ``max_lag_s`` is how far behind one may be and
    stay in rotation. The primary URL may list several hosts with ``target_session_attrs=read-write``.
    """

    def __init__(
        self,
        url: str,
        replica_urls: Sequence[str] = (),
        max_lag_s: float = 1.0,
        probe_interval_s: float = 0.5,
    ) -> None:
        self.url = url
        self.writer_engine = make_engine(url, writer=True)
        self.reader_engine = make_engine(url, writer=False)
        count_queries(self.writer_engine, "primary")
        count_queries(self.reader_engine, "primary")
        self._primary_down_until = 0.0
        # The embedded SQLite file has no failover to wait out: a busy file must not refuse the next write.
        self._down_hold_s = PRIMARY_DOWN_HOLD_S if self.writer_engine.dialect.name == "postgresql" else 0.0
        self._direct = SqliteThreads(url) if self.writer_engine.dialect.name == "sqlite" else None
        self.router: ReplicaRouter | None = None
        if replica_urls:
            if self.writer_engine.dialect.name != "postgresql":
                raise ValueError("read replicas need a PostgreSQL primary")
            replicas = []
            for replica_url in replica_urls:
                engine = make_engine(replica_url, writer=False)
                count_queries(engine, "replica")
                probe = make_engine(replica_url, writer=False, pool_size=1)
                replicas.append(Replica(describe(replica_url), engine, probe))
            primary_probe = make_engine(url, writer=False, pool_size=1)
            self.router = ReplicaRouter(primary_probe, replicas, max_lag_s, interval_s=probe_interval_s)

    @property
    def has_replicas(self) -> bool:
        return self.router is not None

    def upsert(self, table: Table) -> Any:
        """An INSERT of this database's dialect, which can resolve conflicts (``on_conflict_do_update``)."""
        dialect = postgresql if self.writer_engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    @staticmethod
    def track_session_lsn(lsn: str | None) -> SessionPosition:
        """Read-your-writes for the current request: start from the session's stored position; return it.

        ``writer()`` advances the returned position after each commit; store ``position.lsn`` back in the
        session when the request ends.
        """
        return track_session_lsn(lsn)

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[SqlUnitOfWork]:
        """A transaction on the primary: commits when the block ends, rolls back on error.

        With replicas, the commit's WAL position is recorded in the tracked session position (if any). If the
        primary cannot be reached, or the connection is lost (even around the commit, when the outcome is
        unknown), raises ``StoreUnavailable``: the caller's request may be repeated (checkout is idempotent).
        """
        if self.primary_known_down():
            raise StoreUnavailable(WRITES_UNAVAILABLE)
        position = current_position() if self.router is not None else None
        with self._unavailable_on_disconnect(WRITES_UNAVAILABLE):
            async with self._checked_out(self.writer_engine) as connection:
                async with connection.begin():
                    yield SqlUnitOfWork(connection, read_only=False)
                if position is not None:
                    lsn = (await connection.execute(text("SELECT pg_current_wal_lsn()::text"))).scalar_one()
                    await connection.rollback()
                    position.advance(str(lsn))

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[SqlUnitOfWork]:
        """A read-only unit on a replica when one is fit (see the module docstring), else the primary."""
        with self._unavailable_on_disconnect(READS_UNAVAILABLE, on_primary=False):
            async with AsyncExitStack() as stack:
                connection = await self._reader_connection(stack)
                yield SqlUnitOfWork(cast(AsyncConnection, connection), read_only=True)
                if isinstance(connection, AsyncConnection):
                    await connection.rollback()

    @asynccontextmanager
    async def primary_connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection on the primary's read pool, for stores that must never read a replica (carts, sessions)."""
        if self.primary_known_down():
            raise StoreUnavailable(READS_UNAVAILABLE)
        with self._unavailable_on_disconnect(READS_UNAVAILABLE):
            async with self._checked_out(self.reader_engine) as connection:
                yield connection

    @asynccontextmanager
    async def primary_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the primary's writer pool, for stores kept in the database (carts, sessions)."""
        if self.primary_known_down():
            raise StoreUnavailable(WRITES_UNAVAILABLE)
        with self._unavailable_on_disconnect(WRITES_UNAVAILABLE):
            async with self._checked_out(self.writer_engine) as connection, connection.begin():
                yield connection

    async def run_on_primary(self, work: Callable[[Connection], T], mode: Mode = "transaction") -> T:
        """``work`` on the primary in one call: one ``"transaction"``; ``"statements"``, each atomic on its own; or a
        ``"read"``. On SQLite it runs whole in a thread of the file's (``direct.py``), on PostgreSQL on a pool."""
        if self._direct is not None:
            with self._unavailable_on_disconnect(READS_UNAVAILABLE if mode == "read" else WRITES_UNAVAILABLE):
                return await self._direct.run(work, mode)
        async with self.primary_connection() if mode == "read" else self.primary_transaction() as connection:
            return await connection.run_sync(work)

    @asynccontextmanager
    async def _checked_out(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        """A connection from one of the primary's pools, within ``CHECKOUT_WAIT_S`` on PostgreSQL."""
        wait_s = CHECKOUT_WAIT_S if engine.dialect.name == "postgresql" else None  # SQLite queues for its file
        connection = await checkout(engine, wait_s)
        try:
            yield connection
        finally:
            await connection.close()

    @contextlib.contextmanager
    def _unavailable_on_disconnect(self, message: str, on_primary: bool = True) -> Iterator[None]:
        """Connection-class failures leave as ``StoreUnavailable`` (anything else as it is); ``on_primary``: the
        block used the primary only, so such a failure says the primary is down."""
        try:
            yield
        except Exception as error:
            if isinstance(error, ShopError) or not is_connection_failure(error):
                raise
            if on_primary:
                self.primary_failed(error)
            raise StoreUnavailable(message) from error

    def primary_failed(self, error: BaseException) -> None:
        """The primary could not be reached: refuse primary work at once for ``PRIMARY_DOWN_HOLD_S``."""
        if not self.primary_known_down():
            log.warning("database primary unavailable (%s: %s)", type(error).__name__, error)
        self._primary_down_until = time.monotonic() + self._down_hold_s

    def primary_known_down(self) -> bool:
        """True right after a connection failure on the primary, or while the health loop cannot reach it."""
        if time.monotonic() < self._primary_down_until:
            return True
        return self.router is not None and not self.router.primary_reachable

    async def _reader_connection(self, stack: AsyncExitStack) -> AsyncConnection | ReplicaConnection:
        """A fit replica's connection if there is one, else the primary's (see the module docstring); during a
        failover, waits a moment for some endpoint (``replica_reads.waiting_for_an_endpoint``)."""
        return await waiting_for_an_endpoint(self, stack, self._reader_connection_once)

    async def _reader_connection_once(self, stack: AsyncExitStack) -> AsyncConnection | ReplicaConnection:
        if self.router is not None:
            await self.router.start()
            position = current_position()
            min_lsn = position.value if position is not None else None
            replica, _ = self.router.choose(min_lsn)
            if replica is not None:
                chosen = await self._replica_connection(stack, replica, min_lsn)
                if chosen is not None:
                    return chosen
        if self.primary_known_down():
            raise StoreUnavailable(READS_UNAVAILABLE)
        with self._unavailable_on_disconnect(READS_UNAVAILABLE):
            return await stack.enter_async_context(self._checked_out(self.reader_engine))

    async def _replica_connection(
        self, stack: AsyncExitStack, replica: Replica, min_lsn: int | None
    ) -> AsyncConnection | ReplicaConnection | None:
        """A connection to ``replica`` that has replayed ``min_lsn`` (HAProxy may send it to another standby than the
        probe's), else the primary's when it answers in time. None when the replica fails (it leaves the rotation)."""
        connection = replica.engine.connect()
        try:
            await connection.start()
            if min_lsn is not None:
                # asyncpg passes a pg_lsn parameter as its integer value
                reached = await connection.execute(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": min_lsn}
                )
                if not reached.scalar():
                    primary = await self._primary_within(PRIMARY_WAIT_FOR_READ_S)
                    if primary is not None:
                        REPLICA_FALLBACKS.labels(reason="behind_session").inc()
                        await connection.close()
                        stack.push_async_callback(primary.close)
                        return primary
                    REPLICA_FALLBACKS.labels(reason="primary_unreachable").inc()
        except (DBAPIError, OSError) as error:
            with contextlib.suppress(Exception):
                await connection.close()
            if isinstance(error, DBAPIError) and not retry_on_primary(error):
                raise
            self.replica_failed(replica, error)
            return None
        stack.push_async_callback(self._release, connection)
        return ReplicaConnection(connection, replica, self, stack)

    async def _primary_within(self, wait_s: float) -> AsyncConnection | None:
        """A connection on the primary's read pool if one is ready within ``wait_s``, else None."""
        if self.primary_known_down():
            return None
        try:
            return await checkout(self.reader_engine, wait_s)
        except Exception as error:
            if not is_connection_failure(error):
                raise
            if not isinstance(error, TimeoutError):  # slow is not down; refused or lost is
                self.primary_failed(error)
            return None

    @staticmethod
    async def _release(connection: AsyncConnection) -> None:
        with contextlib.suppress(DBAPIError, OSError):  # a replica that died mid-unit cannot roll back
            await connection.rollback()
        with contextlib.suppress(DBAPIError, OSError):
            await connection.close()

    def replica_failed(self, replica: Replica, error: BaseException) -> None:
        """A read failed on ``replica``: take it out of rotation and count the fallback to the primary."""
        if self.router is not None:
            self.router.mark_down(replica, error)
        REPLICA_FALLBACKS.labels(reason="replica_error").inc()

    async def ping_primary(self) -> None:
        """Raise unless the primary answers and takes writes (a standby answering on its address does not)."""
        async with self.reader_engine.connect() as connection:
            if connection.dialect.name != "postgresql":
                await connection.execute(text("SELECT 1"))
            elif (await connection.execute(text("SELECT pg_is_in_recovery()"))).scalar():
                raise StoreUnavailable("the primary's address leads to a standby")

    async def ping_replica(self) -> None:
        """Raise unless at least one read replica answers (as soon as one does; the others finish on their own)."""
        if self.router is None:
            raise LookupError("no read replicas are configured")
        await first_answer([replica.engine for replica in self.router.replicas])

    async def dispose(self) -> None:
        """Stop the replica health loop and close every pool."""
        if self.router is not None:
            await self.router.close()
            for replica in self.router.replicas:
                await replica.engine.dispose()
        await self.writer_engine.dispose()
        await self.reader_engine.dispose()
        if self._direct is not None:
            self._direct.dispose()
