"""In-memory fakes of the database ports, for service unit tests.

Like the real database, a writer unit works on its own copy of the data: it commits when the block ends and
rolls back (keeps nothing) when it raises, and a reader unit refuses writes. So a use case that relies on a
rollback, or writes through a reader, fails here as it would on PostgreSQL.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Self

from myclothes.db.repositories import WriteOnReader
from myclothes.domain.catalog import Variant, VariantListing
from myclothes.domain.customers import Address
from myclothes.domain.errors import Conflict
from myclothes.domain.orders import Order, OrderLine


class FakeRepository:
    read_only = False

    def _writing(self) -> None:
        if self.read_only:
            raise WriteOnReader(f"{type(self).__name__}: write attempted through a reader unit")

    def view(self, read_only: bool) -> Self:
        """A copy to work on: a writer's own (deep) copy, or a read-only view of the committed data."""
        found = copy.deepcopy(self) if not read_only else copy.copy(self)
        found.read_only = read_only
        return found


class FakeCatalog(FakeRepository):
    def __init__(self) -> None:
        self.variants_by_sku: dict[str, VariantListing] = {}

    def put(self, sku: str, price: int, stock: int, name: str = "Tee", slug: str = "tee") -> None:
        self.variants_by_sku[sku] = VariantListing(Variant(sku, "M", "red", price, stock), name, slug)

    async def variants(self, skus: Sequence[str]) -> dict[str, VariantListing]:
        return {sku: self.variants_by_sku[sku] for sku in skus if sku in self.variants_by_sku}

    async def take_stock(self, sku: str, quantity: int) -> bool:
        self._writing()
        variant, name, slug = self.variants_by_sku[sku]
        if variant.stock < quantity:
            return False
        left = Variant(sku, variant.size, variant.colour, variant.price, variant.stock - quantity)
        self.variants_by_sku[sku] = VariantListing(left, name, slug)
        return True

    async def update_variant(self, sku: str, price: int | None, stock: int | None) -> str | None:
        self._writing()
        if sku not in self.variants_by_sku:
            return None
        variant, name, slug = self.variants_by_sku[sku]
        changed = Variant(
            sku,
            variant.size,
            variant.colour,
            variant.price if price is None else price,
            variant.stock if stock is None else stock,
        )
        self.variants_by_sku[sku] = VariantListing(changed, name, slug)
        return slug


class FakeCustomers(FakeRepository):
    def __init__(self) -> None:
        self.addresses: dict[tuple[int, int], Address] = {}

    async def address(self, customer_id: int, address_id: int) -> Address | None:
        return self.addresses.get((customer_id, address_id))


class FakeOrders(FakeRepository):
    def __init__(self) -> None:
        self.orders: dict[tuple[int, str], Order] = {}

    async def by_idempotency_key(self, customer_id: int, key: str) -> Order | None:
        return self.orders.get((customer_id, key))

    async def create(
        self, customer_id: int, key: str, lines: list[OrderLine], ship_to: dict[str, str], card_last4: str
    ) -> Order:
        self._writing()
        if (customer_id, key) in self.orders:
            raise Conflict("duplicate", field="idempotency_key")
        order = Order(
            len(self.orders) + 1, "placed", "now", sum(x.line_total for x in lines), card_last4, ship_to, tuple(lines)
        )
        self.orders[(customer_id, key)] = order
        return order


@dataclass
class FakeUnit:
    catalog: FakeCatalog
    customers: FakeCustomers
    orders: FakeOrders


@dataclass
class FakePosition:
    lsn: str | None


class FakeDatabase:
    """The committed data is ``catalog``, ``customers`` and ``orders``; units work as described above."""

    def __init__(self) -> None:
        self.catalog = FakeCatalog()
        self.customers = FakeCustomers()
        self.orders = FakeOrders()
        self.writes = 0
        self.rollbacks = 0

    def _unit(self, read_only: bool) -> FakeUnit:
        return FakeUnit(
            self.catalog.view(read_only),
            self.customers.view(read_only),
            self.orders.view(read_only),
        )

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[FakeUnit]:
        yield self._unit(read_only=True)

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[FakeUnit]:
        self.writes += 1
        unit = self._unit(read_only=False)
        try:
            yield unit
        except BaseException:
            self.rollbacks += 1
            raise
        self.catalog.variants_by_sku = unit.catalog.variants_by_sku
        self.customers.addresses = unit.customers.addresses
        self.orders.orders = unit.orders.orders

    has_replicas = False

    async def ping_primary(self) -> None:
        return None

    async def ping_replica(self) -> None:
        raise LookupError("no replicas")

    def track_session_lsn(self, lsn: str | None) -> FakePosition:
        return FakePosition(lsn)

    async def dispose(self) -> None:
        return None


class ManualClock:
    """A clock that moves only when a test moves it (``clock.now += 60``)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
