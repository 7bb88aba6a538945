"""Checkout: one idempotent transaction that takes stock atomically and snapshots the order."""

from __future__ import annotations

from myclothes.domain.customers import postal_fields
from myclothes.domain.errors import Conflict, InvalidInput
from myclothes.domain.events import StockSold
from myclothes.domain.orders import Order, OrderLine
from myclothes.domain.records import could_exist, found, look_for
from myclothes.ports import CartStore, Database, EventPublisher, PaymentGateway


class CheckoutService:
    def __init__(self, database: Database, carts: CartStore, payments: PaymentGateway, events: EventPublisher) -> None:
        self.database = database
        self.carts = carts
        self.payments = payments
        self.events = events

    async def place_order(
        self,
        customer_id: int,
        cart_id: str,
        address_id: int,
        card_number: str,
        card_expiry: str,
        card_cvc: str,
        idempotency_key: str,
    ) -> tuple[Order, bool]:
        """Place the order once per key; return it and whether this call created it."""
        key = (idempotency_key or "").strip()
        if not 8 <= len(key) <= 100:
            raise InvalidInput("must be 8 to 100 characters", field="idempotency_key")
        async with self.database.reader() as uow:  # a replay is caught again inside the writer below
            existing = await uow.orders.by_idempotency_key(customer_id, key)
        if existing is not None:
            return existing, False
        payment = await self.payments.authorize(card_number, card_expiry, card_cvc)
        cart = await self.carts.lines(cart_id)
        if not cart:
            raise Conflict("your cart is empty", field="cart")
        try:
            async with self.database.writer() as uow:
                if await uow.orders.by_idempotency_key(customer_id, key) is not None:
                    raise Conflict("this checkout was already submitted", field="idempotency_key")
                address = await uow.customers.address(customer_id, address_id) if could_exist(address_id) else None
                if address is None:
                    raise InvalidInput("choose one of your addresses", field="address_id")
                found = await uow.catalog.variants([line.sku for line in cart])
                lines = []
                slugs: set[str] = set()
                for line in cart:
                    if line.sku not in found:
                        raise Conflict(f"{line.sku} is no longer sold; remove it from your cart", field="cart")
                    variant, name, slug = found[line.sku]
                    if not await uow.catalog.take_stock(line.sku, line.quantity):
                        left = variant.stock
                        raise Conflict(
                            f"{name} ({variant.colour}, {variant.size}): only {left} left; "
                            "change the quantity in your cart",
                            field="cart",
                        )
                    lines.append(OrderLine(line.sku, name, variant.size, variant.colour, variant.price, line.quantity))
                    slugs.add(slug)
                ship_to = postal_fields(address)
                order = await uow.orders.create(customer_id, key, lines, ship_to, payment.last4)
        except Conflict as error:
            if error.field != "idempotency_key":
                raise
            async with self.database.writer() as uow:
                replay = await uow.orders.by_idempotency_key(customer_id, key)
            if replay is None:
                raise
            return replay, False
        await self.carts.clear(cart_id)
        await self.events.publish(*(StockSold(slug) for slug in sorted(slugs)))  # stock badges change with a sale
        return order, True

    async def orders(self, customer_id: int) -> list[Order]:
        async with self.database.reader() as uow:  # read-your-writes keeps the shopper's new orders visible
            return await uow.orders.history(customer_id)

    async def order(self, customer_id: int, order_id: int) -> Order:
        look_for(order_id, "order")
        async with self.database.reader() as uow:
            return found(await uow.orders.get(customer_id, order_id), "order")
