"""Sessions in this process's memory: fast, lost when the process dies (goes with the ``memory`` cart store)."""

from __future__ import annotations

import msgspec

from myclothes.ports import SessionRecord


class MemorySessionStore:
    """Sessions in a dict, copied in and out (a caller's changes count only once saved); expired ones are dropped
    when read."""

    def __init__(self) -> None:
        self._sessions: dict[str, SessionRecord] = {}

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        record = self._sessions.get(session_id)
        if record is None or record.expires_at <= now:
            self._sessions.pop(session_id, None)
            return None
        return _copy(record)

    async def save(self, record: SessionRecord) -> None:
        self._sessions[record.id] = _copy(record)

    async def delete(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)


def _copy(record: SessionRecord) -> SessionRecord:
    return msgspec.convert(msgspec.to_builtins(record), SessionRecord)
