"""Carts in this process's memory: fast, lost when the process dies (needs LB stickiness)."""

from __future__ import annotations

from myclothes.carts.base import check_add
from myclothes.domain.cart import MAX_QUANTITY, CartLine, MergeChange, merge_lines, validate_quantity


class MemoryCartStore:
    """One dict per cart. Each operation runs without awaiting, so it is atomic on the event loop."""

    name = "memory"

    def __init__(self) -> None:
        self._carts: dict[str, dict[str, int]] = {}

    async def lines(self, cart_id: str) -> list[CartLine]:
        return [CartLine(sku, qty) for sku, qty in self._carts.get(cart_id, {}).items()]

    async def add(self, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY) -> list[CartLine]:
        cart = self._carts.get(cart_id, {})
        new_quantity = check_add(cart.get(sku), len(cart), quantity, limit)
        self._carts.setdefault(cart_id, cart)[sku] = new_quantity
        return await self.lines(cart_id)

    async def set_quantity(self, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        validate_quantity(quantity, allow_zero=True)
        if quantity == 0:
            return await self.remove(cart_id, sku)
        cart = self._carts.get(cart_id, {})
        if sku not in cart:
            check_add(None, len(cart), quantity)
        self._carts.setdefault(cart_id, cart)[sku] = quantity
        return await self.lines(cart_id)

    async def remove(self, cart_id: str, sku: str) -> list[CartLine]:
        cart = self._carts.get(cart_id)
        if cart is not None:
            cart.pop(sku, None)
            if not cart:
                del self._carts[cart_id]
        return await self.lines(cart_id)

    async def clear(self, cart_id: str) -> None:
        self._carts.pop(cart_id, None)

    async def merge(self, source_id: str, target_id: str) -> list[MergeChange]:
        source = self._carts.pop(source_id, {})
        if not source:
            return []
        merged, changes = merge_lines(
            [CartLine(s, q) for s, q in source.items()],
            [CartLine(s, q) for s, q in self._carts.get(target_id, {}).items()],
        )
        self._carts[target_id] = {line.sku: line.quantity for line in merged}
        return changes

    async def ping(self) -> bool:
        return isinstance(self._carts, dict)  # nothing to reach: the carts are this process's own
