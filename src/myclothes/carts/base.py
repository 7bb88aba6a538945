"""What every cart store shares: the contract's checks, made once."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from prometheus_client import Counter

from myclothes.domain.cart import MAX_LINES, MAX_QUANTITY, CartLine, MergeChange, validate_quantity
from myclothes.domain.errors import Conflict, ShopError
from myclothes.ports import CartStore, GuardedCartStore, SessionChanged, SessionGuard

T = TypeVar("T")
CART_OPS = Counter("myclothes_cart_ops_total", "Cart store operations", ["store", "op", "result"])
CART_MERGES = Counter("myclothes_cart_merges_total", "Guest carts merged into an account's cart at login")

LINE_LIMIT_MESSAGE = f"a cart holds at most {MAX_LINES} different items"
QUANTITY_LIMIT_MESSAGE = f"at most {MAX_QUANTITY} of one item per order"


def check_add(existing_quantity: int | None, line_count: int, quantity: int, limit: int = MAX_QUANTITY) -> int:
    """Validate an add against the line in the cart (None when absent); return the new quantity."""
    validate_quantity(quantity)
    if existing_quantity is None and line_count >= MAX_LINES:
        raise Conflict(LINE_LIMIT_MESSAGE, field="sku")
    have = existing_quantity or 0
    if have + quantity > min(limit, MAX_QUANTITY):
        raise Conflict(quantity_limit_message(limit, have), field="quantity")
    return have + quantity


def quantity_limit_message(limit: int, have: int) -> str:
    if limit >= MAX_QUANTITY:
        return f"{QUANTITY_LIMIT_MESSAGE} (you have {have})"
    return f"at most {limit} of this item can be added (you have {have})"


class InstrumentedCartStore:
    """Counts every operation in ``myclothes_cart_ops_total{store,op,result}`` around any backend."""

    def __init__(self, inner: CartStore) -> None:
        self.inner = inner
        self.name = inner.name
        self._guarded = inner if isinstance(inner, GuardedCartStore) else None
        self._ok: dict[str, Counter] = {}  # op -> its "ok" child, looked up once (``labels`` per call was 1% of an add)

    async def _count(self, op: str, call: Awaitable[T]) -> T:
        try:
            result = await call
        except ShopError as error:
            CART_OPS.labels(store=self.name, op=op, result=type(error).__name__).inc()
            raise
        except Exception:
            CART_OPS.labels(store=self.name, op=op, result="error").inc()
            raise
        ok = self._ok.get(op)
        if ok is None:
            ok = self._ok[op] = CART_OPS.labels(store=self.name, op=op, result="ok")
        ok.inc()
        return result

    async def lines(self, cart_id: str) -> list[CartLine]:
        return await self._count("lines", self.inner.lines(cart_id))

    async def add(self, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY) -> list[CartLine]:
        return await self._count("add", self.inner.add(cart_id, sku, quantity, limit))

    async def set_quantity(self, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        return await self._count("set", self.inner.set_quantity(cart_id, sku, quantity))

    async def add_guarded(
        self, guard: SessionGuard, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY
    ) -> list[CartLine]:
        """The inner store's guarded add; a store that cannot check a guard says the session changed (the caller
        then reads it and writes unguarded)."""
        if self._guarded is None:
            raise SessionChanged
        return await self._count("add", self._guarded.add_guarded(guard, cart_id, sku, quantity, limit))

    async def set_quantity_guarded(self, guard: SessionGuard, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        if self._guarded is None:
            raise SessionChanged
        return await self._count("set", self._guarded.set_quantity_guarded(guard, cart_id, sku, quantity))

    async def remove(self, cart_id: str, sku: str) -> list[CartLine]:
        return await self._count("remove", self.inner.remove(cart_id, sku))

    async def clear(self, cart_id: str) -> None:
        await self._count("clear", self.inner.clear(cart_id))

    async def merge(self, source_id: str, target_id: str) -> list[MergeChange]:
        changes = await self._count("merge", self.inner.merge(source_id, target_id))
        if changes:
            CART_MERGES.inc()
        return changes

    async def ping(self) -> bool:
        return await self.inner.ping()
