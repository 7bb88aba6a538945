"""Sessions as rows in the relational database (goes with the ``sql`` and ``cookie`` cart stores): durable, on the
primary (never a replica: a login must be seen by the next request).

The store remembers the sessions it last read, as their stored JSON text: a cart write starts from that copy without
reading the session (``load_guarded``) and carries the text as a guard, which the cart's upsert compares with the
stored row in its own conditions (``carts/sql.py``): a write is then two statements, not three. A copy that is out of
date (the shopper logged in or out on another instance, the session expired or was destroyed) costs a second try,
never a write to the wrong cart. A save remembers what it wrote: the engines render JSON with ``json_text``, and
SQLite and PostgreSQL's ``json`` keep that text as written (a copy that differs would only cost the second try)."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from sqlalchemy import Connection, Float, String, bindparam, delete, select

from myclothes.db.engine import SqlDatabase
from myclothes.db.sweep import Sweep
from myclothes.db.tables import json_text, session_data_text, sessions
from myclothes.ports import SessionGuard, SessionRecord, SessionState

_LOAD = select(session_data_text, sessions.c.created_at, sessions.c.expires_at).where(
    sessions.c.id == bindparam("id", type_=String), sessions.c.expires_at > bindparam("now", type_=Float)
)
SEEN_MAX = 20_000  # sessions remembered per process for guarded cart writes
SWEEP_EVERY_S = 60.0  # per process: how often expired sessions are deleted


class SqlSessionStore:
    """Expired rows are deleted once a minute per process, in the background, started by a save."""

    def __init__(self, database: SqlDatabase) -> None:
        self.database = database
        self._seen: dict[str, tuple[str, float, float]] = {}  # id -> (data text, created_at, expires_at)
        self.sweep = Sweep("expired sessions", self.purge_expired, SWEEP_EVERY_S)
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
            self._seen.pop(session_id, None)
            return None
        if len(self._seen) >= SEEN_MAX:
            self._seen.clear()
        self._seen[session_id] = (row[0], row[1], row[2])
        return _record(session_id, row[0], row[1], row[2])

    async def load_guarded(self, session_id: str, now: float) -> tuple[SessionRecord | None, SessionGuard | None]:
        seen = self._seen.get(session_id)
        if seen is None or seen[2] <= now:
            return await self.load(session_id, now), None
        return _record(session_id, *seen), SessionGuard(session_id, seen[0].encode())

    async def save(self, record: SessionRecord) -> None:
        data = msgspec.to_builtins(record.state)
        row = {"id": record.id, "data": data, "created_at": record.created_at, "expires_at": record.expires_at}
        self._seen.pop(record.id, None)
        await self.database.run_on_primary(lambda connection: connection.execute(self._save, row), "statements")
        self.sweep.due()
        if len(self._seen) >= SEEN_MAX:
            self._seen.clear()
        self._seen[record.id] = (json_text(data), record.created_at, record.expires_at)

    async def purge_expired(self) -> int:
        """Delete the sessions that have expired; how many were deleted."""
        statement = delete(sessions).where(sessions.c.expires_at < time.time())
        result = await self.database.run_on_primary(lambda connection: connection.execute(statement), "statements")
        return int(result.rowcount or 0)

    async def delete(self, session_id: str) -> None:
        self._seen.pop(session_id, None)
        statement = delete(sessions).where(sessions.c.id == session_id)
        await self.database.run_on_primary(lambda connection: connection.execute(statement), "statements")


def _record(session_id: str, text: str, created_at: float, expires_at: float) -> SessionRecord:
    return SessionRecord(session_id, msgspec.json.decode(text, type=SessionState), created_at, expires_at)
