"""Use cases against fakes: cart rules, checkout and admin changes with the events they publish, no database."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.unit.fakes import FakeDatabase

from myclothes.carts.memory import MemoryCartStore
from myclothes.db.repositories import WriteOnReader
from myclothes.domain.customers import Address
from myclothes.domain.errors import Conflict, InvalidInput, NotFound, PaymentDeclined
from myclothes.domain.events import Event, ProductChanged, StockSold
from myclothes.payments.luhn import LuhnTestGateway
from myclothes.services.admin import AdminService
from myclothes.services.cart import CartService
from myclothes.services.checkout import CheckoutService

CARD = ("4242424242424242", "12/30", "123")


class RecordedEvents:
    """The message bus, as a list of what was published."""

    def __init__(self) -> None:
        self.published: list[Event] = []

    async def publish(self, *events: Event) -> None:
        self.published.extend(events)


@pytest.fixture
def events() -> RecordedEvents:
    return RecordedEvents()


@pytest.fixture
def world(events: RecordedEvents) -> tuple[FakeDatabase, MemoryCartStore, CartService, CheckoutService]:
    database = FakeDatabase()
    database.catalog.put("TEE-M", price=1500, stock=3)
    database.catalog.put("CAP-M", price=900, stock=0, name="Cap", slug="cap")
    database.catalog.put("SOCK-M", price=500, stock=1, name="Sock", slug="sock")
    database.customers.addresses[(1, 7)] = Address(7, "Ada", "1 Main", "", "London", "N1", "GB", "", True)
    carts = MemoryCartStore()
    payments = LuhnTestGateway(today=lambda: dt.date(2026, 11, 25))
    checkout = CheckoutService(database, carts, payments, events)  # type: ignore[arg-type]
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


async def test_checkout_publishes_the_stock_it_sold_after_the_commit(world, events) -> None:  # type: ignore[no-untyped-def]
    _db, _carts, cart, checkout = world
    await cart.add("c:1", "TEE-M", 1)
    await cart.add("c:1", "SOCK-M", 1)
    await checkout.place_order(1, "c:1", 7, *CARD, "key-00000005")
    assert events.published == [StockSold("sock"), StockSold("tee")]


async def test_a_failed_checkout_rolls_back_the_stock_it_took_and_publishes_nothing(world, events) -> None:  # type: ignore[no-untyped-def]
    db, carts, _cart, checkout = world
    await carts.add("c:1", "TEE-M", 2)  # taken first...
    await carts.add("c:1", "SOCK-M", 2)  # ...then this one has too little stock: the whole order is refused
    with pytest.raises(Conflict, match="only 1 left"):
        await checkout.place_order(1, "c:1", 7, *CARD, "key-00000006")
    assert db.catalog.variants_by_sku["TEE-M"].variant.stock == 3 and db.rollbacks >= 1
    assert db.orders.orders == {} and events.published == []


async def test_a_reader_unit_refuses_writes() -> None:
    database = FakeDatabase()
    database.catalog.put("TEE-M", price=1500, stock=3)
    async with database.reader() as uow:
        with pytest.raises(WriteOnReader):
            await uow.catalog.take_stock("TEE-M", 1)
    assert database.catalog.variants_by_sku["TEE-M"].variant.stock == 3


async def test_an_admin_change_is_published_after_the_commit_and_an_unknown_sku_publishes_nothing(  # type: ignore[no-untyped-def]
    world, events
) -> None:
    db = world[0]
    admin = AdminService(db, events)
    assert await admin.update_variant("TEE-M", 1700, None) == "tee"
    assert events.published == [ProductChanged("tee")]
    assert db.catalog.variants_by_sku["TEE-M"].variant.price == 1700
    with pytest.raises(NotFound):
        await admin.update_variant("NOPE", 1700, None)
    assert events.published == [ProductChanged("tee")]


async def test_a_cart_view_serves_stale_prices_while_they_reload_and_drops_withdrawn_lines(world) -> None:  # type: ignore[no-untyped-def]
    database, _carts, _cart, _checkout = world
    now = [1000.0]
    cart = CartService(_carts, database, clock=lambda: now[0])
    await cart.add("c:1", "TEE-M", 1)
    await cart.add("c:1", "SOCK-M", 1)
    first = await cart.view("c:1")
    assert [(line.sku, line.unit_price) for line in first.items] == [("TEE-M", 1500), ("SOCK-M", 500)]
    assert (await cart.view("c:1")).items[0] is first.items[0]  # fresh and unchanged: the line priced last time
    database.catalog.put("TEE-M", price=1700, stock=3)
    del database.catalog.variants_by_sku["SOCK-M"]  # withdrawn
    now[0] += 2  # past the variants' second: stale, served while one task reloads them
    stale = await cart.view("c:1")
    assert [(line.sku, line.unit_price) for line in stale.items] == [("TEE-M", 1500), ("SOCK-M", 500)]
    assert cart._refresh is not None
    await cart._refresh
    reloaded = await cart.view("c:1")
    assert [(line.sku, line.unit_price) for line in reloaded.items] == [("TEE-M", 1700)]
    other = CartService(_carts, database, clock=lambda: now[0])  # another process: no variant cached yet
    assert [(line.sku, line.unit_price) for line in (await other.view("c:1")).items] == [("TEE-M", 1700)]
    assert other._refresh is None  # loaded at once, nothing left to reload
