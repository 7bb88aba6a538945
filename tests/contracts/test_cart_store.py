"""The CartStore contract: a new backend passes this suite or it is not done."""

from __future__ import annotations

import asyncio

import pytest

from myclothes.domain.cart import MAX_LINES, CartLine
from myclothes.domain.errors import Conflict, InvalidInput
from myclothes.ports import CartStore


async def test_unknown_cart_is_empty(store: CartStore) -> None:
    assert await store.lines("nobody") == []


async def test_add_creates_a_line_and_sums_quantities(store: CartStore) -> None:
    assert await store.add("c1", "SKU-A", 2) == [CartLine("SKU-A", 2)]
    assert await store.add("c1", "SKU-A", 3) == [CartLine("SKU-A", 5)]
    assert await store.add("c1", "SKU-B", 1) == [CartLine("SKU-A", 5), CartLine("SKU-B", 1)]


async def test_carts_are_separate(store: CartStore) -> None:
    await store.add("c1", "SKU-A", 1)
    await store.add("c2", "SKU-B", 4)
    assert await store.lines("c1") == [CartLine("SKU-A", 1)]
    assert await store.lines("c2") == [CartLine("SKU-B", 4)]


async def test_set_quantity_replaces_and_zero_removes(store: CartStore) -> None:
    await store.add("c1", "SKU-A", 2)
    assert await store.set_quantity("c1", "SKU-A", 7) == [CartLine("SKU-A", 7)]
    assert await store.set_quantity("c1", "SKU-B", 1) == [CartLine("SKU-A", 7), CartLine("SKU-B", 1)]
    assert await store.set_quantity("c1", "SKU-A", 0) == [CartLine("SKU-B", 1)]


async def test_remove_and_clear(store: CartStore) -> None:
    await store.add("c1", "SKU-A", 1)
    await store.add("c1", "SKU-B", 1)
    assert await store.remove("c1", "SKU-A") == [CartLine("SKU-B", 1)]
    assert await store.remove("c1", "SKU-NOT-THERE") == [CartLine("SKU-B", 1)]
    await store.clear("c1")
    assert await store.lines("c1") == []


@pytest.mark.parametrize("quantity", [0, -1, 100])
async def test_quantities_outside_1_to_99_are_refused(store: CartStore, quantity: int) -> None:
    with pytest.raises(InvalidInput):
        await store.add("c1", "SKU-A", quantity)
    assert await store.lines("c1") == []


async def test_a_line_never_exceeds_99_and_stays_as_it_was(store: CartStore) -> None:
    await store.add("c1", "SKU-A", 60)
    with pytest.raises(Conflict):
        await store.add("c1", "SKU-A", 40)
    assert await store.lines("c1") == [CartLine("SKU-A", 60)]
    assert await store.add("c1", "SKU-A", 39) == [CartLine("SKU-A", 99)]


async def test_line_count_is_limited(store: CartStore) -> None:
    for index in range(MAX_LINES):
        await store.add("c1", f"SKU-{index}", 1)
    with pytest.raises(Conflict):
        await store.add("c1", "SKU-ONE-TOO-MANY", 1)
    assert len(await store.lines("c1")) == MAX_LINES
    await store.add("c1", "SKU-0", 1)  # an existing line can still grow


async def test_merge_sums_caps_and_empties_the_source(store: CartStore) -> None:
    await store.add("guest", "SKU-A", 3)
    await store.add("guest", "SKU-B", 60)
    await store.add("guest", "SKU-C", 1)
    await store.add("account", "SKU-A", 2)
    await store.add("account", "SKU-B", 50)
    changes = await store.merge("guest", "account")
    assert {(c.sku, c.added, c.quantity, c.capped) for c in changes} == {
        ("SKU-A", 3, 5, False),
        ("SKU-B", 49, 99, True),
        ("SKU-C", 1, 1, False),
    }
    assert sorted(await store.lines("account"), key=lambda line: line.sku) == [
        CartLine("SKU-A", 5),
        CartLine("SKU-B", 99),
        CartLine("SKU-C", 1),
    ]
    assert await store.lines("guest") == []


async def test_merging_an_empty_cart_changes_nothing(store: CartStore) -> None:
    await store.add("account", "SKU-A", 2)
    assert await store.merge("guest", "account") == []
    assert await store.lines("account") == [CartLine("SKU-A", 2)]


async def test_fifty_concurrent_adds_of_one_sku_sum_exactly(store: CartStore) -> None:
    await asyncio.gather(*(store.add("c1", "SKU-HOT", 1) for _ in range(50)))
    assert await store.lines("c1") == [CartLine("SKU-HOT", 50)]


async def test_ping_answers(store: CartStore) -> None:
    assert await store.ping() is True


async def test_a_lower_limit_such_as_the_stock_is_enforced_atomically(store: CartStore) -> None:
    await store.add("c1", "SKU-A", 2, limit=3)
    with pytest.raises(Conflict):
        await store.add("c1", "SKU-A", 2, limit=3)
    assert await store.lines("c1") == [CartLine("SKU-A", 2)]
    results = await asyncio.gather(
        *(store.add("c2", "SKU-LAST", 1, limit=5) for _ in range(20)), return_exceptions=True
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 5
    assert await store.lines("c2") == [CartLine("SKU-LAST", 5)]
