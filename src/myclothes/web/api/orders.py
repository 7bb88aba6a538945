"""Checkout (idempotent with ``Idempotency-Key``) and order history."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, Router, get, post
from litestar.params import HeaderParameter

from myclothes.domain.customers import Customer
from myclothes.domain.text import NOT_SPACE
from myclothes.services.checkout import CheckoutService
from myclothes.services.shopper_cart import ShopperCart
from myclothes.web.api.schemas import CheckoutBody, order_json, trimmed
from myclothes.web.contract import refusals
from myclothes.web.deps import customers_only


@post("/checkout", tags=["orders"], responses=refusals(401, 402, 409, unsafe=True, body=True))
async def checkout(
    data: CheckoutBody,
    customer: Customer,
    orders: CheckoutService,
    cart: ShopperCart,
    idempotency_key: Annotated[
        str,
        HeaderParameter(
            name="Idempotency-Key",
            pattern=trimmed(rf"{NOT_SPACE}[^\x00]{{6,98}}{NOT_SPACE}"),
            description="8 to 100 characters (spaces around are ignored); a retry with the same key replays the order",
        ),
    ],
) -> Response[dict[str, Any]]:
    """Place the order for the cart. 201 with the order; a retry with the same key returns it with 200."""
    order, created = await orders.place_order(
        customer.id,
        await cart.writable_id(),
        data.address_id,
        data.card_number,
        data.card_expiry,
        data.card_cvc,
        idempotency_key,
    )
    return Response(order_json(order), status_code=201 if created else 200)


@get("/orders", tags=["orders"], responses=refusals(401))
async def list_orders(customer: Customer, orders: CheckoutService) -> list[dict[str, Any]]:
    return [order_json(o) for o in await orders.orders(customer.id)]


@get("/orders/{order_id:int}", tags=["orders"], responses=refusals(400, 401, 404))
async def get_order(customer: Customer, orders: CheckoutService, order_id: int) -> dict[str, Any]:
    return order_json(await orders.order(customer.id, order_id))


router = Router(path="/", guards=[customers_only], route_handlers=[checkout, list_orders, get_order])
handlers = [router]
