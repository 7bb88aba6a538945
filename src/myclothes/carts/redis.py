"""Carts in Redis: one hash per cart, every operation one round trip (a Lua script).

Each cart is a hash ``sku -> quantity`` plus a ``~c`` field holding its creation time. The key's TTL slides with
every write (``SESSION_IDLE_S``) but never past the cart's absolute lifetime (``SESSION_ABSOLUTE_S``). Line order
is insertion order (hashes of at most 128 fields keep it; a cart holds at most 100 lines).

Every call goes through :class:`myclothes.redisconn.RedisCalls`: bounded, one retry during a failover, then
``StoreUnavailable`` (503), never a 500.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from myclothes.carts.base import LINE_LIMIT_MESSAGE, quantity_limit_message
from myclothes.domain.cart import MAX_LINES, MAX_QUANTITY, CartLine, MergeChange, validate_quantity
from myclothes.domain.errors import Conflict
from myclothes.ports import SessionChanged, SessionGuard
from myclothes.redisconn import CART_PREFIX, PrimaryHealth, RedisCalls, cart_lines, command, run_script

# Shared prologue: the cart's TTL from its creation time (a cart past its absolute lifetime starts over).
_TTL = """
local key = KEYS[1]
local idle, absolute = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = tonumber(redis.call('TIME')[1])
local created = tonumber(redis.call('HGET', key, '~c') or now)
if created + absolute <= now then redis.call('DEL', key); created = now end
local function touch()
  redis.call('HSETNX', key, '~c', created)
  redis.call('EXPIRE', key, math.max(1, math.min(idle, created + absolute - now)))
end
local function lines_count()
  local n = redis.call('HLEN', key)
  if redis.call('HEXISTS', key, '~c') == 1 then n = n - 1 end
  return n
end
"""

ADD = (
    _TTL
    + """
local sku, qty, maxq, maxl = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local current = tonumber(redis.call('HGET', key, sku) or 0)
if current == 0 and lines_count() >= maxl then return redis.error_reply('LINES') end
if current + qty > maxq then return redis.error_reply('QUANTITY ' .. current) end
redis.call('HINCRBY', key, sku, qty)
touch()
return redis.call('HGETALL', key)
"""
)

SET = (
    _TTL
    + """
local sku, qty, maxl = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[6])
if qty == 0 then
  redis.call('HDEL', key, sku)
else
  if redis.call('HEXISTS', key, sku) == 0 and lines_count() >= maxl then return redis.error_reply('LINES') end
  redis.call('HSET', key, sku, qty)
end
if lines_count() == 0 then redis.call('DEL', key) else touch() end
return redis.call('HGETALL', key)
"""
)

# A guarded write (``SessionGuard``) runs its script behind this check: the session key (KEYS[2]) must still hold
# exactly the bytes the request started from (ARGV[7]), or nothing is written.
GUARD = """
if redis.call('GET', KEYS[2]) ~= ARGV[7] then return redis.error_reply('SESSION changed') end
"""

MERGE = """
local source, target = KEYS[1], KEYS[2]
local maxq, idle, absolute = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = tonumber(redis.call('TIME')[1])
local fields = redis.call('HGETALL', source)
local changes = {}
for i = 1, #fields, 2 do
  local sku, qty = fields[i], tonumber(fields[i + 1])
  if string.sub(sku, 1, 1) ~= '~' then
    local before = tonumber(redis.call('HGET', target, sku) or 0)
    local after = math.min(before + qty, maxq)
    redis.call('HSET', target, sku, after)
    table.insert(changes, sku)
    table.insert(changes, after - before)
    table.insert(changes, after)
    table.insert(changes, (before + qty > maxq) and 1 or 0)
  end
end
redis.call('DEL', source)
if #changes > 0 then
  local created = tonumber(redis.call('HGET', target, '~c') or now)
  redis.call('HSETNX', target, '~c', created)
  redis.call('EXPIRE', target, math.max(1, math.min(idle, created + absolute - now)))
