"""Compare Redis clients on the cart hot path: one session GET plus one EVALSHA of the cart-add script.

Run with a venv that has redis[hiredis], coredis and valkey-glide, against a Redis on REDIS_PORT:
    python benchmarks/redis_clients.py
Prints CPU microseconds per (GET + EVALSHA) pair, measured with time.process_time over sequential awaits, and the
wall-clock rate with 32 concurrent tasks. Not part of the test suite.
"""

from __future__ import annotations

import asyncio
import os
import time

PORT = int(os.environ.get("REDIS_PORT", "6391"))
SCRIPT = "redis.call('HINCRBY', KEYS[1], ARGV[1], 1); return redis.call('HGETALL', KEYS[1])"
N = 5000


async def measure(name: str, get, evalsha) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        await get()
        await evalsha()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(N):
        await get()
        await evalsha()
    cpu_us = (time.process_time() - cpu) / N * 1e6
    seq = N / (time.perf_counter() - wall)

    async def worker() -> None:
        for _ in range(N // 32):
            await get()
            await evalsha()

    wall = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(32)))
    concurrent = (N // 32 * 32) / (time.perf_counter() - wall)
    print(f"{name:<22} {cpu_us:7.0f} us CPU per pair  {seq:7.0f} pairs/s sequential  {concurrent:7.0f} pairs/s x32")


async def main() -> None:
    import redis.asyncio as redis_py

    client = redis_py.Redis(port=PORT)
    await client.set("session", b"x" * 200)
    sha = await client.script_load(SCRIPT)
    await measure("redis-py 8 + hiredis", lambda: client.get("session"), lambda: client.evalsha(sha, 1, "cart", "sku"))
    await client.aclose()

    import coredis

    core = coredis.Redis(port=PORT)
    async with core:
        await measure("coredis", lambda: core.get("session"), lambda: core.evalsha(sha, ["cart"], ["sku"]))

    from glide import GlideClient, GlideClientConfiguration, NodeAddress, Script

    glide = await GlideClient.create(GlideClientConfiguration([NodeAddress("127.0.0.1", PORT)]))
    script = Script(SCRIPT)
    await measure(
        "valkey-glide", lambda: glide.get("session"), lambda: glide.invoke_script(script, keys=["cart"], args=["sku"])
    )
    await glide.close()


if __name__ == "__main__":
    asyncio.run(main())
