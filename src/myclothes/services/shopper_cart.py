"""The cart of the shopper making this request, whatever the store and the cart-id policy: what handlers use."""

from __future__ import annotations

from dataclasses import dataclass

from myclothes.domain.cart import CartView
from myclothes.ports import SessionChanged
from myclothes.services.cart import CartService
from myclothes.services.sessions import SessionService, ShopperSession


@dataclass(frozen=True, slots=True)
class ShopperCart:
    """Reads never create a cart; the first write gives a guest one (and every access finishes a late merge).

    A session opened ``guarded`` (``SessionService.open``) was not read for this request: the write carries its
    guard, and if the stored session changed meanwhile, nothing was written and the write is made again after a
    real read. A write that held clears the guard: the copy was the stored session (``SessionService.save``
    reads a copy that was never confirmed before it keeps any change made to it)."""

    carts: CartService
    sessions: SessionService
    shopper: ShopperSession

    async def id(self) -> str | None:
        """The cart's key; None while the shopper has no cart."""
        return await self.sessions.cart_id(self.shopper)

    async def view(self) -> CartView:
        cart_id = await self.id()
        return await self.carts.view(cart_id, self.shopper.known_lines(cart_id))

    async def add(self, sku: str, quantity: int) -> CartView:
        self.shopper.prefetched = None  # the cart changes
        if self.shopper.guard is not None:
            try:
                view = await self.carts.add(await self.writable_id(), sku, quantity, guard=self.shopper.guard)
            except SessionChanged:
                await self.sessions.reload(self.shopper)
            else:
                self.shopper.guard = None  # the write held: the copy was the stored session
                return view
        return await self.carts.add(await self.writable_id(), sku, quantity)

    async def set_quantity(self, sku: str, quantity: int) -> CartView:
        self.shopper.prefetched = None
        if self.shopper.guard is not None:
            try:
                cart_id = await self.writable_id()
                view = await self.carts.set_quantity(cart_id, sku, quantity, guard=self.shopper.guard)
            except SessionChanged:
                await self.sessions.reload(self.shopper)
            else:
                self.shopper.guard = None
                return view
        return await self.carts.set_quantity(await self.writable_id(), sku, quantity)

    async def remove(self, sku: str) -> CartView:
        self.shopper.prefetched = None
        cart_id = await self.id()
        if cart_id is None:
            return CartView(items=[])
        return await self.carts.remove(cart_id, sku)

    async def writable_id(self) -> str:
        """The cart's key, creating a guest cart if there is none yet."""
        return await self.sessions.writable_cart_id(self.shopper)
