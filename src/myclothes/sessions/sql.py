"""Sessions as rows in the relational database (goes with the ``sql`` and ``cookie`` cart stores): durable, on the
primary (never a replica: a login must be seen by the next request)."""

from __future__ import annotations

import random
import time

import msgspec
from sqlalchemy import delete, select

from myclothes.db.engine import SqlDatabase
from myclothes.db.tables import sessions
from myclothes.ports import SessionRecord, SessionState


class SqlSessionStore:
    """Expired rows are purged now and then by writers."""

    def __init__(self, database: SqlDatabase) -> None:
        self.database = database

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        async with self.database.primary_connection() as connection:
            row = (
                await connection.execute(
                    select(sessions.c.data, sessions.c.created_at, sessions.c.expires_at).where(
                        sessions.c.id == session_id, sessions.c.expires_at > now
                    )
                )
            ).first()
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
        async with self.database.primary_transaction() as connection:
            await connection.execute(statement)
            if random.random() < 0.01:
                await connection.execute(delete(sessions).where(sessions.c.expires_at < time.time()))

    async def delete(self, session_id: str) -> None:
        async with self.database.primary_transaction() as connection:
            await connection.execute(delete(sessions).where(sessions.c.id == session_id))
