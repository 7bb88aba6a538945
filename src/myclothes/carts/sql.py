"""Carts in the relational database: durable, shared by every web process.

One row per cart line; adds and quantity changes are single conditional upserts (``quantity = quantity + n`` while
within the limit, a new line only while the cart has room), so concurrent adds never lose an update or pass the
quantity limit.
A guarded write (``SessionGuard``, from the sql session store's copy of the session) carries the session's condition
in the upsert's own: it writes only while the session row still holds exactly the text the request started from, so
the request needs no read of the session first (two statements: the upsert and the cart's lines).
Guest carts (``g:…``) outlive no session: a line added more than ``guest_max_age_s`` ago (the session's
absolute lifetime) belongs to a session that has expired, so each process deletes such lines once a minute in the
background, started by a write (``db/sweep.py``).
"""

from __future__ import annotations

import time
from typing import Any, NoReturn

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    Select,
    String,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from myclothes.carts.base import check_add, quantity_limit_message
from myclothes.db.direct import execute
from myclothes.db.engine import SqlDatabase
from myclothes.db.sweep import Sweep
from myclothes.db.tables import cart_lines, session_guard_holds
from myclothes.domain.cart import MAX_LINES, MAX_QUANTITY, CartLine, MergeChange, merge_lines, validate_quantity
from myclothes.domain.errors import Conflict
from myclothes.ports import SessionChanged, SessionGuard

SWEEP_EVERY_S = 60.0  # per process: how often abandoned guest carts are deleted (as sql sessions sweep expired ones)


