"""Sessions in Redis, as JSON strings that expire with the session (goes with the ``redis`` cart store)."""

from __future__ import annotations

import time

import msgspec

from myclothes.ports import SessionRecord
from myclothes.redisconn import RedisCalls

PREFIX = "myclothes:v1"


class RedisSessionStore(RedisCalls):
    """Every call bounded, retried once during a failover, else ``StoreUnavailable``; loads read a replica while the
    primary is suspect (``redisconn.py``)."""

    @staticmethod
    def key(session_id: str) -> str:
        return f"{PREFIX}:session:{session_id}"

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        raw = await self._read(lambda client: client.get(self.key(session_id)))
        if raw is None:
            return None
        record = msgspec.json.decode(raw, type=SessionRecord)
        return record if record.expires_at > now else None

    async def save(self, record: SessionRecord) -> None:
        ttl_ms = max(1, int((record.expires_at - time.time()) * 1000))
        payload = msgspec.json.encode(record)
        await self._call(lambda: self.client.set(self.key(record.id), payload, px=ttl_ms), write=True)

    async def delete(self, session_id: str) -> None:
        await self._call(lambda: self.client.delete(self.key(session_id)), write=True)
