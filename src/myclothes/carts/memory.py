"""Carts in this process's memory: fast, lost when the process dies (needs LB stickiness).

Guest carts (``g:…``) outlive no session: one untouched for ``guest_max_age_s`` (the session's absolute lifetime)
belongs to a session that can no longer exist, and is dropped by a sweep that runs at most every
``SWEEP_EVERY_S`` as carts change, so the process's memory does not grow with every visitor who never came back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from myclothes.carts.base import check_add
from myclothes.domain.cart import MAX_QUANTITY, CartLine, MergeChange, merge_lines, validate_quantity

SWEEP_EVERY_S = 60.0


class MemoryCartStore:
    """One dict per cart. Each operation runs without awaiting, so it is atomic on the event loop."""

    name = "memory"

    def __init__(self, guest_max_age_s: float = 30 * 24 * 3600, clock: Callable[[], float] = time.monotonic) -> None:
        self._carts: dict[str, dict[str, int]] = {}
        self._touched: dict[str, float] = {}  # guest carts: when they last changed
        self.guest_max_age_s = guest_max_age_s
        self._clock = clock
        self._swept_at = clock()

    def _changed(self, cart_id: str) -> None:
        now = self._clock()
        if cart_id.startswith("g:"):
            self._touched[cart_id] = now
        if now - self._swept_at >= SWEEP_EVERY_S:
            self._swept_at = now
            self.purge_abandoned(now)

    def purge_abandoned(self, now: float) -> int:
        """Drop the guest carts untouched for ``guest_max_age_s``; how many were dropped."""
        old = [cart_id for cart_id, at in self._touched.items() if at < now - self.guest_max_age_s]
        for cart_id in old:
            self._carts.pop(cart_id, None)
            del self._touched[cart_id]
        return len(old)

    async def lines(self, cart_id: str) -> list[CartLine]:
        return [CartLine(sku, qty) for sku, qty in self._carts.get(cart_id, {}).items()]

    async def add(self, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY) -> list[CartLine]:
        cart = self._carts.get(cart_id, {})
        new_quantity = check_add(cart.get(sku), len(cart), quantity, limit)
        self._carts.setdefault(cart_id, cart)[sku] = new_quantity
        self._changed(cart_id)
        return await self.lines(cart_id)

    async def set_quantity(self, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        validate_quantity(quantity, allow_zero=True)
        if quantity == 0:
            return await self.remove(cart_id, sku)
        cart = self._carts.get(cart_id, {})
        if sku not in cart:
            check_add(None, len(cart), quantity)
        self._carts.setdefault(cart_id, cart)[sku] = quantity
        self._changed(cart_id)
        return await self.lines(cart_id)

    async def remove(self, cart_id: str, sku: str) -> list[CartLine]:
        cart = self._carts.get(cart_id)
        if cart is not None:
            cart.pop(sku, None)
            if not cart:
                del self._carts[cart_id]
                self._touched.pop(cart_id, None)
        return await self.lines(cart_id)

    async def clear(self, cart_id: str) -> None:
        self._carts.pop(cart_id, None)
        self._touched.pop(cart_id, None)

    async def merge(self, source_id: str, target_id: str) -> list[MergeChange]:
        source = self._carts.pop(source_id, {})
        self._touched.pop(source_id, None)
        if not source:
            return []
        merged, changes = merge_lines(
            [CartLine(s, q) for s, q in source.items()],
            [CartLine(s, q) for s, q in self._carts.get(target_id, {}).items()],
        )
        self._carts[target_id] = {line.sku: line.quantity for line in merged}
        self._changed(target_id)
        return changes

    async def ping(self) -> bool:
        return isinstance(self._carts, dict)  # nothing to reach: the carts are this process's own
