"""Sessions as rows in the relational database (goes with the ``sql`` and ``cookie`` cart stores): durable, on the
primary (never a replica: a login must be seen by the next request)."""

from __future__ import annotations

import random
import time
from typing import Any

import msgspec
from sqlalchemy import Connection, Float, String, bindparam, delete, select

from myclothes.db.engine import SqlDatabase
from myclothes.db.tables import sessions
from myclothes.ports import SessionRecord, SessionState

_LOAD = select(sessions.c.data, sessions.c.created_at, sessions.c.expires_at).where(
    sessions.c.id == bindparam("id", type_=String), sessions.c.expires_at > bindparam("now", type_=Float)
)


class SqlSessionStore:
    """Expired rows are purged now and then by writers."""

    def __init__(self, database: SqlDatabase) -> None:
        self.database = database
        # Built once (SQLAlchemy's construction of an upsert costs more than SQLite's execution of it).
        upsert = database.upsert(sessions)
        self._save = upsert.on_conflict_do_update(
            index_elements=[sessions.c.id],
            set_={"data": upsert.excluded.data, "expires_at": upsert.excluded.expires_at},
        )

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        def load(connection: Connection) -> Any:
            return connection.execute(_LOAD, {"id": session_id, "now": now}).first()

        row = await self.database.run_on_primary(load, "read")
        if row is None:
            return None
        return SessionRecord(session_id, msgspec.convert(row[0], SessionState), row[1], row[2])

    async def save(self, record: SessionRecord) -> None:
        row = {
            "id": record.id,
            "data": msgspec.to_builtins(record.state),
            "created_at": record.created_at,
            "expires_at": record.expires_at,
        }
        purge = random.random() < 0.01

        def save(connection: Connection) -> None:  # statements each atomic on their own (``db/direct.py``)
            connection.execute(self._save, row)
            if purge:
                connection.execute(delete(sessions).where(sessions.c.expires_at < time.time()))

        await self.database.run_on_primary(save, "statements")

    async def delete(self, session_id: str) -> None:
        statement = delete(sessions).where(sessions.c.id == session_id)
        await self.database.run_on_primary(lambda connection: connection.execute(statement), "statements")
