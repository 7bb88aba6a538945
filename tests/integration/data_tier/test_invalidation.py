"""An admin price change reaches every one of 3 real `myclothes serve` processes (MYCLOTHES_CACHE=redis, near
cache invalidated over pub/sub, PostgreSQL primary + standby) within 1 s."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from redis.asyncio import Redis
from tests.integration.data_tier.conftest import fresh_database
from tests.support.postgres import PostgresCluster
from tests.support.redis_server import RedisServer
from tests.support.server import ShopServer

from myclothes.client import PASSWORD, ShopClient


async def _price(http: httpx.AsyncClient, server: ShopServer, slug: str, sku: str) -> int:
    product = (await http.get(f"{server.url}/api/products/{slug}")).json()
    return int(next(v["price"] for v in product["variants"] if v["sku"] == sku))


async def test_a_price_change_is_on_all_three_instances_within_a_second(
    pg_cluster: PostgresCluster, redis_server: RedisServer, tmp_path: Path
) -> None:
    url = await fresh_database(pg_cluster)
    redis = Redis.from_url(redis_server.url)
    await redis.flushdb()
    await redis.aclose()
    env = {
        "MYCLOTHES_DATABASE_URL": url,
        "MYCLOTHES_DATABASE_REPLICA_URLS": ",".join(pg_cluster.replica_urls(url.rsplit("/", 1)[1])),
        "MYCLOTHES_CACHE": "redis",
        "MYCLOTHES_REDIS_URL": redis_server.url,
    }
    servers: list[ShopServer] = []
    try:
        for number in range(3):  # one at a time: the first migrates, the others find the schema current
            servers.append(ShopServer(tmp_path / f"web{number}", env).start())
        servers[0].create_admin("cache-admin@example.com", PASSWORD)
        admin = ShopClient(servers[0].url)
        assert admin.login("cache-admin@example.com").status_code == 200
        async with httpx.AsyncClient(timeout=10) as http:
            slug = (await http.get(f"{servers[0].url}/api/products")).json()["items"][0]["slug"]
            sku = (await http.get(f"{servers[0].url}/api/products/{slug}")).json()["variants"][0]["sku"]
            latencies: list[float] = []
            for new_price in (1111, 2222, 3333):
                for _ in range(3):  # warm every instance's near cache and Redis
                    for server in servers:
                        assert await _price(http, server, slug, sku) != new_price
                response = admin.patch(f"/api/admin/variants/{sku}", json={"price": new_price})
                assert response.status_code == 200, response.text
                committed = time.monotonic()

                async def until_seen(server: ShopServer, price: int = new_price, since: float = committed) -> float:
                    while await _price(http, server, slug, sku) != price:
                        if time.monotonic() - since > 5:
                            raise AssertionError(f"{server.url} still shows the old price after 5 s")
                        await asyncio.sleep(0.01)
                    return time.monotonic() - since

                latencies += await asyncio.gather(*(until_seen(server) for server in servers))
        admin.close()
        print(f"\nprice change visible on 3 instances after at most {max(latencies) * 1000:.0f} ms "
              f"(median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms)")  # fmt: skip
        assert max(latencies) < 1.0
        for server in servers:
            metrics = httpx.get(f"{server.url}/metrics").text
            assert 'myclothes_cache_requests_total{result="hit"}' in metrics
            assert 'myclothes_db_queries_total{role="replica"}' in metrics
    finally:
        for server in servers:
            server.stop()
