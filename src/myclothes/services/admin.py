"""Admin use cases: create products, change prices and stock; what changed is published after the commit."""

from __future__ import annotations

from myclothes.domain.catalog import validate_new_product, validate_price, validate_stock
from myclothes.domain.errors import InvalidInput, NotFound
from myclothes.domain.events import ProductChanged
from myclothes.ports import Database, EventPublisher


class AdminService:
    def __init__(self, database: Database, events: EventPublisher) -> None:
        self.database = database
        self.events = events

    async def create_product(
        self,
        category: str,
        name: str,
        description: str,
        price: int,
        sizes: list[str],
        colours: list[str],
        stock: int,
    ) -> str:
        validate_new_product(name, description, price, sizes, colours)
        validate_stock(stock)
        async with self.database.writer() as uow:
            slug = await uow.catalog.create_product(category, name, description, price, sizes, colours, stock)
        await self.events.publish(ProductChanged(slug))
        return slug

    async def update_product(self, slug: str, name: str | None, description: str | None) -> None:
        if name is not None and not 1 <= len(name.strip()) <= 120:
            raise InvalidInput("must be 1 to 120 characters", field="name")
        async with self.database.writer() as uow:
            if not await uow.catalog.update_product(slug, name, description):
                raise NotFound(f"no product called {slug!r}")
        await self.events.publish(ProductChanged(slug))

    async def update_variant(self, sku: str, price: int | None, stock: int | None) -> str:
        if price is None and stock is None:
            raise InvalidInput("give price and/or stock", field="price")
        if price is not None:
            validate_price(price)
        if stock is not None:
            validate_stock(stock)
        async with self.database.writer() as uow:
            slug = await uow.catalog.update_variant(sku, price, stock)
        if slug is None:
            raise NotFound(f"no variant with SKU {sku!r}")
        await self.events.publish(ProductChanged(slug))
        return slug
