"""The redis cart store through Sentinel: a killed primary is replaced, writes resume, nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import redis
from tests.conftest import artifacts_dir
from tests.support.redis_server import RedisServer, SentinelServer

from myclothes.carts.redis import RedisCartStore
from myclothes.domain.errors import StoreUnavailable
from myclothes.redisconn import create_store_redis
from myclothes.settings import Settings


async def _wait_for_replica_sync(store: RedisCartStore) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if await store.client.wait(1, 100) >= 1:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the replica never caught up")


def _wait_until_sentinels_know_everyone(sentinels: list[SentinelServer]) -> None:
    """Sentinels learn replicas from INFO (every 10 s) and each other from hello messages (every 2 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready = True
        for sentinel in sentinels:
            client = redis.Redis(port=sentinel.port)
            replicas = client.execute_command("SENTINEL", "REPLICAS", "myclothes")
            others = client.execute_command("SENTINEL", "SENTINELS", "myclothes")
            client.close()
            ready = ready and len(replicas) >= 2 and len(others) >= 2
        if ready:
            return
        time.sleep(0.2)
    raise AssertionError("sentinels did not discover the replica and each other")


def test_failover_resumes_writes_quickly_and_loses_no_acknowledged_add(tmp_path: Path) -> None:
    primary = RedisServer(tmp_path / "primary").start()
    # Two replicas: after the failover one is still there to acknowledge writes (WAIT 1).
    replicas = [RedisServer(tmp_path / f"replica-{n}", replica_of=primary.port).start() for n in range(2)]
    sentinels = [SentinelServer(tmp_path / f"sentinel-{n}", primary.port).start() for n in range(3)]
    try:
        _wait_until_sentinels_know_everyone(sentinels)
        settings = Settings(redis_sentinels=tuple(f"127.0.0.1:{s.port}" for s in sentinels), cart_store="redis")
        assert settings.wait_for_replica  # on by default with Sentinel
        report = asyncio.run(_drive(settings, primary))
    finally:
        for sentinel in sentinels:
            sentinel.stop()
        for replica in replicas:
            replica.stop()
        primary.stop()
    (artifacts_dir() / "redis-sentinel-failover.json").write_text(json.dumps(report, indent=2))
    assert report["acknowledged"] > 50
    assert report["stored"] >= report["acknowledged"], report
    assert report["recovery_s"] < 5.0, report


async def _drive(settings: Settings, primary: RedisServer) -> dict[str, float]:
    client = create_store_redis(settings)
    store = RedisCartStore(client, 3600, 7200, wait_for_replica=settings.wait_for_replica)
    await _wait_for_replica_sync(store)
    acknowledged = 0
    killed_at = recovered_at = None
    started = time.monotonic()
    while time.monotonic() - started < 12:
        if killed_at is None and time.monotonic() - started > 2:
            primary.stop(kill=True)
            killed_at = time.monotonic()
        try:
            # 90 lines of at most 99 per cart: a fast machine acknowledges more than one cart holds
            await store.add(f"sentinel-cart-{acknowledged // 8000}", f"SKU-{acknowledged % 90}", 1, limit=99)
            acknowledged += 1
            if killed_at is not None and recovered_at is None:
                recovered_at = time.monotonic()
        except StoreUnavailable:
            await asyncio.sleep(0.05)
        if recovered_at is not None and time.monotonic() - recovered_at > 2:
            break
    carts = [f"sentinel-cart-{n}" for n in range(acknowledged // 8000 + 1)]
    stored = 0
    for cart in carts:
        stored += sum(line.quantity for line in await store.lines(cart))
    await client.aclose()
    assert killed_at is not None and recovered_at is not None, "writes never resumed"
    return {"acknowledged": acknowledged, "stored": stored, "recovery_s": recovered_at - killed_at}
