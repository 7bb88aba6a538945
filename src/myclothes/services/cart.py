"""The shopper's cart: add, change, remove, view priced lines, merge at login."""

from __future__ import annotations

from myclothes.domain.cart import MAX_QUANTITY, CartLine, CartView, PricedLine, describe_merge, validate_quantity
from myclothes.domain.catalog import Variant
from myclothes.domain.errors import Conflict, InvalidInput
from myclothes.ports import CartStore, Database


class CartService:
    def __init__(self, store: CartStore, database: Database) -> None:
        self.store = store
        self.database = database

    async def view(self, cart_id: str | None) -> CartView:
        if cart_id is None:
            return CartView(items=[])
        return await self._priced(await self.store.lines(cart_id))

    async def count(self, cart_id: str | None) -> int:
        if cart_id is None:
            return 0
        return sum(line.quantity for line in await self.store.lines(cart_id))

    async def add(self, cart_id: str, sku: str, quantity: int) -> CartView:
        validate_quantity(quantity)
        variant = await self._variant(sku)
        if variant.stock <= 0:
            raise Conflict("this size and colour is sold out", field="sku")
        current = {line.sku: line.quantity for line in await self.store.lines(cart_id)}
        if current.get(sku, 0) + quantity > MAX_QUANTITY:
            raise Conflict(f"at most {MAX_QUANTITY} of one item per order (you have {current[sku]})", field="quantity")
        if current.get(sku, 0) + quantity > variant.stock:
            raise Conflict(f"only {variant.stock} left in stock", field="quantity")
        return await self._priced(await self.store.add(cart_id, sku, quantity))

    async def set_quantity(self, cart_id: str, sku: str, quantity: int) -> CartView:
        validate_quantity(quantity, allow_zero=True)
        if quantity:
            variant = await self._variant(sku)
            if quantity > variant.stock:
                raise Conflict(f"only {variant.stock} left in stock", field="quantity")
        return await self._priced(await self.store.set_quantity(cart_id, sku, quantity))

    async def remove(self, cart_id: str, sku: str) -> CartView:
        return await self._priced(await self.store.remove(cart_id, sku))

    async def clear(self, cart_id: str) -> None:
        await self.store.clear(cart_id)

    async def merge(self, guest_cart_id: str, customer_cart_id: str) -> list[str]:
        """Move a guest cart into the customer's; return sentences saying what changed."""
        changes = await self.store.merge(guest_cart_id, customer_cart_id)
        if not changes:
            return []
        async with self.database.reader() as uow:
            found = await uow.catalog.variants([change.sku for change in changes])
        return describe_merge(changes, {sku: f"{name} ({v.colour}, {v.size})" for sku, (v, name, _) in found.items()})

    async def _variant(self, sku: str) -> Variant:
        if not isinstance(sku, str) or not sku or len(sku) > 40:
            raise InvalidInput("unknown SKU", field="sku")
        async with self.database.reader() as uow:
            found = await uow.catalog.variants([sku])
        if sku not in found:
            raise InvalidInput(f"unknown SKU {sku!r}", field="sku")
        return found[sku][0]

    async def _priced(self, lines: list[CartLine]) -> CartView:
        if not lines:
            return CartView(items=[])
        async with self.database.reader() as uow:
            found = await uow.catalog.variants([line.sku for line in lines])
        items = []
        for line in lines:
            if line.sku not in found:
                continue  # the product was withdrawn: the line is no longer sold
            variant, name, slug = found[line.sku]
            items.append(
                PricedLine(
                    sku=line.sku,
                    name=name,
                    slug=slug,
                    size=variant.size,
                    colour=variant.colour,
                    unit_price=variant.price,
                    quantity=line.quantity,
                    stock=variant.stock,
                )
            )
        return CartView(items=items)
