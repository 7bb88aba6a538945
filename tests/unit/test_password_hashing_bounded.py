"""Password hashing never runs more than MAX_CONCURRENT_HASHES at once, however many requests ask."""

from __future__ import annotations

import anyio

from myclothes.passwords import MAX_CONCURRENT_HASHES, Argon2Hasher


async def test_a_flood_of_hashes_runs_a_bounded_number_at_a_time() -> None:
    hasher = Argon2Hasher(memory_kib=8 * 1024, time_cost=1)
    seen: list[int] = []

    async def watch() -> None:
        for _ in range(200):
            seen.append(hasher.running)
            await anyio.sleep(0.002)

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        for n in range(12):
            group.start_soon(hasher.hash, f"password number {n}")
    assert max(seen) == MAX_CONCURRENT_HASHES  # busy, and never more than the bound
    assert await hasher.verify(await hasher.hash("a long password"), "a long password")
