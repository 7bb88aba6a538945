"""Engines and the explicit read/write units, with replica routing and read-your-writes.

``writer()`` opens a transaction on the primary. ``reader()`` opens a read-only unit: on the embedded default the
same SQLite file; with ``MYCLOTHES_DATABASE_REPLICA_URLS`` a healthy replica in round-robin (see
``replicas.py``), or the primary when none is in rotation or the session's last commit (``consistency.py``) has
not been replayed there yet. A unit of work opened by ``reader()`` refuses writes, so a write path that touches a
reader fails loudly in tests. If a replica goes away in the middle of a reader, its statements continue on the
primary: a read never fails because a replica did.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, cast

from prometheus_client import Counter
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from myclothes.db.consistency import SessionPosition, current_position, track_session_lsn
from myclothes.db.replicas import REPLICA_FALLBACKS, Replica, ReplicaRouter, describe
from myclothes.db.repositories import SqlUnitOfWork

DB_QUERIES = Counter("myclothes_db_queries_total", "SQL statements sent, by database role", ["role"])
log = logging.getLogger("myclothes.db")
# Connection lost, server shutting down, or a standby cancelling a query that conflicts with recovery:
# a read can be repeated on the primary.
_RETRY_ON_PRIMARY_SQLSTATES = ("08", "57P", "40001")


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


def _engine(url: str, *, writer: bool, pool_size: int = 10, connect_timeout_s: float = 5.0) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, writer=writer)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"timeout": connect_timeout_s},
    )


def _count_queries(engine: AsyncEngine, role: str) -> None:
    counter = DB_QUERIES.labels(role=role)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(*_args: Any) -> None:
        counter.inc()


def _retry_on_primary(error: DBAPIError) -> bool:
    if error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError)):
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None) or ""
    return str(sqlstate).startswith(_RETRY_ON_PRIMARY_SQLSTATES)


class _ReplicaConnection:
    """A reader's connection to a replica; if the replica fails mid-unit, statements continue on the primary."""

    def __init__(
        self, connection: AsyncConnection, replica: Replica, database: SqlDatabase, stack: AsyncExitStack
    ) -> None:
        self._connection = connection
        self.dialect = connection.dialect
        self._replica = replica
        self._database = database
        self._stack = stack
        self._primary: AsyncConnection | None = None

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        if self._primary is None:
            try:
                return await self._connection.execute(statement, parameters)
            except DBAPIError as error:
                if not _retry_on_primary(error):
                    raise
                self._database.replica_failed(self._replica, error)
                self._primary = await self._stack.enter_async_context(self._database.reader_engine.connect())
        return await self._primary.execute(statement, parameters)


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
        self.writer_engine = _engine(url, writer=True)
        self.reader_engine = _engine(url, writer=False)
        _count_queries(self.writer_engine, "primary")
        _count_queries(self.reader_engine, "primary")
        self.router: ReplicaRouter | None = None
        if replica_urls:
            if self.writer_engine.dialect.name != "postgresql":
                raise ValueError("read replicas need a PostgreSQL primary")
            replicas = []
            for replica_url in replica_urls:
                engine = _engine(replica_url, writer=False, connect_timeout_s=2.0)
                _count_queries(engine, "replica")
                probe = _engine(replica_url, writer=False, pool_size=1, connect_timeout_s=1.0)
                replicas.append(Replica(describe(replica_url), engine, probe))
            primary_probe = _engine(url, writer=False, pool_size=1, connect_timeout_s=1.0)
            self.router = ReplicaRouter(primary_probe, replicas, max_lag_s, interval_s=probe_interval_s)

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

        With replicas, the commit's WAL position is recorded in the tracked session position (if any).
        """
        position = current_position() if self.router is not None else None
        if position is None:
            async with self.writer_engine.begin() as connection:
                yield SqlUnitOfWork(connection, read_only=False)
            return
        async with self.writer_engine.connect() as connection:
            async with connection.begin():
                yield SqlUnitOfWork(connection, read_only=False)
            lsn = (await connection.execute(text("SELECT pg_current_wal_lsn()::text"))).scalar_one()
            await connection.rollback()
            position.advance(str(lsn))

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[SqlUnitOfWork]:
        """A read-only unit on a replica when one is fit (see the module docstring), else the primary."""
        async with AsyncExitStack() as stack:
            replica_connection = await self._replica_connection(stack)
            if replica_connection is not None:
                yield SqlUnitOfWork(cast(AsyncConnection, replica_connection), read_only=True)
                return
            connection = await stack.enter_async_context(self.reader_engine.connect())
            yield SqlUnitOfWork(connection, read_only=True)
            await connection.rollback()

    async def _replica_connection(self, stack: AsyncExitStack) -> _ReplicaConnection | None:
        if self.router is None:
            return None
        await self.router.start()
        position = current_position()
        min_lsn = position.value if position is not None else None
        replica, caught_up = self.router.choose(min_lsn)
        if replica is None:
            return None
        connection = replica.engine.connect()
        try:
            await connection.start()
            if not caught_up:
                # asyncpg passes a pg_lsn parameter as its integer value
                reached = await connection.execute(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": min_lsn}
                )
                if not reached.scalar():
                    REPLICA_FALLBACKS.labels(reason="behind_session").inc()
                    await connection.close()
                    return None
        except (DBAPIError, OSError) as error:
            with contextlib.suppress(Exception):
                await connection.close()
            if isinstance(error, DBAPIError) and not _retry_on_primary(error):
                raise
            self.replica_failed(replica, error)
            return None
        stack.push_async_callback(self._release, connection)
        return _ReplicaConnection(connection, replica, self, stack)

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

    async def ping(self) -> None:
        """Raise if the primary cannot be reached."""
        async with self.reader_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Stop the replica health loop and close every pool."""
        if self.router is not None:
            await self.router.close()
            for replica in self.router.replicas:
                await replica.engine.dispose()
        await self.writer_engine.dispose()
        await self.reader_engine.dispose()
