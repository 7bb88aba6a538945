"""Checkout and the order history. Customers only."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.response import Template

from myclothes.domain.customers import Customer
from myclothes.domain.errors import InvalidInput, ShopError
from myclothes.services.accounts import AccountService
from myclothes.services.checkout import CheckoutService
from myclothes.services.shopper_cart import ShopperCart
from myclothes.web.deps import customers_only
from myclothes.web.pages.render import form, form_error, page, redirect, to_int


@get("/checkout", include_in_schema=False)
async def checkout_form(
    request: Request[Any, Any, Any],
    customer: Customer,
    accounts: AccountService,
    cart: ShopperCart,
    address_id: int | None = None,
) -> Response[Any]:
    view = await cart.view()
    if not view.items:
        cart.shopper.flash("Your cart is empty: add something first.")
        return redirect("/cart")
    found = await accounts.addresses(customer.id)
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
async def checkout(
    request: Request[Any, Any, Any],
    customer: Customer,
    accounts: AccountService,
    orders: CheckoutService,
    cart: ShopperCart,
) -> Response[Any]:
    data = await form(request)
    try:
        address_id = to_int(data.get("address_id"), "address_id")
        if address_id is None:
            raise InvalidInput("choose an address, or add one", field="address_id")
        order, _created = await orders.place_order(
            customer.id,
            await cart.writable_id(),
            address_id,
            data.get("card_number", ""),
            data.get("card_expiry", ""),
            data.get("card_cvc", ""),
            data.get("token", ""),
        )
    except ShopError as problem:
        return await form_error(
            request,
            "checkout.html",
            problem,
            cart=await cart.view(),
            addresses=await accounts.addresses(customer.id),
            chosen=to_int(data.get("address_id"), "address_id") if data.get("address_id", "").isdigit() else None,
            token=data.get("token") or secrets.token_urlsafe(24),
            values={"card_expiry": data.get("card_expiry", "")},
        )
    return redirect(f"/orders/{order.id}?placed=1")


@get("/orders", include_in_schema=False)
async def order_history(request: Request[Any, Any, Any], customer: Customer, orders: CheckoutService) -> Template:
    return await page(request, "orders.html", orders=await orders.orders(customer.id))


@get("/orders/{order_id:int}", include_in_schema=False)
async def order(
    request: Request[Any, Any, Any], customer: Customer, orders: CheckoutService, order_id: int, placed: int = 0
) -> Template:
    found = await orders.order(customer.id, order_id)
    return await page(request, "order.html", order=found, placed=bool(placed))


router = Router(path="/", guards=[customers_only], route_handlers=[checkout_form, checkout, order_history, order])
handlers = [router]
