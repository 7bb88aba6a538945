"""Browse the catalog."""

from __future__ import annotations

from litestar import get
from litestar.params import Parameter

from myclothes.domain.catalog import (
    PAGE_MAX,
    PER_PAGE_DEFAULT,
    PER_PAGE_MAX,
    PRICE_MAX,
    CatalogQuery,
    Category,
    Product,
    ProductPage,
    Sort,
)
from myclothes.domain.text import NO_NUL
from myclothes.services.catalog import CatalogService
from myclothes.web.api.schemas import KEY
from myclothes.web.contract import refusals

# gt=-1 rather than ge=0: Litestar leaves a zero bound out of the document.
PRICE = Parameter(gt=-1, le=PRICE_MAX, description="integer cents", default=None)
FILTER = Parameter(pattern=NO_NUL, default=None)


@get("/products", tags=["catalog"], responses=refusals(400))
async def list_products(
    catalog: CatalogService,
    category: str | None = FILTER,
    size: str | None = FILTER,
    colour: str | None = FILTER,
    min_price: int | None = PRICE,
    max_price: int | None = PRICE,
    q: str | None = Parameter(max_length=100, pattern=NO_NUL, default=None),
    sort: Sort = "featured",
    page: int = Parameter(ge=1, le=PAGE_MAX, default=1),
    per_page: int = Parameter(ge=1, le=PER_PAGE_MAX, default=PER_PAGE_DEFAULT),
) -> ProductPage:
    """Filter, search, sort and page the catalog (``min_price`` not above ``max_price``)."""
    query = CatalogQuery(
        category or None, size or None, colour or None, min_price, max_price, q or None, sort, page, per_page
    )
    return await catalog.search(query)


@get("/products/{slug:str}", tags=["catalog"], responses=refusals(404))
async def get_product(catalog: CatalogService, slug: str = KEY) -> Product:
    """One product with its variants (sku, size, colour, price, stock)."""
    return await catalog.product(slug)


@get("/categories", tags=["catalog"], responses=refusals())
async def list_categories(catalog: CatalogService) -> list[Category]:
    return await catalog.categories()


handlers = [list_products, get_product, list_categories]
