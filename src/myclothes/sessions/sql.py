"""Sessions as rows in the relational database (goes with the ``sql`` and ``cookie`` cart stores): durable, on the
primary (never a replica: a login must be seen by the next request)."""

from __future__ import annotations

import random
import time

import msgspec
from sqlalchemy import Connection, delete, select

from myclothes.db.engine import SqlDatabase
from myclothes.db.tables import sessions
from myclothes.ports import SessionRecord, SessionState


class SqlSessionStore:
    """Expired rows are purged now and then by writers."""

    def __init__(self, database: SqlDatabase) -> None:
        self.database = database

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        statement = select(sessions.c.data, sessions.c.created_at, sessions.c.expires_at).where(
            sessions.c.id == session_id, sessions.c.expires_at > now
        )
        row = await self.database.run_on_primary(lambda connection: connection.execute(statement).first(), "read")
        if row is None:
            return None
        return SessionRecord(session_id, msgspec.convert(row[0], SessionState), row[1], row[2])

    async def save(self, record: SessionRecord) -> None:
        statement = self.database.upsert(sessions).values(
            id=record.id,
            data=msgspec.to_builtins(record.state),
            created_at=record.created_at,
            expires_at=record.expires_at,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[sessions.c.id],
            set_={"data": statement.excluded.data, "expires_at": statement.excluded.expires_at},
        )
        purge = random.random() < 0.01

        def save(connection: Connection) -> None:  # statements each atomic on their own (``db/direct.py``)
            connection.execute(statement)
            if purge:
                connection.execute(delete(sessions).where(sessions.c.expires_at < time.time()))

        await self.database.run_on_primary(save, "statements")

    async def delete(self, session_id: str) -> None:
        statement = delete(sessions).where(sessions.c.id == session_id)
        await self.database.run_on_primary(lambda connection: connection.execute(statement), "statements")
