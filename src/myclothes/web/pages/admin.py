"""The admin's product page: find products, create one, change a variant's price or stock. Admins only."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.response import Template

from myclothes.domain.catalog import CatalogQuery
from myclothes.domain.errors import ShopError
from myclothes.services.admin import AdminService
from myclothes.services.catalog import CatalogService
from myclothes.services.sessions import ShopperSession
from myclothes.web.deps import admins_only
from myclothes.web.pages.render import form, page, redirect, safe_next, to_cents, to_int


@get("/admin/products", include_in_schema=False)
async def admin_products(
    request: Request[Any, Any, Any], catalog: CatalogService, q: str | None = None, page_number: int = 1
) -> Template:
    query = CatalogQuery(q=(q or "").strip() or None, sort="newest", per_page=20, page=max(1, page_number))
    result = await catalog.search(query)
    detailed = [await catalog.product(card.slug) for card in result.items]
    return await page(request, "admin_products.html", result=result, products=detailed, q=q or "", values={})


@post("/admin/products", include_in_schema=False)
async def admin_create_product(
    request: Request[Any, Any, Any], admin: AdminService, shopper: ShopperSession
) -> Response[Any]:
    data = await form(request)
    try:
        price = to_cents(data.get("price"), "price")
        slug = await admin.create_product(
            data.get("category", ""),
            data.get("name", ""),
            data.get("description", ""),
            price or 0,
            [s.strip() for s in data.get("sizes", "").split(",") if s.strip()],
            [c.strip() for c in data.get("colours", "").split(",") if c.strip()],
            to_int(data.get("stock"), "stock", 0) or 0,
        )
    except ShopError as problem:
        shopper.flash(f"Product not created: {problem}")
        return redirect("/admin/products")
    shopper.flash(f"Created {slug}.")
    return redirect("/admin/products")


@post("/admin/variants/{sku:str}", include_in_schema=False)
async def admin_update_variant(
    request: Request[Any, Any, Any], admin: AdminService, shopper: ShopperSession, sku: str
) -> Response[Any]:
    data = await form(request)
    try:
        await admin.update_variant(sku, to_cents(data.get("price"), "price"), to_int(data.get("stock"), "stock"))
    except ShopError as problem:
        shopper.flash(f"{sku} not changed: {problem}")
        return redirect(safe_next(data.get("next"), "/admin/products"))
    shopper.flash(f"{sku} updated.")
    return redirect(safe_next(data.get("next"), "/admin/products"))


router = Router(
    path="/", guards=[admins_only], route_handlers=[admin_products, admin_create_product, admin_update_variant]
)
handlers = [router]
