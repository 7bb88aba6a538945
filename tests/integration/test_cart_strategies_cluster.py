"""Three real web processes behind a real HAProxy, 200 shoppers, one web process killed mid-run.

`redis`, `sql` and `cookie` must lose no acknowledged cart line; `memory` (with stickiness) loses exactly the carts
of the shoppers pinned to the killed process, and nobody else's.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from tests.conftest import artifacts_dir
from tests.support.haproxy import HAProxy
from tests.support.redis_server import RedisServer
from tests.support.server import ShopServer

from myclothes.client import api, in_stock_skus
from myclothes.client.aio import cookieless_client, send

SHOPPERS = 200
WRITES_PER_SHOPPER = 5
KILL_AFTER_WRITES = 350


@dataclass
class Shopper:
    number: int
    client: httpx.AsyncClient
    cookies: dict[str, str] = field(default_factory=dict)
    acknowledged: dict[str, int] = field(default_factory=dict)
    served_by: str | None = None
    acked_before_kill: bool = False


def _lost(acknowledged: dict[str, int], seen: dict[str, int]) -> int:
    return sum(max(0, quantity - seen.get(sku, 0)) for sku, quantity in acknowledged.items())


async def _shop(shopper: Shopper, skus: list[str], progress: dict[str, int], killed: asyncio.Event) -> None:
    rng = random.Random(shopper.number)
    await send(shopper.client, shopper.cookies, api.open_site())
    picks = rng.sample(skus, WRITES_PER_SHOPPER)  # distinct SKUs: a lost line is never masked by a later add
    current: dict[str, int] = {}
    for step, sku in enumerate(picks):
        await asyncio.sleep(rng.uniform(0.0, 0.05))
        if step == WRITES_PER_SHOPPER - 1 and current:
            sku = next(iter(current))
            write = api.set_quantity(sku, current[sku] + 1)  # a change that only ever raises the count
        else:
            write = api.add_to_cart(sku)
        try:
            response = await send(shopper.client, shopper.cookies, write)
        except httpx.HTTPError:
            continue
        finally:
            progress["writes"] += 1
        if response.status_code == 200:
            current = {item["sku"]: item["quantity"] for item in response.json()["items"]}
            # Every quantity the shop ever confirmed: a cart that later comes back smaller has lost something.
            for item in response.json()["items"]:
                shopper.acknowledged[item["sku"]] = max(item["quantity"], shopper.acknowledged.get(item["sku"], 0))
            shopper.served_by = shopper.served_by or response.headers.get("x-served-by")
            if not killed.is_set():
                shopper.acked_before_kill = True


async def _run(lb_url: str, skus: list[str], kill: callable) -> list[Shopper]:  # type: ignore[valid-type]
    progress = {"writes": 0}
    killed = asyncio.Event()
    limits = httpx.Limits(max_connections=2)
    shoppers = [Shopper(n, cookieless_client(lb_url, 10.0, limits)) for n in range(SHOPPERS)]

    async def killer() -> None:
        while progress["writes"] < KILL_AFTER_WRITES:
            await asyncio.sleep(0.01)
        killed.set()
        kill()

    await asyncio.gather(killer(), *(_shop(s, skus, progress, killed) for s in shoppers))
    await asyncio.sleep(1.5)  # HAProxy marks the dead process down
    return shoppers


async def _read_back(shopper: Shopper) -> dict[str, int]:
    response = await send(shopper.client, shopper.cookies, api.cart())
    assert response.status_code == 200, response.text
    return {item["sku"]: item["quantity"] for item in response.json()["items"]}


@pytest.mark.parametrize("cart_store", ["redis", "sql", "cookie", "memory"])
def test_killing_a_web_process_loses_no_acknowledged_line(
    cart_store: str, tmp_path: Path, redis_server: RedisServer
) -> None:
    env = {"MYCLOTHES_CART_STORE": cart_store, "MYCLOTHES_REDIS_URL": redis_server.url.replace("/0", "/3")}
    servers = [ShopServer(tmp_path, {**env, "MYCLOTHES_INSTANCE": f"web-{i}"}) for i in range(3)]
    servers[0].start()  # migrates and seeds; the others find it done
    for server in servers[1:]:
        server.start()
    try:
        skus = in_stock_skus(servers[0].url, min_stock=40, products=30, most=60)
        with HAProxy(tmp_path / "haproxy", [s.port for s in servers], sticky=cart_store == "memory") as lb:
            victim = servers[1]
            shoppers = asyncio.run(_run_and_check(lb.url, skus, lambda: victim.stop(signal.SIGKILL)))
    finally:
        for server in servers:
            server.stop()

    acknowledged_lines = sum(len(s.acknowledged) for s in shoppers)
    report = {
        "cart_store": cart_store,
        "shoppers": SHOPPERS,
        "acknowledged_lines": acknowledged_lines,
        "lost_lines": sum(s.lost_lines for s in shoppers),  # type: ignore[attr-defined]
        "shoppers_who_lost_something": sum(1 for s in shoppers if s.lost),  # type: ignore[attr-defined]
        "shoppers_pinned_to_killed_process": sum(1 for s in shoppers if s.served_by == "web-1"),
    }
    (artifacts_dir() / f"cart-kill-{cart_store}.json").write_text(json.dumps(report, indent=2))
    assert acknowledged_lines > SHOPPERS  # the run really happened
    if cart_store != "memory":
        lost = {s.number: s.lost for s in shoppers if s.lost}  # type: ignore[attr-defined]
        assert lost == {}, f"{cart_store} lost acknowledged lines: {lost}"
    else:
        pinned = {s.number for s in shoppers if s.served_by == "web-1" and s.acked_before_kill}
        losers = {s.number for s in shoppers if s.lost}  # type: ignore[attr-defined]
        assert pinned, "some shoppers were pinned to the killed process"
        assert losers <= {s.number for s in shoppers if s.served_by == "web-1"}, "only the killed process's carts"
        assert losers == pinned, f"memory lost {len(losers)} carts; {len(pinned)} were pinned to the dead process"


async def _run_and_check(lb_url: str, skus: list[str], kill: callable) -> list[Shopper]:  # type: ignore[valid-type]
    shoppers = await _run(lb_url, skus, kill)
    for shopper in shoppers:
        seen = await _read_back(shopper)
        shopper.lost = _lost(shopper.acknowledged, seen)  # type: ignore[attr-defined]
        shopper.lost_lines = sum(1 for sku, q in shopper.acknowledged.items() if seen.get(sku, 0) < q)  # type: ignore[attr-defined]
        await shopper.client.aclose()
    return shoppers
