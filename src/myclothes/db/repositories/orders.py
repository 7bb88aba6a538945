"""Orders and their lines, snapshotted at checkout."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from myclothes.db.repositories.base import Repository, inserted_id, utcnow
from myclothes.db.tables import order_lines, orders
from myclothes.domain.errors import Conflict
from myclothes.domain.orders import Order, OrderLine


class SqlOrderRepository(Repository):
    async def by_idempotency_key(self, customer_id: int, key: str) -> Order | None:
        order_id = (
            await self.connection.execute(
                select(orders.c.id).where(orders.c.user_id == customer_id, orders.c.idempotency_key == key)
            )
        ).scalar_one_or_none()
        return await self.get(customer_id, order_id) if order_id is not None else None

    async def create(
        self, customer_id: int, key: str, lines: list[OrderLine], ship_to: dict[str, str], card_last4: str
    ) -> Order:
        connection = self._writing()
        try:
            async with connection.begin_nested():
                result = await connection.execute(
                    insert(orders).values(
                        user_id=customer_id,
                        idempotency_key=key,
                        status="placed",
                        total_cents=sum(line.line_total for line in lines),
                        card_last4=card_last4,
                        ship_to=ship_to,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            raise Conflict("this checkout was already submitted", field="idempotency_key") from None
        order_id = inserted_id(result)
        await connection.execute(
            insert(order_lines),
            [
                {
                    "order_id": order_id,
                    "sku": line.sku,
                    "name": line.name,
                    "size": line.size,
                    "colour": line.colour,
                    "unit_price_cents": line.unit_price,
                    "quantity": line.quantity,
                }
                for line in lines
            ],
        )
        order = await self.get(customer_id, order_id)
        assert order is not None
        return order

    async def history(self, customer_id: int) -> list[Order]:
        rows = (
            await self.connection.execute(
                select(orders)
                .where(orders.c.user_id == customer_id)
                .order_by(orders.c.created_at.desc(), orders.c.id.desc())
                .limit(200)
            )
        ).all()
        lines = await self._lines([row.id for row in rows])
        return [_order(row, lines.get(row.id, [])) for row in rows]

    async def get(self, customer_id: int, order_id: int) -> Order | None:
        row = (
            await self.connection.execute(
                select(orders).where(orders.c.user_id == customer_id, orders.c.id == order_id)
            )
        ).first()
        if row is None:
            return None
        lines = await self._lines([order_id])
        return _order(row, lines.get(order_id, []))

    async def _lines(self, order_ids: list[int]) -> dict[int, list[OrderLine]]:
        if not order_ids:
            return {}
        rows = await self.connection.execute(
            select(order_lines).where(order_lines.c.order_id.in_(order_ids)).order_by(order_lines.c.id)
        )
        result: dict[int, list[OrderLine]] = {}
        for row in rows:
            result.setdefault(row.order_id, []).append(
                OrderLine(row.sku, row.name, row.size, row.colour, row.unit_price_cents, row.quantity)
            )
        return result


def _order(row: Any, lines: list[OrderLine]) -> Order:
    return Order(
        id=row.id,
        status=row.status,
        created_at=row.created_at.isoformat(timespec="seconds"),
        total=row.total_cents,
        card_last4=row.card_last4,
        ship_to=dict(row.ship_to),
        lines=tuple(lines),
    )
