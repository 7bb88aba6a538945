"""Checkout (idempotent with ``Idempotency-Key``) and order history."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import Parameter

from myclothes.domain.errors import InvalidInput
from myclothes.web.api.schemas import CheckoutBody, order_json
from myclothes.web.deps import require_customer, shop_of, writable_cart_id


@post("/checkout", tags=["orders"])
async def checkout(
    request: Request[Any, Any, Any],
    data: CheckoutBody,
    idempotency_key: str | None = Parameter(header="Idempotency-Key", default=None),
) -> Response[dict[str, Any]]:
    """Place the order for the cart. 201 with the order; a retry with the same key returns it with 200."""
    customer = await require_customer(request)
    if not idempotency_key:
        raise InvalidInput("send an Idempotency-Key header (8 to 100 characters)", field="Idempotency-Key")
    cart_id = await writable_cart_id(request)
    order, created = await shop_of(request).checkout.place_order(
        customer.id, cart_id, data.address_id, data.card_number, data.card_expiry, data.card_cvc, idempotency_key
    )
    return Response(order_json(order), status_code=201 if created else 200)


@get("/orders", tags=["orders"])
async def list_orders(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    customer = await require_customer(request)
    return [order_json(o) for o in await shop_of(request).checkout.orders(customer.id)]


@get("/orders/{order_id:int}", tags=["orders"])
async def get_order(request: Request[Any, Any, Any], order_id: int) -> dict[str, Any]:
    customer = await require_customer(request)
    return order_json(await shop_of(request).checkout.order(customer.id, order_id))


handlers = [checkout, list_orders, get_order]
