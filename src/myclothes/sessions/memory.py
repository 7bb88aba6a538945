"""Sessions in this process's memory: fast, lost when the process dies (goes with the ``memory`` cart store)."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from myclothes.ports import SessionRecord

SWEEP_EVERY_S = 60.0


class MemorySessionStore:
    """Sessions in a dict, copied in and out (a caller's changes count only once saved); expired ones are dropped
    when read, and swept (at most every ``SWEEP_EVERY_S``, as sessions are saved) when nobody comes back for them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._sessions: dict[str, SessionRecord] = {}
        self._clock = clock
        self._swept_at = clock()

    def purge_expired(self, now: float) -> int:
        expired = [key for key, record in self._sessions.items() if record.expires_at <= now]
        for key in expired:
            del self._sessions[key]
        return len(expired)

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        record = self._sessions.get(session_id)
        if record is None or record.expires_at <= now:
            self._sessions.pop(session_id, None)
            return None
        return _copy(record)

    async def save(self, record: SessionRecord) -> None:
        self._sessions[record.id] = _copy(record)
        now = self._clock()
        if now - self._swept_at >= SWEEP_EVERY_S:
            self._swept_at = now
            self.purge_expired(now)

    async def delete(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)


def _copy(record: SessionRecord) -> SessionRecord:
    return msgspec.convert(msgspec.to_builtins(record), SessionRecord)
