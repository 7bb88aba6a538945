"""HTML pages: the shopper's journey and the admin page."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from myclothes.domain.catalog import SORTS, CatalogQuery
from myclothes.domain.customers import AddressFields
from myclothes.domain.errors import InvalidInput, NotFound, ShopError, StoreUnavailable
from myclothes.domain.garments import PALETTE, draw_garment
from myclothes.web.api.auth import end_session, start_session
from myclothes.web.deps import (
    cart_id_of,
    client_ip,
    require_admin,
    require_customer,
    session_of,
    shop_of,
    writable_cart_id,
)
from myclothes.web.errors import status_of
from myclothes.web.pages import icons
from myclothes.web.pages.picker import back_to_picker, picked_quantity, picked_sku, picker_for
from myclothes.web.pages.render import (
    confirm_added,
    form,
    page,
    redirect,
    safe_next,
    tell_problem,
    to_cents,
    to_int,
)

COLOURS_SHOWN = 16
SIZES = ("XS", "S", "M", "L", "XL", "XXL", "28", "30", "32", "34", "36")


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    newest = await shop_of(request).catalog.search(CatalogQuery(sort="newest", per_page=8))
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
async def products(request: Request[Any, Any, Any]) -> Template:
    params = {key: value for key, value in request.query_params.items() if isinstance(value, str)}
    try:
        query = _browse_query(params)
        result = await shop_of(request).catalog.search(query)
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
    request: Request[Any, Any, Any], slug: str, colour: str | None = None, size: str | None = None
) -> Template:
    item = await shop_of(request).catalog.product(slug)
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


@get("/cart", include_in_schema=False)
async def cart(request: Request[Any, Any, Any]) -> Template:
    view = await shop_of(request).carts.view(await cart_id_of(request))
    return await page(request, "cart.html", cart=view)


async def _cart_action(request: Request[Any, Any, Any], action: str) -> Response[Any]:
    data = await form(request)
    shop = shop_of(request)
    session = session_of(request)
    sku = data.get("sku", "")
    back = safe_next(data.get("next"), "/cart")
    try:
        if action == "add":
            sku = await picked_sku(shop.catalog, data)
            quantity = picked_quantity(data.get("quantity"))
            view = await shop.carts.add(await writable_cart_id(request), sku, quantity)
            confirm_added(session, view, sku, quantity)
            return redirect(back_to_picker(back, data))
        if action == "update":
            await shop.carts.set_quantity(
                await writable_cart_id(request), sku, to_int(data.get("quantity"), "quantity", 0) or 0
            )
            session.flash("Cart updated.")
        elif action == "remove" and (cart_id := await cart_id_of(request)):
            await shop.carts.remove(cart_id, sku)
            session.flash("Removed from your cart.")
    except StoreUnavailable:
        raise  # the friendly 503 page: nothing could be kept anyway
    except ShopError as problem:
        tell_problem(session, f"Could not update the cart: {problem.message}", problem.field)
        return redirect(back_to_picker(back, data) if action == "add" else back)
    return redirect("/cart")


@post("/cart/add", include_in_schema=False)
async def cart_add(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _cart_action(request, "add")


@post("/cart/update", include_in_schema=False)
async def cart_update(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _cart_action(request, "update")


@post("/cart/remove", include_in_schema=False)
async def cart_remove(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _cart_action(request, "remove")


@get("/account/register", include_in_schema=False)
async def register_form(request: Request[Any, Any, Any], next: str | None = None) -> Template:
    return await page(request, "register.html", values={}, next=safe_next(next, "/account"))


@post("/account/register", include_in_schema=False)
async def register(request: Request[Any, Any, Any]) -> Response[Any]:
    data = await form(request)
    target = safe_next(data.get("next"), "/account")
    try:
        customer = await shop_of(request).accounts.register(
            data.get("email", ""), data.get("password", ""), data.get("name", "")
        )
    except ShopError as problem:
        values = {"email": data.get("email", ""), "name": data.get("name", "")}
        return await page(
            request, "register.html", status_code=status_of(problem), error=str(problem), values=values, next=target
        )
    messages = await start_session(request, customer)
    session = session_of(request)
    session.flash(f"Welcome to MyClothes, {customer.name}!")
    for message in messages:
        session.flash(message)
    return redirect(target)


@get("/account/login", include_in_schema=False)
async def login_form(request: Request[Any, Any, Any], next: str | None = None) -> Template:
    return await page(request, "login.html", values={}, next=safe_next(next, "/account"))


@post("/account/login", include_in_schema=False)
async def login(request: Request[Any, Any, Any]) -> Response[Any]:
    data = await form(request)
    target = safe_next(data.get("next"), "/account")
    try:
        customer = await shop_of(request).accounts.login(
            data.get("email", ""), data.get("password", ""), client_ip(request)
        )
    except ShopError as problem:
        return await page(
            request,
            "login.html",
            status_code=status_of(problem),
            error=problem.message,
            values={"email": data.get("email", "")},
            next=target,
        )
    messages = await start_session(request, customer)
    session = session_of(request)
    session.flash(f"Welcome back, {customer.name}.")
    for message in messages:
        session.flash(message)
    return redirect(target)


@post("/account/logout", include_in_schema=False)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    await end_session(request)
    return redirect("/")


@get("/account", include_in_schema=False)
async def account(request: Request[Any, Any, Any]) -> Template:
    customer = await require_customer(request)
    shop = shop_of(request)
    addresses = await shop.accounts.addresses(customer.id)
    orders = await shop.checkout.orders(customer.id)
    return await page(request, "account.html", addresses=addresses, orders=orders[:5])


@get("/account/addresses", include_in_schema=False)
async def addresses(request: Request[Any, Any, Any]) -> Template:
    customer = await require_customer(request)
    found = await shop_of(request).accounts.addresses(customer.id)
    return await page(request, "addresses.html", addresses=found, values={}, next="/account/addresses")


def _address_fields(data: dict[str, str]) -> AddressFields:
    return AddressFields(
        full_name=data.get("full_name", ""),
        line1=data.get("line1", ""),
        line2=data.get("line2", ""),
        city=data.get("city", ""),
        postal_code=data.get("postal_code", ""),
        country=data.get("country", ""),
        phone=data.get("phone", ""),
        is_default=data.get("is_default") in {"on", "true", "1"},
    )


@post("/account/addresses", include_in_schema=False)
async def add_address(request: Request[Any, Any, Any]) -> Response[Any]:
    customer = await require_customer(request)
    data = await form(request)
    target = safe_next(data.get("next"), "/account/addresses")
    shop = shop_of(request)
    try:
        address = await shop.accounts.add_address(customer.id, _address_fields(data))
    except ShopError as problem:
        found = await shop.accounts.addresses(customer.id)
        return await page(
            request,
            "addresses.html",
            status_code=status_of(problem),
            error=str(problem),
            addresses=found,
            values=data,
            next=target,
        )
    session_of(request).flash("Address saved.")
    if target.startswith("/checkout"):
        target = f"/checkout?address_id={address.id}"
    return redirect(target)


@get("/account/addresses/{address_id:int}/edit", include_in_schema=False)
async def edit_address(request: Request[Any, Any, Any], address_id: int) -> Template:
    customer = await require_customer(request)
    address = await shop_of(request).accounts.address(customer.id, address_id)
    values = {field: getattr(address, field) for field in AddressFields.__slots__}  # type: ignore[attr-defined]
    return await page(request, "address_edit.html", address=address, values=values)


@post("/account/addresses/{address_id:int}", include_in_schema=False)
async def update_address(request: Request[Any, Any, Any], address_id: int) -> Response[Any]:
    customer = await require_customer(request)
    data = await form(request)
    shop = shop_of(request)
    try:
        await shop.accounts.update_address(customer.id, address_id, _address_fields(data))
    except ShopError as problem:
        if isinstance(problem, NotFound):
            raise
        address = await shop.accounts.address(customer.id, address_id)
        return await page(
            request,
            "address_edit.html",
            status_code=status_of(problem),
            error=str(problem),
            address=address,
            values=data,
        )
    session_of(request).flash("Address updated.")
    return redirect("/account/addresses")


@post("/account/addresses/{address_id:int}/delete", include_in_schema=False)
async def delete_address(request: Request[Any, Any, Any], address_id: int) -> Redirect:
    customer = await require_customer(request)
    await shop_of(request).accounts.delete_address(customer.id, address_id)
    session_of(request).flash("Address deleted.")
    return redirect("/account/addresses")


@get("/checkout", include_in_schema=False)
async def checkout_form(request: Request[Any, Any, Any], address_id: int | None = None) -> Response[Any]:
    customer = await require_customer(request)
    shop = shop_of(request)
    view = await shop.carts.view(await cart_id_of(request))
    if not view.items:
        session_of(request).flash("Your cart is empty: add something first.")
        return redirect("/cart")
    found = await shop.accounts.addresses(customer.id)
    chosen = address_id or next((a.id for a in found if a.is_default), None)
    return await page(
        request,
        "checkout.html",
        cart=view,
        addresses=found,
        chosen=chosen,
        token=secrets.token_urlsafe(24),
        values={},
    )


@post("/checkout", include_in_schema=False)
async def checkout(request: Request[Any, Any, Any]) -> Response[Any]:
    customer = await require_customer(request)
    data = await form(request)
    shop = shop_of(request)
    session = session_of(request)
    try:
        address_id = to_int(data.get("address_id"), "address_id")
        if address_id is None:
            raise InvalidInput("choose an address, or add one", field="address_id")
        order, _created = await shop.checkout.place_order(
            customer.id,
            await writable_cart_id(request),
            address_id,
            data.get("card_number", ""),
            data.get("card_expiry", ""),
            data.get("card_cvc", ""),
            data.get("token", ""),
        )
    except ShopError as problem:
        view = await shop.carts.view(session.cart_id)
        found = await shop.accounts.addresses(customer.id)
        return await page(
            request,
            "checkout.html",
            status_code=status_of(problem),
            error=str(problem),
            cart=view,
            addresses=found,
            chosen=to_int(data.get("address_id"), "address_id") if data.get("address_id", "").isdigit() else None,
            token=data.get("token") or secrets.token_urlsafe(24),
            values={"card_expiry": data.get("card_expiry", "")},
        )
    return redirect(f"/orders/{order.id}?placed=1")


@get("/orders", include_in_schema=False)
async def orders(request: Request[Any, Any, Any]) -> Template:
    customer = await require_customer(request)
    found = await shop_of(request).checkout.orders(customer.id)
    return await page(request, "orders.html", orders=found)


@get("/orders/{order_id:int}", include_in_schema=False)
async def order(request: Request[Any, Any, Any], order_id: int, placed: int = 0) -> Template:
    customer = await require_customer(request)
    found = await shop_of(request).checkout.order(customer.id, order_id)
    return await page(request, "order.html", order=found, placed=bool(placed))


@get("/admin/products", include_in_schema=False)
async def admin_products(request: Request[Any, Any, Any], q: str | None = None, page_number: int = 1) -> Template:
    await require_admin(request)
    shop = shop_of(request)
    query = CatalogQuery(q=(q or "").strip() or None, sort="newest", per_page=20, page=max(1, page_number))
    result = await shop.catalog.search(query)
    detailed = [await shop.catalog.product(card.slug) for card in result.items]
    return await page(request, "admin_products.html", result=result, products=detailed, q=q or "", values={})


@post("/admin/products", include_in_schema=False)
async def admin_create_product(request: Request[Any, Any, Any]) -> Response[Any]:
    await require_admin(request)
    data = await form(request)
    shop = shop_of(request)
    session = session_of(request)
    try:
        price = to_cents(data.get("price"), "price")
        slug = await shop.admin.create_product(
            data.get("category", ""),
            data.get("name", ""),
            data.get("description", ""),
            price or 0,
            [s.strip() for s in data.get("sizes", "").split(",") if s.strip()],
            [c.strip() for c in data.get("colours", "").split(",") if c.strip()],
            to_int(data.get("stock"), "stock", 0) or 0,
        )
    except ShopError as problem:
        session.flash(f"Product not created: {problem}")
        return redirect("/admin/products")
    session.flash(f"Created {slug}.")
    return redirect("/admin/products")


@post("/admin/variants/{sku:str}", include_in_schema=False)
async def admin_update_variant(request: Request[Any, Any, Any], sku: str) -> Response[Any]:
    await require_admin(request)
    data = await form(request)
    session = session_of(request)
    try:
        await shop_of(request).admin.update_variant(
            sku, to_cents(data.get("price"), "price"), to_int(data.get("stock"), "stock")
        )
    except ShopError as problem:
        session.flash(f"{sku} not changed: {problem}")
        return redirect(safe_next(data.get("next"), "/admin/products"))
    session.flash(f"{sku} updated.")
    return redirect(safe_next(data.get("next"), "/admin/products"))


handlers = [
    home,
    products,
    product,
    garment_image,
    cart,
    cart_add,
    cart_update,
    cart_remove,
    register_form,
    register,
    login_form,
    login,
    logout,
    account,
    addresses,
    add_address,
    edit_address,
    update_address,
    delete_address,
    checkout_form,
    checkout,
    orders,
    order,
    admin_products,
    admin_create_product,
    admin_update_variant,
    *icons.handlers,
]
