"""Sessions in Redis, as JSON strings that expire with the session (goes with the ``redis`` cart store).

A page or a cart view needs the session and then the cart it points to: two round trips. ``load_with_cart`` does
both in one Lua script: it reads the session, finds the cart the session appears to point to (the account's cart
``c:<id>`` when logged in, else the guest cart) and returns that cart's fields too. It is a guess, read-only and
never acted upon here: the session service uses the lines only when its cart-id policy names the same cart.
"""

from __future__ import annotations

import time
from functools import cached_property

import msgspec
from redis.commands.core import AsyncScript

from myclothes.ports import CartGuess, SessionGuard, SessionRecord
from myclothes.redisconn import CART_PREFIX, PREFIX, RedisCalls, cart_lines, command, run_script

# KEYS[1]: the session; ARGV[1]: the carts' key prefix. Returns {} (no session), {session} (no cart to guess),
# or {session, cart id, the cart's fields}. (The cart's key is derived, not declared: one Redis, not a cluster.)
WITH_CART = """
local raw = redis.call('GET', KEYS[1])
if not raw then return {} end
local ok, record = pcall(cjson.decode, raw)
local cart = nil
if ok and type(record) == 'table' and type(record.data) == 'table' then
  local data = record.data
  if type(data.uid) == 'number' then cart = 'c:' .. string.format('%d', data.uid)
  elseif type(data.cart) == 'string' then cart = data.cart end
end
if cart == nil then return {raw} end
return {raw, cart, redis.call('HGETALL', ARGV[1] .. cart)}
"""


SEEN_MAX = 20_000  # sessions remembered per process for guarded cart writes (a few hundred bytes each)


class RedisSessionStore(RedisCalls):
    """Every call bounded, retried once during a failover, else ``StoreUnavailable``; loads read a replica while the
    primary is suspect (``redisconn.py``).

    It remembers the bytes of the sessions it last read or wrote (``SEEN_MAX`` of them): a cart write starts from
    that copy without reading the session (``load_guarded``) and carries it as a guard, which the cart's script
    compares with the stored session before it writes (``carts/redis.py``). A copy that is out of date (the shopper
    logged in or out on another instance, the session expired or was destroyed) costs a second try, never a write
    to the wrong cart."""

    _seen: dict[str, bytes]

    def _remember(self, session_id: str, raw: bytes | str | None) -> None:
        seen = self.__dict__.setdefault("_seen", {})
        if raw is None:
            seen.pop(session_id, None)
            return
        if len(seen) >= SEEN_MAX:
            seen.clear()
        seen[session_id] = raw if isinstance(raw, bytes) else raw.encode()

    @cached_property
    def _with_cart(self) -> AsyncScript:
        return self.client.register_script(WITH_CART)  # read-only: runs on a replica too

    @staticmethod
    def key(session_id: str) -> str:
        return f"{PREFIX}:session:{session_id}"

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        raw = await self._read(lambda client: command(client, "GET", self.key(session_id)))
        self._remember(session_id, raw)
        return _live(raw, now)

    async def load_guarded(self, session_id: str, now: float) -> tuple[SessionRecord | None, SessionGuard | None]:
        raw = self.__dict__.get("_seen", {}).get(session_id)
        record = _live(raw, now) if raw is not None else None
        if raw is None or record is None:
            return await self.load(session_id, now), None
        return record, SessionGuard(self.key(session_id), raw)

    async def load_with_cart(self, session_id: str, now: float) -> tuple[SessionRecord | None, CartGuess | None]:
        key = self.key(session_id)
        found = await self._read(lambda client: run_script(self._with_cart, client, [key], [CART_PREFIX]))
        self._remember(session_id, found[0] if found else None)
        record = _live(found[0], now) if found else None
        if record is None or len(found) < 3:
            return record, None
        return record, CartGuess(found[1].decode(), cart_lines(found[2]))

    async def save(self, record: SessionRecord) -> None:
        ttl_ms = max(1, int((record.expires_at - time.time()) * 1000))
        payload = msgspec.json.encode(record)
        await self._call(lambda send: send(self.client, "SET", self.key(record.id), payload, "PX", ttl_ms), write=True)
        self._remember(record.id, payload)

    async def delete(self, session_id: str) -> None:
        self._remember(session_id, None)
        await self._call(lambda send: send(self.client, "DEL", self.key(session_id)), write=True)


def _live(raw: bytes | str | None, now: float) -> SessionRecord | None:
    if raw is None:
        return None
    record = msgspec.json.decode(raw, type=SessionRecord)
    return record if record.expires_at > now else None