end
return changes
"""


class RedisCartStore(RedisCalls):
    name = "redis"

    def __init__(
        self,
        client: Redis,
        idle_s: int,
        absolute_s: int,
        wait_for_replica: bool = False,
        replica: Redis | None = None,
        health: PrimaryHealth | None = None,
    ) -> None:
        super().__init__(client, wait_for_replica, replica, health)
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        self._add = client.register_script(ADD)
        self._set = client.register_script(SET)
        self._add_guarded = client.register_script(GUARD + ADD)
        self._set_guarded = client.register_script(GUARD + SET)
        self._merge = client.register_script(MERGE)

    @staticmethod
    def key(cart_id: str) -> str:
        return CART_PREFIX + cart_id

    def _args(self, *extra: Any) -> list[Any]:
        return [self.idle_s, self.absolute_s, *extra]

    async def lines(self, cart_id: str) -> list[CartLine]:
        key = self.key(cart_id)
        found = await self._read(lambda client: command(client, "HGETALL", key))
        if isinstance(found, dict):  # RESP3 (redis-py's default protocol) answers a map, RESP2 a flat list
            found = [item for pair in found.items() for item in pair]
        return cart_lines(found)

    async def add(self, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY) -> list[CartLine]:
        validate_quantity(quantity)
        args = self._args(sku, quantity, min(limit, MAX_QUANTITY), MAX_LINES)
        return cart_lines(await self._run(self._add, [self.key(cart_id)], args))

    async def set_quantity(self, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        validate_quantity(quantity, allow_zero=True)
        args = self._args(sku, quantity, MAX_QUANTITY, MAX_LINES)
        return cart_lines(await self._run(self._set, [self.key(cart_id)], args))

    async def add_guarded(
        self, guard: SessionGuard, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY
    ) -> list[CartLine]:
        validate_quantity(quantity)
        args = self._args(sku, quantity, min(limit, MAX_QUANTITY), MAX_LINES, guard.value)
        return cart_lines(await self._run(self._add_guarded, [self.key(cart_id), guard.key], args))

    async def set_quantity_guarded(self, guard: SessionGuard, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        validate_quantity(quantity, allow_zero=True)
        args = self._args(sku, quantity, MAX_QUANTITY, MAX_LINES, guard.value)
        return cart_lines(await self._run(self._set_guarded, [self.key(cart_id), guard.key], args))

    async def remove(self, cart_id: str, sku: str) -> list[CartLine]:
        return await self.set_quantity(cart_id, sku, 0)

    async def clear(self, cart_id: str) -> None:
        await self._call(lambda send: send(self.client, "DEL", self.key(cart_id)), write=True)

    async def merge(self, source_id: str, target_id: str) -> list[MergeChange]:
        keys = [self.key(source_id), self.key(target_id)]
        args = [MAX_QUANTITY, self.idle_s, self.absolute_s]
        flat = await self._call(lambda send: run_script(self._merge, self.client, keys, args, send), write=True)
        return [
            MergeChange(
                sku=flat[i].decode(), added=int(flat[i + 1]), quantity=int(flat[i + 2]), capped=bool(flat[i + 3])
            )
            for i in range(0, len(flat), 4)
        ]

    async def ping(self) -> bool:
        return bool(await self._call(lambda send: command(self.client, "PING")))

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> list[bytes]:
        try:
            found: list[bytes] = await self._call(
                lambda send: run_script(script, self.client, keys, args, send), write=True
            )
            return found
        except ResponseError as error:
            message = str(error)
            if message.startswith("SESSION"):
                raise SessionChanged from None
            if message.startswith("LINES"):
                raise Conflict(LINE_LIMIT_MESSAGE, field="sku") from None
            if message.startswith("QUANTITY"):
                have = int(message.split()[-1])
                limit = int(args[4]) if len(args) > 4 else MAX_QUANTITY
                raise Conflict(quantity_limit_message(limit, have), field="quantity") from None
            raise
