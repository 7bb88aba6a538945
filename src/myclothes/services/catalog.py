"""Browsing the catalog, read through the cache (cache-aside) from reader units.

What is cached, and for how long (``docs/data-tier.md``): product pages (``catalog_cache_ttl_s``, jittered) with
their stock badges kept apart for ``stock_ttl_s``; unknown products (negative entries, a few seconds); categories;
product lists (keyed by the query and the list generation, which every catalog change bumps). After a committed
change the entries are marked stale, and the next reader rebuilds them from the primary (``writer()``), so a
replica that has not replayed the change yet cannot put the old price back.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import cast

from myclothes.domain.catalog import CatalogQuery, Category, Product, ProductPage
from myclothes.domain.errors import NotFound
from myclothes.domain.events import ProductChanged, StockSold
from myclothes.ports import CatalogCache, Database, UnitOfWork

Unit = Callable[[], AbstractAsyncContextManager[UnitOfWork]]
MAYBE_PRODUCT = cast("type[Product | None]", Product | None)
WITH_STOCK_KEPT = 4096


class CatalogService:
    def __init__(self, database: Database, cache: CatalogCache, stock_ttl_s: float = 5.0) -> None:
        self.database = database
        self.cache = cache
        self.stock_ttl_s = stock_ttl_s
        # slug -> (cached product, cached stock, the product with that stock): rebuilt only when either changes
        self._with_stock: dict[str, tuple[Product, dict[str, int], Product]] = {}

    async def categories(self) -> list[Category]:
        """Every category with its product count."""

        def loader(unit: Unit) -> Callable[[], Awaitable[list[Category]]]:
            async def load() -> list[Category]:
                async with unit() as uow:
                    return await uow.catalog.categories()

            return load

        return await self.cache.get_or_load(
            self.cache.key("categories"),
            list[Category],
            loader(self.database.reader),
            fresh=loader(self.database.writer),
        )

    async def search(self, query: CatalogQuery) -> ProductPage:
        """One page of a filtered, sorted product list."""

        def loader(unit: Unit) -> Callable[[], Awaitable[ProductPage]]:
            async def load() -> ProductPage:
                async with unit() as uow:
                    return await uow.catalog.search(query)

            return load

        generation, changed_recently = await self.cache.generation("lists")
        unit = self.database.writer if changed_recently else self.database.reader
        return await self.cache.get_or_load(
            self.cache.key("list", generation, _query_key(query)), ProductPage, loader(unit)
        )

    async def product(self, slug: str) -> Product:
        """A product with its variants and their current (cached briefly) stock; ``NotFound`` if unknown."""
        stock_key = self.cache.key("stock", slug)

        def product_loader(unit: Unit) -> Callable[[], Awaitable[Product | None]]:
            async def load() -> Product | None:
                async with unit() as uow:
                    found = await uow.catalog.product(slug)
                if found is not None:  # the same query read the stock: prime the badge entry with it
                    await self.cache.put(stock_key, {v.sku: v.stock for v in found.variants}, self.stock_ttl_s)
                return found

            return load

        product = await self.cache.get_or_load(
            self.cache.key("product", slug),
            MAYBE_PRODUCT,
            product_loader(self.database.reader),
            fresh=product_loader(self.database.writer),
        )
        if product is None:
            raise NotFound(f"no product called {slug!r}", field="slug")
        skus = [variant.sku for variant in product.variants]

        def stock_loader(unit: Unit) -> Callable[[], Awaitable[dict[str, int]]]:
            async def load() -> dict[str, int]:
                async with unit() as uow:
                    found = await uow.catalog.variants(skus)
                return {sku: listing.variant.stock for sku, listing in found.items()}

            return load

        stock = await self.cache.get_or_load(
            stock_key,
            dict[str, int],
            stock_loader(self.database.reader),
            fresh=stock_loader(self.database.writer),
            ttl_s=self.stock_ttl_s,
        )
        kept = self._with_stock.get(slug)
        if kept is not None and kept[0] is product and kept[1] is stock:
            return kept[2]  # the same cached product and badges as the last request: the same answer
        variants = tuple(dataclasses.replace(v, stock=stock.get(v.sku, v.stock)) for v in product.variants)
        answer = dataclasses.replace(product, variants=variants)
        if len(self._with_stock) >= WITH_STOCK_KEPT:
            self._with_stock.clear()
        self._with_stock[slug] = (product, stock, answer)
        return answer

    async def on_stock_sold(self, event: StockSold) -> None:
        """A sale changed stock: drop the badge entry (it is short-lived anyway; checkout checks the database)."""
        await self.cache.invalidate(self.cache.key("stock", event.slug))

    async def on_product_changed(self, event: ProductChanged) -> None:
        """After a committed catalog change: rebuild what it touched from the primary, on every instance."""
        keys = [
            self.cache.key("categories"),
            self.cache.key("product", event.slug),
            self.cache.key("stock", event.slug),
        ]
        await self.cache.mark_stale(*keys)
        await self.cache.bump("lists")


def _query_key(query: CatalogQuery) -> str:
    fields = (
        query.category,
        query.size,
        query.colour,
        query.min_price,
        query.max_price,
        query.q,
        query.sort,
        query.page,
        query.per_page,
    )
    return hashlib.sha1(repr(fields).encode(), usedforsecurity=False).hexdigest()
