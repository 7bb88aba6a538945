"""The Cache contract: a new backend passes this suite or it is not done. The ``none`` backend keeps nothing: every
read is a miss, which is also how a backend that cannot be reached must behave."""

from __future__ import annotations

import asyncio

from tests.contracts.conftest import CacheUnderTest


async def test_an_unknown_key_misses(cache: CacheUnderTest) -> None:
    assert await cache.cache.get("nothing-here") is None


async def test_set_then_get_and_set_replaces(cache: CacheUnderTest) -> None:
    await cache.cache.set("k", b"one", 30)
    assert await cache.cache.get("k") == cache.expect(b"one")
    await cache.cache.set("k", b"two", 30)
    assert await cache.cache.get("k") == cache.expect(b"two")


async def test_add_never_replaces_an_entry(cache: CacheUnderTest) -> None:
    await cache.cache.add("k", b"first", 30)
    await cache.cache.add("k", b"second", 30)
    assert await cache.cache.get("k") == cache.expect(b"first")


async def test_delete_forgets_every_key_given(cache: CacheUnderTest) -> None:
    await cache.cache.set("a", b"1", 30)
    await cache.cache.set("b", b"2", 30)
    await cache.cache.set("c", b"3", 30)
    await cache.cache.delete("a", "b", "never-set")
    assert [await cache.cache.get(key) for key in ("a", "b", "c")] == [None, None, cache.expect(b"3")]


async def test_an_entry_expires_after_its_ttl(cache: CacheUnderTest) -> None:
    await cache.cache.set("short", b"v", 0.2)
    await cache.cache.add("short-added", b"v", 0.2)
    await asyncio.sleep(0.35)
    assert await cache.cache.get("short") is None
    assert await cache.cache.get("short-added") is None


async def test_ping_answers(cache: CacheUnderTest) -> None:
    assert await cache.cache.ping() is True
