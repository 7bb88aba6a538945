"""Browse the catalog."""

from __future__ import annotations

from litestar import get
from litestar.params import Parameter

from myclothes.domain.catalog import CatalogQuery, Category, Product, ProductPage
from myclothes.services.catalog import CatalogService


@get("/products", tags=["catalog"])
async def list_products(
    catalog: CatalogService,
    category: str | None = None,
    size: str | None = None,
    colour: str | None = None,
    min_price: int | None = None,
    max_price: int | None = None,
    q: str | None = None,
    sort: str = "featured",
    page: int = 1,
    per_page: int = Parameter(default=24),
) -> ProductPage:
    """Filter, search, sort and page the catalog."""
    query = CatalogQuery(
        category or None, size or None, colour or None, min_price, max_price, q or None, sort, page, per_page
    )
    return await catalog.search(query)


@get("/products/{slug:str}", tags=["catalog"])
async def get_product(catalog: CatalogService, slug: str) -> Product:
    """One product with its variants (sku, size, colour, price, stock)."""
    return await catalog.product(slug)


@get("/categories", tags=["catalog"])
async def list_categories(catalog: CatalogService) -> list[Category]:
    return await catalog.categories()


handlers = [list_products, get_product, list_categories]
