"""A reader's connection to a replica that falls back to the primary when the replica fails mid-unit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from myclothes.db.consistency import current_position
from myclothes.db.failures import READS_UNAVAILABLE, retry_on_primary
from myclothes.db.replicas import REPLICA_FALLBACKS, Replica
from myclothes.domain.errors import StoreUnavailable

READ_RETRY_WINDOW_S = 1.0  # how long a read waits for some database endpoint during a failover before a 503
READ_RETRY_PAUSE_S = 0.2

if TYPE_CHECKING:
    from myclothes.db.engine import SqlDatabase


class ReplicaConnection:
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
                if isinstance(error, DBAPIError) and not retry_on_primary(error):
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
        give_up = time.monotonic() + READ_RETRY_WINDOW_S
        while True:
            connection = self._replica.engine.connect()
            try:
                await connection.start()
                result = await connection.execute(statement, parameters)
            except (DBAPIError, OSError):
                with contextlib.suppress(Exception):
                    await connection.close()
                # With the primary up, its read pool takes over at once; without it (a failover: the balancer
                # moves standbys while the new primary is promoted) waiting a moment beats answering 503.
                if not self._database.primary_known_down() or time.monotonic() + READ_RETRY_PAUSE_S > give_up:
                    return None
                await asyncio.sleep(READ_RETRY_PAUSE_S)
                continue
            break
        self._stack.push_async_callback(self._database._release, connection)
        self._connection = connection
        REPLICA_FALLBACKS.labels(reason="replica_reconnected").inc()
        return (result,)


async def waiting_for_an_endpoint(
    database: SqlDatabase,
    stack: AsyncExitStack,
    connect: Callable[[AsyncExitStack], Awaitable[AsyncConnection | ReplicaConnection]],
) -> AsyncConnection | ReplicaConnection:
    """A reader's connection from ``connect``; while the primary is down and no replica answers either (the moment
    of a failover), every replica is tried again, whatever its last verdict, for up to ``READ_RETRY_WINDOW_S``
    before the read answers 503."""
    give_up = time.monotonic() + READ_RETRY_WINDOW_S
    while True:
        try:
            return await connect(stack)
        except StoreUnavailable:
            if database.router is None or time.monotonic() + READ_RETRY_PAUSE_S > give_up:
                raise
        await asyncio.sleep(READ_RETRY_PAUSE_S)
        position = current_position()
        min_lsn = position.value if position is not None else None
        for replica in database.router.replicas:
            chosen = await database._replica_connection(stack, replica, min_lsn)
            if chosen is not None:
                return chosen
