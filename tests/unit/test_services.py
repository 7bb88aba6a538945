"""Use cases against fakes: cart rules and checkout, with no database."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.unit.fakes import FakeDatabase

from myclothes.cache.aside import CacheAside
from myclothes.cache.memory import NullCache
from myclothes.carts.memory import MemoryCartStore
from myclothes.domain.customers import Address
from myclothes.domain.errors import Conflict, InvalidInput, PaymentDeclined
from myclothes.services.cart import CartService
from myclothes.services.catalog import CatalogService
from myclothes.services.checkout import CheckoutService

CARD = ("4242424242424242", "12/30", "123")


@pytest.fixture
def world() -> tuple[FakeDatabase, MemoryCartStore, CartService, CheckoutService]:
    database = FakeDatabase()
    database.catalog.put("TEE-M", price=1500, stock=3)
    database.catalog.put("CAP-M", price=900, stock=0, name="Cap", slug="cap")
    database.customers.addresses[(1, 7)] = Address(7, "Ada", "1 Main", "", "London", "N1", "GB", "", True)
    carts = MemoryCartStore()
    catalog = CatalogService(database, CacheAside(NullCache(), 1))  # type: ignore[arg-type]
    checkout = CheckoutService(database, carts, catalog, today=lambda: dt.date(2026, 11, 25))  # type: ignore[arg-type]
    return database, carts, CartService(carts, database), checkout  # type: ignore[arg-type]


async def test_cart_prices_lines_from_the_catalog(world) -> None:  # type: ignore[no-untyped-def]
    _db, _carts, cart, _checkout = world
    view = await cart.add("c:1", "TEE-M", 2)
    assert (view.count, view.total, view.items[0].name) == (2, 3000, "Tee")


async def test_cart_refuses_unknown_sold_out_and_more_than_stock(world) -> None:  # type: ignore[no-untyped-def]
    _db, _carts, cart, _checkout = world
    with pytest.raises(InvalidInput):
        await cart.add("c:1", "NOPE", 1)
    with pytest.raises(Conflict, match="sold out"):
        await cart.add("c:1", "CAP-M", 1)
    with pytest.raises(Conflict, match="only 3 left"):
        await cart.add("c:1", "TEE-M", 4)


async def test_checkout_takes_stock_and_clears_the_cart(world) -> None:  # type: ignore[no-untyped-def]
    db, carts, cart, checkout = world
    await cart.add("c:1", "TEE-M", 2)
    order, created = await checkout.place_order(1, "c:1", 7, *CARD, "key-00000001")
    assert created and order.total == 3000 and order.ship_to["city"] == "London"
    assert db.catalog.variants_by_sku["TEE-M"][0].stock == 1
    assert await carts.lines("c:1") == []


async def test_checkout_is_idempotent_per_key(world) -> None:  # type: ignore[no-untyped-def]
    db, _carts, cart, checkout = world
    await cart.add("c:1", "TEE-M", 1)
    first, created = await checkout.place_order(1, "c:1", 7, *CARD, "key-00000001")
    again, created_again = await checkout.place_order(1, "c:1", 7, *CARD, "key-00000001")
    assert created and not created_again and first == again
    assert db.catalog.variants_by_sku["TEE-M"][0].stock == 2


async def test_declined_card_places_nothing(world) -> None:  # type: ignore[no-untyped-def]
    db, carts, cart, checkout = world
    await cart.add("c:1", "TEE-M", 1)
    with pytest.raises(PaymentDeclined):
        await checkout.place_order(1, "c:1", 7, "4000000000000002", "12/30", "123", "key-00000002")
    assert db.orders.orders == {} and len(await carts.lines("c:1")) == 1


async def test_not_enough_stock_is_a_conflict(world) -> None:  # type: ignore[no-untyped-def]
    _db, carts, _cart, checkout = world
    await carts.add("c:1", "TEE-M", 5)  # straight into the store: stock changed after it was added
    with pytest.raises(Conflict, match="only 3 left"):
        await checkout.place_order(1, "c:1", 7, *CARD, "key-00000003")


async def test_someone_elses_address_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    _db, _carts, cart, checkout = world
    await cart.add("c:2", "TEE-M", 1)
    with pytest.raises(InvalidInput, match="address_id"):
        await checkout.place_order(2, "c:2", 7, *CARD, "key-00000004")


async def test_short_idempotency_keys_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    _db, _carts, cart, checkout = world
    await cart.add("c:1", "TEE-M", 1)
    with pytest.raises(InvalidInput, match="idempotency_key"):
        await checkout.place_order(1, "c:1", 7, *CARD, "short")
