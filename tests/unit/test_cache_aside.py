"""CacheAside over the in-process cache: single-flight, negative entries, stale markers, generations."""

from __future__ import annotations

import asyncio

from myclothes.cache.aside import CacheAside
from myclothes.cache.memory import MemoryCache
from myclothes.db.consistency import SessionPosition, lsn_to_int


async def test_concurrent_misses_of_one_key_share_one_load() -> None:
    aside = CacheAside(MemoryCache(), ttl_s=30)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return 42

    values = await asyncio.gather(*(aside.get_or_load(aside.key("k"), int, load) for _ in range(100)))
    assert values == [42] * 100 and loads == 1


async def test_unknown_things_are_cached_briefly_as_negative_entries() -> None:
    aside = CacheAside(MemoryCache(), ttl_s=30, negative_ttl_s=0.05)
    loads = 0

    async def load() -> int | None:
        nonlocal loads
        loads += 1
        return None

    for _ in range(10):
        assert await aside.get_or_load(aside.key("gone"), int | None, load) is None  # type: ignore[arg-type]
    assert loads == 1
    await asyncio.sleep(0.08)
    await aside.get_or_load(aside.key("gone"), int | None, load)  # type: ignore[arg-type]
    assert loads == 2


async def test_after_a_change_the_entry_is_rebuilt_fresh_and_a_racing_stale_fill_cannot_win() -> None:
    cache = MemoryCache()
    aside = CacheAside(cache, ttl_s=30)
    key = aside.key("product", "tee")

    async def replica() -> int:
        return 100  # a replica that has not replayed the change

    async def primary() -> int:
        return 200

    assert await aside.get_or_load(key, int, replica, fresh=primary) == 100
    await aside.mark_stale(key)
    await aside.put(key, 100, 30)  # a fill that started before the change lands after it: ignored
    assert await aside.get_or_load(key, int, replica, fresh=primary) == 200
    assert await aside.get_or_load(key, int, replica, fresh=primary) == 200


async def test_bumping_a_generation_abandons_its_keys_and_reports_the_change_as_recent() -> None:
    aside = CacheAside(MemoryCache(), ttl_s=30)
    first, recent = await aside.generation("lists")
    assert not recent and (await aside.generation("lists"))[0] == first
    await aside.bump("lists")
    second, recent = await aside.generation("lists")
    assert second != first and recent


def test_session_position_only_moves_forward() -> None:
    position = SessionPosition()
    position.advance("0/3000100")
    position.advance("0/2000000")
    assert position.lsn == "0/3000100"
    position.advance("1/0")
    assert position.value == lsn_to_int("1/0") == 1 << 32


async def test_a_hit_on_the_same_bytes_reuses_the_decoded_value_and_new_bytes_are_decoded_again() -> None:
    cache = MemoryCache()
    aside = CacheAside(cache, ttl_s=30)
    key = aside.key("product", "p")

    async def never() -> list[int]:
        raise AssertionError("a hit must not load")

    await cache.set(key, b"[1,2,3]", 30)
    first = await aside.get_or_load(key, list[int], never)
    again = await aside.get_or_load(key, list[int], never)
    assert first == [1, 2, 3] and again is first  # decoded once
    await cache.set(key, b"[1,2,4]", 30)  # the entry changed (a refill after a change)
    changed = await aside.get_or_load(key, list[int], never)
    assert changed == [1, 2, 4] and changed is not first
