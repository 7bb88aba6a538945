"""Open-loop shopper load for the drills: Poisson arrivals, one request per arrival, every answer recorded.

An arrival is sent when its time comes, whatever the earlier requests are doing (no back-pressure: a hanging store
shows up as failures and latency, not as a quiet plot). Each arrival is one operation class: ``browse`` (catalog
API and pages, anonymous or logged in), ``cart-read``, ``cart-write``, ``login`` or ``checkout``. Stateful
operations go to a shopper with nothing in flight, so every acknowledged cart line and order can be checked later.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx

from myclothes.client import api
from myclothes.client.aio import cookieless_client, send
from myclothes.client.api import Call
from myclothes.client.cookies import csrf_token
from myclothes.cluster.shoppers import Sample, Shopper, register_customers, shop_for

OPS = ("browse", "cart-read", "cart-write", "login", "checkout")
MIX = {"browse": 0.55, "cart-read": 0.15, "cart-write": 0.22, "login": 0.03, "checkout": 0.05}
REQUEST_TIMEOUT_S = 3.0
CUSTOMERS = 64


class Load:
    """The shoppers, their expectations, and every request sent on their behalf."""

    def __init__(self, lb_url: str, seed: int | None = None) -> None:
        self.lb_url = lb_url
        self.rng = random.Random(seed)
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=400)
        self.http = cookieless_client(lb_url, REQUEST_TIMEOUT_S, limits)  # every shopper keeps its own cookies
        self.started = time.monotonic()
        self.samples: list[Sample] = []
        self.customers: list[Shopper] = []
        self.guests: list[Shopper] = []
        self.skus: list[str] = []
        self.slugs: list[str] = []
        self.acknowledged_cart_writes = 0
        self.lost_cart_lines: list[tuple[str, str]] = []
        self.lost_orders: list[tuple[str, int]] = []  # (customer, order id) acknowledged but not read back
        self.skipped: dict[str, int] = {}  # arrivals that found no idle shopper of the kind they need
        self.lag_ms: list[float] = []  # how late each arrival was sent (the generator itself falling behind)

    def now(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self.started

    async def close(self) -> None:
        await self.http.aclose()

    async def request(self, shopper: Shopper | None, op: str | None, call: Call) -> httpx.Response | None:
        """Send ``call`` as ``shopper`` (its cookies, the CSRF header); record it under ``op`` unless None."""
        sent = time.monotonic()
        try:
            response: httpx.Response | None = await send(self.http, None if shopper is None else shopper.cookies, call)
        except (httpx.HTTPError, OSError):
            response = None
        if op is not None:
            status = response.status_code if response is not None else 0
            served_by = response.headers.get("x-served-by", "") if response is not None else ""
            latency_ms = (time.monotonic() - sent) * 1000
            self.samples.append(Sample(sent - self.started, op, status, latency_ms, call.label, served_by))
        return response

    # ----- setup ---------------------------------------------------------------------------------------------
    async def setup(self, admin: tuple[str, str] | None = None, customers: int = CUSTOMERS) -> None:
        """Learn products, restock the SKUs the load buys (as ``admin``), register customers with an address."""
        self.slugs, self.skus = await shop_for(self.http, self.rng, admin)
        self.customers = await register_customers(self.http, customers)

    # ----- the open loop -------------------------------------------------------------------------------------
    async def run(self, rate: float, duration: float) -> list[Sample]:
        """Send Poisson arrivals at ``rate`` per second for ``duration`` seconds; return this run's samples."""
        first = len(self.samples)
        ops, weights = list(MIX), list(MIX.values())
        actions = (self.browse, self.cart_read, self.cart_write, self.login, self.checkout)
        handlers: dict[str, Callable[[], Coroutine[Any, Any, None]]] = dict(zip(OPS, actions, strict=True))
        tasks: set[asyncio.Task[None]] = set()
        begin = self.now()
        due = begin
        while True:
            due += self.rng.expovariate(rate)
            if due - begin >= duration:
                break
            delay = due - self.now()
            if delay > 0:
                await asyncio.sleep(delay)
            self.lag_ms.append(max(0.0, -delay) * 1000)
            task = asyncio.create_task(handlers[self.rng.choices(ops, weights)[0]]())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        return self.samples[first:]

    def _idle(self, pool: list[Shopper], want: Callable[[Shopper], bool] = lambda s: True) -> Shopper | None:
        candidates = [s for s in pool if not s.busy and want(s)]
        return self.rng.choice(candidates) if candidates else None

    async def _as(self, shopper: Shopper, action: Callable[[], Awaitable[Any]]) -> None:
        """Run ``action`` with the shopper marked busy, so no other request uses its cookies meanwhile."""
        shopper.busy = True
        try:
            await action()
        finally:
            shopper.busy = False

    async def browse(self) -> None:
        """A product or listing, from the API or as a page; a third of them by a logged-in customer."""
        roll = self.rng.random()
        slug = self.rng.choice(self.slugs)
        call = (
            api.product(slug)
            if roll < 0.45
            else api.products(page=self.rng.randint(1, 3))
            if roll < 0.65
            else Call("GET", f"/products/{slug}")
            if roll < 0.9
            else Call("GET", "/products")
        )
        shopper = self._idle(self.customers) if self.rng.random() < 0.33 else None
        if shopper is None:
            await self.request(None, "browse", call)
            return
        await self._as(shopper, lambda: self.request(shopper, "browse", call))

    def _cart_shopper(self) -> Shopper:
        """An idle shopper for a cart operation: a customer or a guest, a new guest if every one is busy."""
        pool = self.customers if self.rng.random() < 0.3 else self.guests
        shopper = self._idle(pool, lambda s: s.pending_checkout is None)
        if shopper is None:
            shopper = Shopper()
            self.guests.append(shopper)
        return shopper

    async def cart_read(self) -> None:
        shopper = self._cart_shopper()
        await self._as(shopper, lambda: self.resync(shopper, "cart-read"))

    async def cart_write(self) -> None:
        shopper = self._cart_shopper()
        await self._as(shopper, lambda: self._cart_write(shopper))

    async def _cart_write(self, shopper: Shopper) -> None:
        if not await self.prime(shopper, "cart-write"):
            return
        if shopper.expected and (len(shopper.expected) >= 8 or self.rng.random() < 0.35):
            sku = self.rng.choice(list(shopper.expected))
            quantity = 0 if self.rng.random() < 0.15 else self.rng.randint(1, 3)
            await self.write_line(shopper, sku, api.set_quantity(sku, quantity))
        else:
            sku = self.rng.choice(self.skus)
            await self.write_line(shopper, sku, api.add_to_cart(sku))

    async def prime(self, shopper: Shopper, op: str) -> bool:
        """A new browser opens a page first, which gives it the CSRF cookie; if that fails, so did ``op``."""
        if csrf_token(shopper.cookies):
            return True
        sent = time.monotonic()
        response = await self.request(shopper, None, api.open_site())
        if response is not None and csrf_token(shopper.cookies):
            return True
        status = response.status_code if response is not None else 0
        latency_ms = (time.monotonic() - sent) * 1000
        self.samples.append(Sample(sent - self.started, op, status, latency_ms, f"{api.open_site().label} (prime)"))
        return False

    async def write_line(self, shopper: Shopper, sku: str, call: Call) -> None:
        """Add or set one cart line (``call``); remember it only if the store acknowledged it."""
        response = await self.request(shopper, "cart-write", call)
        if response is not None and response.status_code == 200:
            self.acknowledged_cart_writes += 1
            self._acknowledge(shopper, response.json(), sku)
        elif response is None or response.status_code >= 500:
            shopper.uncertain.add(sku)  # it may or may not have happened

    def _acknowledge(self, shopper: Shopper, cart: dict[str, Any], written: str | None) -> None:
        self.lost_cart_lines += [(shopper.email or "guest", sku) for sku in shopper.acknowledge(cart, written)]

    async def resync(self, shopper: Shopper, op: str | None) -> bool:
        """Read the cart back (checking acknowledged lines) and take it as the new expectation."""
        response = await self.request(shopper, op, api.cart())
        if response is not None and response.status_code == 200:
            self._acknowledge(shopper, response.json(), None)
            return True
        return False

    async def login(self) -> None:
        """A customer logs in on a second device (a fresh browser) and looks at the account."""
        customer = self.rng.choice(self.customers)
        device = Shopper(email=customer.email)
        if not await self.prime(device, "login"):
            return
        await self.request(device, "login", api.login(customer.email or ""))

    async def checkout(self) -> None:
        """An idle customer places its cart (adding a line first if it is empty), retrying earlier unknowns."""
        customer = self._idle(self.customers, lambda s: s.pending_checkout is not None) or self._idle(self.customers)
        if customer is None:
            self.skipped["checkout"] = self.skipped.get("checkout", 0) + 1
            return
        await self._as(customer, lambda: self.place_order(customer))

    async def place_order(self, customer: Shopper) -> None:
        if customer.pending_checkout is None:
            if not customer.expected:
                sku = self.rng.choice(self.skus)
                await self.write_line(customer, sku, api.add_to_cart(sku))
                if not customer.expected:
                    return
            customer.pending_checkout = f"drill-{uuid.uuid4().hex}"
        order = api.checkout(customer.address_id, customer.pending_checkout)
        response = await self.request(customer, "checkout", order)
        if response is None or response.status_code >= 500:
            customer.uncertain.update(customer.expected)  # the order may have taken the cart
            return
        customer.pending_checkout = None
        if response.status_code in (200, 201):
            customer.orders.append(int(response.json()["id"]))
            customer.expected, customer.uncertain = {}, set()
        elif response.status_code == 401:  # the session was lost (memory store): log in again
            await self.relogin(customer)
        else:  # refused (e.g. the cart changed under it): take the cart as it is now
            await self.resync(customer, "cart-read")

    async def relogin(self, customer: Shopper) -> None:
        """Log the customer in again on its own browser, then take the (merged) cart as the expectation."""
        response = await self.request(customer, "login", api.login(customer.email or ""))
        if response is not None and response.status_code == 200:
            await self.resync(customer, "cart-read")

    async def drain(
        self, prompt_ms: float = 100.0, in_a_row: int = 5, timeout: float = 30.0, settle_s: float = 0.0
    ) -> float:
        """Wait ``settle_s``, then until the store answers promptly again (``in_a_row`` probes under ``prompt_ms``);
        seconds waited."""
        began = time.monotonic()
        await asyncio.sleep(settle_s)
        prompt = 0
        while prompt < in_a_row and time.monotonic() - began < timeout:
            sent = time.monotonic()
            response = await self.request(None, None, api.product(self.slugs[0]))
            fast = response is not None and response.status_code == 200 and time.monotonic() - sent < prompt_ms / 1000
            prompt = prompt + 1 if fast else 0
            await asyncio.sleep(0.1)
        return time.monotonic() - began

    # ----- after the load ------------------------------------------------------------------------------------
    async def settle(self, timeout: float = 60.0) -> None:
        """Retry every checkout whose outcome is unknown (same Idempotency-Key) until the store answers."""
        deadline = time.monotonic() + timeout
        for customer in self.customers:
            while customer.pending_checkout and time.monotonic() < deadline:
                await self.place_order(customer)
                if customer.pending_checkout:
                    await asyncio.sleep(0.25)

    async def verify(self) -> tuple[int, int]:
        """Read every shopper's cart and orders back; return (lost cart lines, lost orders)."""
        slots = asyncio.Semaphore(16)

        async def check(shopper: Shopper) -> None:
            async with slots:
                for _ in range(60):
                    if await self.resync(shopper, None):
                        break
                    await asyncio.sleep(0.25)
                else:
                    lost = [sku for sku in shopper.expected if sku not in shopper.uncertain]
                    self.lost_cart_lines += [(shopper.email or "guest", sku) for sku in lost]
                if shopper.email is None:
                    return
                for _ in range(60):
                    response = await self.request(shopper, None, api.orders())
                    if response is not None and response.status_code == 200:
                        found = {int(order["id"]) for order in response.json()}
                        self.lost_orders += [(shopper.email, n) for n in sorted(set(shopper.orders) - found)]
                        return
                    if response is not None and response.status_code == 401:
                        await self.relogin(shopper)
                        continue
                    await asyncio.sleep(0.25)
                self.lost_orders += [(shopper.email, n) for n in shopper.orders]  # never read back at all

        await asyncio.gather(*(check(s) for s in [*self.customers, *self.guests] if s.cookies))
        return len(self.lost_cart_lines), len(self.lost_orders)

    @property
    def acknowledged_orders(self) -> int:
        return sum(len(c.orders) for c in self.customers)
