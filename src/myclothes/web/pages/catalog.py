"""The shop window: home, the product list with its filters, a product with its variant picker, garment images."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.response import Template

from myclothes.domain.catalog import SORTS, CatalogQuery
from myclothes.domain.errors import InvalidInput, NotFound
from myclothes.domain.garments import PALETTE, draw_garment
from myclothes.services.catalog import CatalogService
from myclothes.web.pages.picker import picker_for
from myclothes.web.pages.render import page, to_cents, to_int

COLOURS_SHOWN = 16
SIZES = ("XS", "S", "M", "L", "XL", "XXL", "28", "30", "32", "34", "36")


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], catalog: CatalogService) -> Template:
    newest = await catalog.search(CatalogQuery(sort="newest", per_page=8))
    return await page(request, "home.html", newest=newest.items)


def _browse_query(params: dict[str, str]) -> CatalogQuery:
    return CatalogQuery(
        category=params.get("category") or None,
        size=params.get("size") or None,
        colour=params.get("colour") or None,
        min_price=to_cents(params.get("min_price"), "min_price"),
        max_price=to_cents(params.get("max_price"), "max_price"),
        q=(params.get("q") or "").strip() or None,
        sort=params.get("sort") or "featured",
        page=to_int(params.get("page"), "page", 1) or 1,
        per_page=24,
    )


@get("/products", include_in_schema=False)
async def products(request: Request[Any, Any, Any], catalog: CatalogService) -> Template:
    params = {key: value for key, value in request.query_params.items() if isinstance(value, str)}
    try:
        query = _browse_query(params)
        result = await catalog.search(query)
        error = None
    except InvalidInput as problem:
        query, result, error = CatalogQuery(), None, str(problem)

    def page_url(number: int) -> str:
        return "/products?" + urlencode({**{k: v for k, v in params.items() if v}, "page": number})

    return await page(
        request,
        "products.html",
        status_code=400 if error else 200,
        error=error,
        params=params,
        query=query,
        result=result,
        sorts=SORTS,
        sizes=SIZES,
        colours=list(PALETTE)[:COLOURS_SHOWN],
        page_url=page_url,
    )


@get("/products/{slug:str}", include_in_schema=False)
async def product(
    request: Request[Any, Any, Any],
    catalog: CatalogService,
    slug: str,
    colour: str | None = None,
    size: str | None = None,
) -> Template:
    item = await catalog.product(slug)
    return await page(request, "product.html", product=item, picker=picker_for(item, colour, size))


@get("/images/{garment:str}/{colour:str}", include_in_schema=False, sync_to_thread=False)
def garment_image(garment: str, colour: str) -> Response[str]:
    """A garment drawn in a colour (``/images/hoodie/navy.svg``)."""
    name = colour.removesuffix(".svg")
    if len(name) > 30 or len(garment) > 20:
        raise NotFound("no such image")
    return Response(
        draw_garment(garment, name),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


handlers = [home, products, product, garment_image]
