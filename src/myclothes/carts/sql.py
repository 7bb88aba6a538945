"""Carts in the relational database: durable, shared by every web process.

One row per cart line; adds are single upserts (``quantity = quantity + n``) so concurrent adds never lose
an update. Guest carts (``g:…``) outlive no session: a line added more than ``guest_max_age_s`` ago (the session's
absolute lifetime) belongs to a session that has expired, so writers now and then delete such lines.
"""

from __future__ import annotations

import random
import time

from sqlalchemy import Connection, Select, case, delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from myclothes.carts.base import check_add, quantity_limit_message
from myclothes.db.engine import SqlDatabase
from myclothes.db.tables import cart_lines
from myclothes.domain.cart import MAX_QUANTITY, CartLine, MergeChange, merge_lines, validate_quantity
from myclothes.domain.errors import Conflict

PURGE_CHANCE = 0.01  # of adds that also sweep abandoned guest carts (as sql sessions sweep expired sessions)


class SqlCartStore:
    name = "sql"

    def __init__(self, database: SqlDatabase, guest_max_age_s: float = 30 * 24 * 3600) -> None:
        self.database = database
        self.guest_max_age_s = guest_max_age_s

    async def purge_abandoned(self, now: float) -> int:
        """Delete the lines of guest carts whose session has certainly expired; how many were deleted."""
        async with self.database.primary_transaction() as connection:
            result = await connection.execute(
                delete(cart_lines).where(
                    cart_lines.c.cart_id.startswith("g:", autoescape=True),
                    cart_lines.c.added_at < now - self.guest_max_age_s,
                )
            )
        return int(result.rowcount or 0)

    async def lines(self, cart_id: str) -> list[CartLine]:
        # The primary's read pool: never a replica (a cart must show its own last write), never the single
        # SQLite writer connection (reads would queue behind writes).
        async with self.database.primary_connection() as connection:
            return await self._lines(connection, cart_id)

    async def add(self, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY) -> list[CartLine]:
        """One transaction of two statements: the cart's lines (the checks: line count, quantity limit), then one
        conditional upsert returning the line's new quantity; the answer is built from both. On SQLite the whole
        transaction runs in the database's writer thread (one thread hop, ``db/direct.py``)."""
        limit = min(limit, MAX_QUANTITY)

        def add(connection: Connection) -> list[CartLine]:
            held = _held(connection, cart_id)
            existing = next((line.quantity for line in held if line.sku == sku), None)
            check_add(existing, len(held), quantity, limit)
            statement = self.database.upsert(cart_lines).values(
                cart_id=cart_id, sku=sku, quantity=quantity, added_at=time.time()
            )
            statement = statement.on_conflict_do_update(
                index_elements=[cart_lines.c.cart_id, cart_lines.c.sku],
                set_={"quantity": cart_lines.c.quantity + statement.excluded.quantity},
                where=cart_lines.c.quantity + statement.excluded.quantity <= limit,
            ).returning(cart_lines.c.quantity)
            now_held = connection.execute(statement).scalar_one_or_none()
            if now_held is None:  # a concurrent add got there first
                raise Conflict(quantity_limit_message(limit, limit), field="quantity")
            return _with(held, sku, now_held)

        lines = await self.database.in_transaction(add)
        if random.random() < PURGE_CHANCE:
            await self.purge_abandoned(time.time())
        return lines

    async def set_quantity(self, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        validate_quantity(quantity, allow_zero=True)
        if quantity == 0:
            return await self.remove(cart_id, sku)

        def set_quantity(connection: Connection) -> list[CartLine]:
            held = _held(connection, cart_id)
            if all(line.sku != sku for line in held):
                check_add(None, len(held), quantity)
            statement = self.database.upsert(cart_lines).values(
                cart_id=cart_id, sku=sku, quantity=quantity, added_at=time.time()
            )
            statement = statement.on_conflict_do_update(
                index_elements=[cart_lines.c.cart_id, cart_lines.c.sku], set_={"quantity": quantity}
            )
            connection.execute(statement)
            return _with(held, sku, quantity)

        return await self.database.in_transaction(set_quantity)

    async def remove(self, cart_id: str, sku: str) -> list[CartLine]:
        async with self.database.primary_transaction() as connection:
            await connection.execute(delete(cart_lines).where(cart_lines.c.cart_id == cart_id, cart_lines.c.sku == sku))
            return await self._lines(connection, cart_id)

    async def clear(self, cart_id: str) -> None:
        async with self.database.primary_transaction() as connection:
            await connection.execute(delete(cart_lines).where(cart_lines.c.cart_id == cart_id))

    async def merge(self, source_id: str, target_id: str) -> list[MergeChange]:
        async with self.database.primary_transaction() as connection:
            source = await self._lines(connection, source_id)
            if not source:
                return []
            target = await self._lines(connection, target_id)
            _, changes = merge_lines(source, target)
            for line in source:
                statement = self.database.upsert(cart_lines).values(
                    cart_id=target_id, sku=line.sku, quantity=line.quantity, added_at=time.time()
                )
                summed = cart_lines.c.quantity + statement.excluded.quantity
                statement = statement.on_conflict_do_update(
                    index_elements=[cart_lines.c.cart_id, cart_lines.c.sku],
                    set_={"quantity": case((summed > MAX_QUANTITY, MAX_QUANTITY), else_=summed)},
                )
                await connection.execute(statement)
            await connection.execute(delete(cart_lines).where(cart_lines.c.cart_id == source_id))
            return changes

    async def ping(self) -> bool:
        async with self.database.primary_connection() as connection:
            return (await connection.execute(text("SELECT 1"))).scalar_one() == 1

    @staticmethod
    async def _lines(connection: AsyncConnection, cart_id: str) -> list[CartLine]:
        return [CartLine(sku, quantity) for sku, quantity in await connection.execute(_lines_of(cart_id))]


def _lines_of(cart_id: str) -> Select[str, int]:
    """A cart's lines, oldest first."""
    return (
        select(cart_lines.c.sku, cart_lines.c.quantity)
        .where(cart_lines.c.cart_id == cart_id)
        .order_by(cart_lines.c.added_at, cart_lines.c.sku)
    )


def _held(connection: Connection, cart_id: str) -> list[CartLine]:
    return [CartLine(sku, quantity) for sku, quantity in connection.execute(_lines_of(cart_id))]


def _with(held: list[CartLine], sku: str, quantity: int) -> list[CartLine]:
    """The cart ``held`` (in its order) with ``sku`` now at ``quantity``: a new line goes last (it was added last)."""
    lines = [CartLine(line.sku, quantity) if line.sku == sku else line for line in held]
    if all(line.sku != sku for line in held):
        lines.append(CartLine(sku, quantity))
    return lines
