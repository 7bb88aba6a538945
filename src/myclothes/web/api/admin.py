"""Admin: create products, change prices and stock (admins only)."""

from __future__ import annotations

from litestar import Router, patch, post

from myclothes.domain.catalog import Product
from myclothes.services.admin import AdminService
from myclothes.services.catalog import CatalogService
from myclothes.web.api.schemas import KEY, NewProduct, ProductChange, VariantChange
from myclothes.web.contract import refusals
from myclothes.web.deps import admins_only


@post("/admin/products", tags=["admin"], status_code=201, responses=refusals(401, 403, unsafe=True, body=True))
async def create_product(data: NewProduct, admin: AdminService, catalog: CatalogService) -> Product:
    slug = await admin.create_product(
        data.category, data.name, data.description, data.price, data.sizes, data.colours, data.stock
    )
    return await catalog.product(slug)


@patch("/admin/products/{slug:str}", tags=["admin"], responses=refusals(401, 403, 404, unsafe=True, body=True))
async def update_product(data: ProductChange, admin: AdminService, catalog: CatalogService, slug: str = KEY) -> Product:
    await admin.update_product(slug, data.name, data.description)
    return await catalog.product(slug)


@patch("/admin/variants/{sku:str}", tags=["admin"], responses=refusals(401, 403, 404, unsafe=True, body=True))
async def update_variant(data: VariantChange, admin: AdminService, catalog: CatalogService, sku: str = KEY) -> Product:
    slug = await admin.update_variant(sku, data.price, data.stock)
    return await catalog.product(slug)


router = Router(path="/", guards=[admins_only], route_handlers=[create_product, update_product, update_variant])
handlers = [router]
