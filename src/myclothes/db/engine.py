"""Engines and the explicit read/write units, with replica routing and read-your-writes.

``writer()`` opens a transaction on the primary. ``reader()`` opens a read-only unit: on the embedded default the
same SQLite file; with ``MYCLOTHES_DATABASE_REPLICA_URLS`` a healthy replica in round-robin (see
``replicas.py``), or the primary when none is in rotation or the session's last commit (``consistency.py``) has
not been replayed there yet. A unit of work opened by ``reader()`` refuses writes, so a write path that touches a
reader fails loudly in tests. If a replica goes away in the middle of a reader, its statements continue on the
primary: a read never fails because a replica did.

Every call is bounded (connect, statement and pool timeouts below) and a connection-class failure on the primary
(lost connection, refused or closed by a proxy with no server behind it, a standby that cannot take writes)
becomes the domain's ``StoreUnavailable`` here, at the adapter's boundary. After such a failure, or while the
replica health loop cannot reach the primary, ``writer()`` refuses at once for a moment instead of waiting on it
again, and a read that read-your-writes would send to the primary is served by a replica (possibly a little
stale; counted as ``reason="primary_unreachable"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, cast

import asyncpg
from prometheus_client import Counter
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from myclothes.db.consistency import SessionPosition, current_position, track_session_lsn
from myclothes.db.replicas import REPLICA_FALLBACKS, Replica, ReplicaRouter, describe
from myclothes.db.repositories import SqlUnitOfWork
from myclothes.domain.errors import ShopError, StoreUnavailable

DB_QUERIES = Counter("myclothes_db_queries_total", "SQL statements sent, by database role", ["role"])
log = logging.getLogger("myclothes.db")
# Connection lost, server shutting down, or a standby cancelling a query that conflicts with recovery:
# a read can be repeated on the primary.
_RETRY_ON_PRIMARY_SQLSTATES = ("08", "57P", "40001")
# Connection exceptions, shutdown or not accepting connections yet, too many connections, and a write reaching a
# server that is (still, or again) a standby: the primary is failing over, the request may be repeated.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53300", "25006")

# PostgreSQL bounds: a connect (each host of a multi-host URL) and a statement, and the wait for a pooled
# connection. A statement longer than this is a fault here: the shop's queries take milliseconds.
CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 3.0
POOL_TIMEOUT_S = 2.0
CHECKOUT_WAIT_S = 2.0  # a pooled primary connection, pre-ping included (a hung server fails it only after
# the statement timeout, then spends up to 2 s closing it: no one waits for that)
PRIMARY_DOWN_HOLD_S = 1.0  # after a connection failure, writes are refused at once for this long
PRIMARY_WAIT_FOR_READ_S = 0.5  # how long a read-your-writes read waits for the primary before using a replica

WRITES_UNAVAILABLE = (
    "We cannot save changes right now (the database is switching over). Please try again in a few seconds."
)
READS_UNAVAILABLE = "The shop's database cannot be reached right now. Please try again in a few seconds."


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__]
        if not current.__suppress_context__:
            pending.append(current.__context__)


def is_connection_failure(error: BaseException) -> bool:
    """True when ``error`` says the database could not be reached or the connection was lost (not a bad query)."""
    for cause in _causes(error):
        if isinstance(cause, (OSError, asyncpg.InterfaceError, asyncpg.exceptions.PostgresConnectionError)):
            return True  # OSError covers TimeoutError, ConnectionResetError, refused connects
        if isinstance(cause, (OperationalError, InterfaceError)):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if sqlstate and str(sqlstate).startswith(_UNAVAILABLE_SQLSTATES):
            return True
    return False


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


def _engine(url: str, *, writer: bool, pool_size: int = 10) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, writer=writer)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # bounded by command_timeout like any statement
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={"timeout": CONNECT_TIMEOUT_S, "command_timeout": COMMAND_TIMEOUT_S},
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
        self._reconnected = False

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        if self._primary is None:
            try:
                return await self._connection.execute(statement, parameters)
            except (DBAPIError, OSError) as error:  # OSError: a timeout or a lost socket, not wrapped by the driver
                if isinstance(error, DBAPIError) and not _retry_on_primary(error):
                    raise
                retried = await self._on_a_new_connection(statement, parameters)
                if retried is not None:
                    return retried[0]
                self._database.replica_failed(self._replica, error)
                if self._database.primary_known_down():
                    raise StoreUnavailable(READS_UNAVAILABLE) from error
                self._primary = await self._stack.enter_async_context(self._database.reader_engine.connect())
        return await self._primary.execute(statement, parameters)

    async def _on_a_new_connection(self, statement: Any, parameters: Any) -> tuple[Any] | None:
        """Once per unit, repeat a read whose connection broke on a new connection to the same replica address.

        A replica address may be a balancer over several standbys (HAProxy in the cluster): when one of them is
        promoted or restarts, the balancer cuts its sessions, and a new connection reaches another standby. None
        when that fails too (the replica is then out of rotation, as before).
        """
        if self._reconnected:
            return None
        self._reconnected = True
        connection = self._replica.engine.connect()
        try:
            await connection.start()
            result = await connection.execute(statement, parameters)
        except (DBAPIError, OSError):
            with contextlib.suppress(Exception):
                await connection.close()
            return None
        self._stack.push_async_callback(self._database._release, connection)
        self._connection = connection
        REPLICA_FALLBACKS.labels(reason="replica_reconnected").inc()
        return (result,)


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
        self._primary_down_until = 0.0
        # The embedded SQLite file has no failover to wait out: a busy file must not refuse the next write.
        self._down_hold_s = PRIMARY_DOWN_HOLD_S if self.writer_engine.dialect.name == "postgresql" else 0.0
        self.router: ReplicaRouter | None = None
        if replica_urls:
            if self.writer_engine.dialect.name != "postgresql":
                raise ValueError("read replicas need a PostgreSQL primary")
            replicas = []
            for replica_url in replica_urls:
                engine = _engine(replica_url, writer=False)
                _count_queries(engine, "replica")
                probe = _engine(replica_url, writer=False, pool_size=1)
                replicas.append(Replica(describe(replica_url), engine, probe))
            primary_probe = _engine(url, writer=False, pool_size=1)
            self.router = ReplicaRouter(primary_probe, replicas, max_lag_s, interval_s=probe_interval_s)

    @property
    def has_replicas(self) -> bool:
        return self.router is not None

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

    @asynccontextmanager
    async def _checked_out(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        """A connection from one of the primary's pools, within ``CHECKOUT_WAIT_S`` on PostgreSQL."""
        wait_s = CHECKOUT_WAIT_S if engine.dialect.name == "postgresql" else None  # SQLite queues for its file
        connection = await _checkout(engine, wait_s)
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

    async def _reader_connection(self, stack: AsyncExitStack) -> AsyncConnection | _ReplicaConnection:
        """A fit replica's connection if there is one, else the primary's (see the module docstring)."""
        if self.router is not None:
            await self.router.start()
            position = current_position()
            min_lsn = position.value if position is not None else None
            replica, caught_up = self.router.choose(min_lsn)
            if replica is not None:
                chosen = await self._replica_connection(stack, replica, None if caught_up else min_lsn)
                if chosen is not None:
                    return chosen
        if self.primary_known_down():
            raise StoreUnavailable(READS_UNAVAILABLE)
        with self._unavailable_on_disconnect(READS_UNAVAILABLE):
            return await stack.enter_async_context(self._checked_out(self.reader_engine))

    async def _replica_connection(
        self, stack: AsyncExitStack, replica: Replica, min_lsn: int | None
    ) -> AsyncConnection | _ReplicaConnection | None:
        """A connection to ``replica``; if it has not replayed ``min_lsn``, the primary's instead when the primary
        answers in time. None when the replica fails (it leaves the rotation)."""
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
            if isinstance(error, DBAPIError) and not _retry_on_primary(error):
                raise
            self.replica_failed(replica, error)
            return None
        stack.push_async_callback(self._release, connection)
        return _ReplicaConnection(connection, replica, self, stack)

    async def _primary_within(self, wait_s: float) -> AsyncConnection | None:
        """A connection on the primary's read pool if one is ready within ``wait_s``, else None."""
        if self.primary_known_down():
            return None
        try:
            return await _checkout(self.reader_engine, wait_s)
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
        pending = {asyncio.ensure_future(_select_one(replica.engine)) for replica in self.router.replicas}
        errors: list[BaseException] = []
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for attempt in done:
                if attempt.exception() is None:
                    for other in pending:
                        other.add_done_callback(_retrieve)
                    return
                errors.append(cast(BaseException, attempt.exception()))
        raise errors[0]

    async def dispose(self) -> None:
        """Stop the replica health loop and close every pool."""
        if self.router is not None:
            await self.router.close()
            for replica in self.router.replicas:
                await replica.engine.dispose()
        await self.writer_engine.dispose()
        await self.reader_engine.dispose()


async def _checkout(engine: AsyncEngine, wait_s: float | None) -> AsyncConnection:
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
            attempt.add_done_callback(_close_late)
    if not attempt.done():
        raise TimeoutError(f"no database connection within {wait_s:g} s")
    return attempt.result()


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Done callback for an attempt nobody waits for any more: collect its outcome so it is not logged as lost."""
    if not task.cancelled():
        task.exception()


def _close_late(task: asyncio.Future[AsyncConnection]) -> None:
    """Done callback for a primary connection that arrived after its read had moved on: give it back."""
    if not task.cancelled() and task.exception() is None:
        asyncio.ensure_future(task.result().close()).add_done_callback(_retrieve)
