"""A reader's connection to a replica that falls back to the primary when the replica fails mid-unit."""

from __future__ import annotations

import contextlib
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from myclothes.db.failures import READS_UNAVAILABLE, retry_on_primary
from myclothes.db.replicas import REPLICA_FALLBACKS, Replica
from myclothes.domain.errors import StoreUnavailable

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
