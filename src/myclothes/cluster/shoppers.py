"""The drill's shoppers: one browser's state, one request as it saw it, and the customers registered before the load.

Before the load, the drill learns what to buy (SKUs in stock, restocked by the drill's admin so repeated drills
never run the shop dry) and registers its customers, each with an address for checkout.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from myclothes.client import api
from myclothes.client.aio import send

SKUS = 24
RESTOCK = 1_000_000


@dataclass(slots=True)
class Sample:
    """One request as the shopper saw it."""

    t: float  # when it was sent, seconds since the load started
    op: str
    status: int  # HTTP status; 0 for a transport error or a timeout
    latency_ms: float
    path: str = ""
    served_by: str = ""  # the web process that answered (X-Served-By), if any

    @property
    def ok(self) -> bool:
        return 0 < self.status < 500


@dataclass
class Shopper:
    """One browser: its cookies and what the store acknowledged to it."""

    email: str | None = None  # None for a guest
    address_id: int = 0
    cookies: dict[str, str] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    uncertain: set[str] = field(default_factory=set)
    orders: list[int] = field(default_factory=list)
    pending_checkout: str | None = None  # an Idempotency-Key whose outcome is unknown
    busy: bool = False

    def acknowledge(self, cart: dict[str, Any], written: str | None) -> list[str]:
        """Take an acknowledged cart as the expectation; the SKUs of earlier acknowledged lines it lost or changed
        (``written``, just changed, and uncertain lines do not count)."""
        lines = {item["sku"]: item["quantity"] for item in cart["items"]}
        lost = [
            sku
            for sku, quantity in self.expected.items()
            if sku != written and sku not in self.uncertain and lines.get(sku) != quantity
        ]
        self.expected = lines
        self.uncertain.clear()
        return lost


async def _expect(http: httpx.AsyncClient, shopper: Shopper, call: api.Call, status: int, what: str) -> httpx.Response:
    response = await send(http, shopper.cookies, call)
    if response.status_code != status:
        raise RuntimeError(f"{what}: {response.text}")
    return response


async def shop_for(
    http: httpx.AsyncClient, rng: random.Random, admin: tuple[str, str] | None
) -> tuple[list[str], list[str]]:
    """The catalog's product slugs and up to SKUS SKUs to buy: in stock, or any restocked by ``admin``."""
    first = (await send(http, None, api.products(per_page=48))).json()
    slugs = [item["slug"] for item in first["items"]]
    products = await asyncio.gather(*(send(http, None, api.product(slug)) for slug in slugs))
    skus: list[str] = []
    for response in products:
        variants = response.json()["variants"]
        skus += [v["sku"] for v in variants if admin or v["stock"] >= 20][:2]
    rng.shuffle(skus)
    skus = skus[:SKUS]
    if not skus:
        raise RuntimeError("no product with stock to shop for")
    if admin:
        await _restock(http, admin, skus)
    return slugs, skus


async def _restock(http: httpx.AsyncClient, admin: tuple[str, str], skus: list[str]) -> None:
    """Give the load's SKUs plenty of stock, so repeated drills never run the shop dry."""
    email, password = admin
    browser = Shopper(email=email)
    await send(http, browser.cookies, api.open_site())
    await _expect(http, browser, api.login(email, password), 200, "the drill admin could not log in")
    for sku in skus:
        await _expect(http, browser, api.set_stock(sku, RESTOCK), 200, f"could not restock {sku}")
    await asyncio.sleep(1.5)  # every web process's short variant cache forgets the old stock


async def register_customers(http: httpx.AsyncClient, count: int) -> list[Shopper]:
    """``count`` new customers, logged in on their own browser, each with an address."""
    run = uuid.uuid4().hex[:8]
    slots = asyncio.Semaphore(8)

    async def register(index: int) -> Shopper:
        async with slots:
            email = f"drill-{run}-{index}@example.com"
            shopper = Shopper(email=email)
            await send(http, shopper.cookies, api.open_site())
            await _expect(http, shopper, api.register(email, f"Drill Shopper {index}"), 201, "could not register")
            address = await _expect(http, shopper, api.add_address(), 201, "could not add an address")
            shopper.address_id = address.json()["id"]
            return shopper

    return list(await asyncio.gather(*(register(i) for i in range(count))))
