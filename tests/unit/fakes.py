"""In-memory fakes of the database ports, for service unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from myclothes.domain.catalog import Variant
from myclothes.domain.customers import Address
from myclothes.domain.errors import Conflict
from myclothes.domain.orders import Order, OrderLine


class FakeCatalog:
    def __init__(self) -> None:
        self.variants_by_sku: dict[str, tuple[Variant, str, str]] = {}

    def put(self, sku: str, price: int, stock: int, name: str = "Tee", slug: str = "tee") -> None:
        self.variants_by_sku[sku] = (Variant(sku, "M", "red", price, stock), name, slug)

    async def variants(self, skus: Sequence[str]) -> dict[str, tuple[Variant, str, str]]:
        return {sku: self.variants_by_sku[sku] for sku in skus if sku in self.variants_by_sku}

    async def take_stock(self, sku: str, quantity: int) -> bool:
        variant, name, slug = self.variants_by_sku[sku]
        if variant.stock < quantity:
            return False
        self.variants_by_sku[sku] = (
            Variant(sku, variant.size, variant.colour, variant.price, variant.stock - quantity),
            name,
            slug,
        )
        return True


class FakeCustomers:
    def __init__(self) -> None:
        self.addresses: dict[tuple[int, int], Address] = {}

    async def address(self, customer_id: int, address_id: int) -> Address | None:
        return self.addresses.get((customer_id, address_id))


class FakeOrders:
    def __init__(self) -> None:
        self.orders: dict[tuple[int, str], Order] = {}

    async def by_idempotency_key(self, customer_id: int, key: str) -> Order | None:
        return self.orders.get((customer_id, key))

    async def create(
        self, customer_id: int, key: str, lines: list[OrderLine], ship_to: dict[str, str], card_last4: str
    ) -> Order:
        if (customer_id, key) in self.orders:
            raise Conflict("duplicate", field="idempotency_key")
        order = Order(
            len(self.orders) + 1, "placed", "now", sum(x.line_total for x in lines), card_last4, ship_to, tuple(lines)
        )
        self.orders[(customer_id, key)] = order
        return order


@dataclass
class FakePosition:
    lsn: str | None


class FakeDatabase:
    """Reader and writer share the fakes; a failed writer block discards nothing (tests check that it raised)."""

    def __init__(self) -> None:
        self.catalog = FakeCatalog()
        self.customers = FakeCustomers()
        self.orders = FakeOrders()
        self.writes = 0

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Any]:
        yield self

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[Any]:
        self.writes += 1
        yield self

    has_replicas = False

    async def ping_primary(self) -> None:
        return None

    async def ping_replica(self) -> None:
        raise LookupError("no replicas")

    def track_session_lsn(self, lsn: str | None) -> FakePosition:
        return FakePosition(lsn)
