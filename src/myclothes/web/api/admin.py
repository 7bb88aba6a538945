"""Admin: create products, change prices and stock."""

from __future__ import annotations

from typing import Any

from litestar import Request, patch, post

from myclothes.domain.catalog import Product
from myclothes.web.api.schemas import NewProduct, ProductChange, VariantChange
from myclothes.web.deps import require_admin, shop_of


@post("/admin/products", tags=["admin"], status_code=201)
async def create_product(request: Request[Any, Any, Any], data: NewProduct) -> Product:
    await require_admin(request)
    shop = shop_of(request)
    slug = await shop.admin.create_product(
        data.category, data.name, data.description, data.price, data.sizes, data.colours, data.stock
    )
    return await shop.catalog.product(slug)


@patch("/admin/products/{slug:str}", tags=["admin"])
async def update_product(request: Request[Any, Any, Any], slug: str, data: ProductChange) -> Product:
    await require_admin(request)
    shop = shop_of(request)
    await shop.admin.update_product(slug, data.name, data.description)
    return await shop.catalog.product(slug)


@patch("/admin/variants/{sku:str}", tags=["admin"])
async def update_variant(request: Request[Any, Any, Any], sku: str, data: VariantChange) -> Product:
    await require_admin(request)
    shop = shop_of(request)
    slug = await shop.admin.update_variant(sku, data.price, data.stock)
    return await shop.catalog.product(slug)


handlers = [create_product, update_product, update_variant]