class SqlCartStore:
    name = "sql"

    def __init__(self, database: SqlDatabase, guest_max_age_s: float = 30 * 24 * 3600) -> None:
        self.database = database
        self.guest_max_age_s = guest_max_age_s
        self.sweep = Sweep("abandoned guest carts", lambda: self.purge_abandoned(time.time()), SWEEP_EVERY_S)
        # Built once: SQLAlchemy's construction of these (the ``excluded`` alias, the subqueries) cost more than
        # SQLite's execution of them.
        self._add = _upsert(database, adding=True)
        self._set = _upsert(database, adding=False)
        self._add_guarded = _upsert(database, adding=True, guarded=True)
        self._set_guarded = _upsert(database, adding=False, guarded=True)

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
        # The primary (never a replica: a cart must show its own last write); on SQLite one of the reader threads,
        # never the writer connection (reads would queue behind writes).
        return await self.database.run_on_primary(lambda connection: _held(connection, cart_id), "read")

    async def add(self, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY) -> list[CartLine]:
        """One conditional upsert (the line-count and quantity limits in its conditions) returning the line's new
        quantity, then the cart's lines: two statements, each atomic on its own, so SQLite needs no transaction
        around them (``db/direct.py``). Concurrent adds still sum exactly and never pass a limit."""
        return await self._add_line(None, cart_id, sku, quantity, limit)

    async def add_guarded(
        self, guard: SessionGuard, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY
    ) -> list[CartLine]:
        return await self._add_line(guard, cart_id, sku, quantity, limit)

    async def _add_line(
        self, guard: SessionGuard | None, cart_id: str, sku: str, quantity: int, limit: int
    ) -> list[CartLine]:
        validate_quantity(quantity)
        limit = min(limit, MAX_QUANTITY)
        line = {**_line(cart_id, sku, quantity), "limit": limit, **_guard_params(guard)}
        upsert = self._add if guard is None else self._add_guarded

        def add(connection: Connection) -> list[CartLine]:
            if quantity > limit or _first(connection, upsert, line) is None:
                _refused(connection, line, sku, quantity, limit)
            return _held(connection, cart_id)

        lines = await self.database.run_on_primary(add, "statements")
        self.sweep.due()
        return lines

    async def set_quantity(self, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        return await self._set_line(None, cart_id, sku, quantity)

    async def set_quantity_guarded(self, guard: SessionGuard, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        return await self._set_line(guard, cart_id, sku, quantity)

    async def _set_line(self, guard: SessionGuard | None, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        validate_quantity(quantity, allow_zero=True)
        line = {**_line(cart_id, sku, quantity), **_guard_params(guard)}
        upsert = self._set if guard is None else self._set_guarded

        def set_quantity(connection: Connection) -> list[CartLine]:
            if quantity == 0:
                _check_guard(connection, line)
                connection.execute(delete(cart_lines).where(cart_lines.c.cart_id == cart_id, cart_lines.c.sku == sku))
            elif _first(connection, upsert, line) is None:
                _refused(connection, line, sku, quantity, MAX_QUANTITY)
            return _held(connection, cart_id)

        return await self.database.run_on_primary(set_quantity, "statements")

    async def remove(self, cart_id: str, sku: str) -> list[CartLine]:
        return await self.set_quantity(cart_id, sku, 0)

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
        return [CartLine(sku, quantity) for sku, quantity in await connection.execute(_LINES, {"cart_id": cart_id})]


# A cart's lines, oldest first (parameter: ``cart_id``).
_LINES: Select[str, int] = (
    select(cart_lines.c.sku, cart_lines.c.quantity)
    .where(cart_lines.c.cart_id == bindparam("cart_id", type_=String))
    .order_by(cart_lines.c.added_at, cart_lines.c.sku)
)


def _held(connection: Connection, cart_id: str) -> list[CartLine]:
    return [CartLine(sku, quantity) for sku, quantity in execute(connection, _LINES, {"cart_id": cart_id})]


def _first(connection: Connection, statement: Any, params: dict[str, object]) -> Any:
    return next(iter(execute(connection, statement, params)), None)


def _line(cart_id: str, sku: str, quantity: int) -> dict[str, object]:
    return {"cart_id": cart_id, "sku": sku, "quantity": quantity, "added_at": time.time()}


def _guard_params(guard: SessionGuard | None) -> dict[str, object]:
    if guard is None:
        return {}
    return {"session_key": guard.key, "session_text": guard.value.decode(), "now": time.time()}


def _check_guard(connection: Connection, params: dict[str, object]) -> None:
    """A guarded write whose session changed writes nothing: ``SessionChanged`` (no-op for an unguarded write)."""
    if "session_key" in params and not connection.execute(select(session_guard_holds), params).scalar():
        raise SessionChanged


def _upsert(database: SqlDatabase, adding: bool, guarded: bool = False) -> Any:
    """The line at ``:quantity`` (``adding``: ``:quantity`` more while that stays within ``:limit``), a new line only
    while the cart has room for it (``guarded``: and while the session is as the guard says); returns the line's
    quantity, no row when refused. Parameters: ``cart_id``, ``sku``, ``quantity``, ``added_at`` (and ``limit``;
    ``guarded``: ``session_key``, ``session_text``, ``now``)."""
    cart_id, sku = bindparam("cart_id", type_=String), bindparam("sku", type_=String)
    has_line = exists().where(cart_lines.c.cart_id == cart_id, cart_lines.c.sku == sku)
    line_count = select(func.count()).where(cart_lines.c.cart_id == cart_id).scalar_subquery()
    row = select(
        cast(cart_id, String), cast(sku, String), cast(bindparam("quantity", type_=Integer), Integer),
        cast(bindparam("added_at", type_=Float), Float),
    ).where(or_(has_line, line_count < MAX_LINES))  # fmt: skip
    if guarded:
        row = row.where(session_guard_holds)
    statement = database.upsert(cart_lines).from_select(["cart_id", "sku", "quantity", "added_at"], row)
    keys = [cart_lines.c.cart_id, cart_lines.c.sku]
    if adding:
        summed = cart_lines.c.quantity + statement.excluded.quantity
        limit = bindparam("limit", type_=Integer)
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={"quantity": summed}, where=summed <= limit
        )
    else:
        statement = statement.on_conflict_do_update(index_elements=keys, set_={"quantity": statement.excluded.quantity})
    return statement.returning(cart_lines.c.quantity)


def _refused(connection: Connection, params: dict[str, object], sku: str, quantity: int, limit: int) -> NoReturn:
    """Why the upsert changed nothing: the session changed (a guarded write), the cart is full, or the line would
    pass its limit."""
    _check_guard(connection, params)
    held = _held(connection, str(params["cart_id"]))
    existing = next((line.quantity for line in held if line.sku == sku), None)
    check_add(existing, len(held), quantity, limit)
    raise Conflict(quantity_limit_message(limit, limit), field="quantity")  # a concurrent add got there first
