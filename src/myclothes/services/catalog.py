"""Browsing the catalog, read through the cache (cache-aside) from a reader unit."""

from __future__ import annotations

from myclothes.cache.aside import CacheAside
from myclothes.domain.catalog import CatalogQuery, Category, Product, ProductPage
from myclothes.domain.errors import NotFound
from myclothes.ports import Database


class CatalogService:
    def __init__(self, database: Database, cache: CacheAside) -> None:
        self.database = database
        self.cache = cache

    async def categories(self) -> list[Category]:
        async def load() -> list[Category]:
            async with self.database.reader() as uow:
                return await uow.catalog.categories()

        return await self.cache.get_or_load(self.cache.key("categories"), list[Category], load)

    async def search(self, query: CatalogQuery) -> ProductPage:
        async with self.database.reader() as uow:
            return await uow.catalog.search(query)

    async def product(self, slug: str) -> Product:
        async def load() -> Product | None:
            async with self.database.reader() as uow:
                return await uow.catalog.product(slug)

        product = await self.cache.get_or_load(self.cache.key("product", slug), Product | None, load)  # type: ignore[arg-type]
        if product is None:
            raise NotFound(f"no product called {slug!r}", field="slug")
        return product

    async def forget_product(self, slug: str) -> None:
        await self.cache.invalidate(self.cache.key("product", slug))

    async def forget(self, slug: str | None = None) -> None:
        """Drop cached entries after a committed change."""
        keys = [self.cache.key("categories")]
        if slug:
            keys.append(self.cache.key("product", slug))
        await self.cache.invalidate(*keys)
