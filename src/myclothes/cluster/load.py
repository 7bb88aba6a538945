"""Open-loop shopper load for the drills: Poisson arrivals, one request per arrival, every answer recorded.

An arrival is sent when its time comes, whatever the earlier requests are doing (no back-pressure: a hanging store
shows up as failures and latency, not as a quiet plot). Each arrival is one operation class: ``browse`` (catalog
API and pages, anonymous or logged in), ``cart-read``, ``cart-write``, ``login`` or ``checkout``. Stateful
operations go to a shopper with nothing in flight, so every acknowledged cart line and order can be checked later.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

from myclothes.cluster.report import percentile

OPS = ("browse", "cart-read", "cart-write", "login", "checkout")
MIX = {"browse": 0.55, "cart-read": 0.15, "cart-write": 0.22, "login": 0.03, "checkout": 0.05}
REQUEST_TIMEOUT_S = 3.0
CARD = {"card_number": "4242424242424242", "card_expiry": "12/39", "card_cvc": "123"}
ADDRESS = {"full_name": "Drill Shopper", "line1": "1 Test Street", "city": "Seoul", "postal_code": "04524"}
PASSWORD = "drill-password-123"
CUSTOMERS = 64
# After an overloaded ramp step the web processes still work through what it queued (password hashes run in threads
# and keep the cores busy while the event loop, and so a cheap probe, answers at once): a CI run started the drill
# on that backlog and browse p99 was 16.7 s before any fault. Every queued request ends within the web tier's
# request deadline (MYCLOTHES_REQUEST_DEADLINE_S, 5 s by default), so wait that out before probing.
OVERLOAD_SETTLE_S = 5.0
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


def _take_cookies(shopper: Shopper, response: httpx.Response) -> None:
    """Apply the response's Set-Cookie headers to the shopper's cookies (deletions included)."""
    for header in response.headers.get_list("set-cookie"):
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        value = value.strip('"')
        lowered = attributes.lower().replace(" ", "")
        if not value or "max-age=0" in lowered or "expires=thu,01jan1970" in lowered:
            shopper.cookies.pop(name, None)
        else:
            shopper.cookies[name] = value


def _no_cookie_jar() -> http.cookiejar.CookieJar:
    class Refuse(http.cookiejar.DefaultCookiePolicy):
        def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
            return False

    return http.cookiejar.CookieJar(policy=Refuse())


class Load:
    """The shoppers, their expectations, and every request sent on their behalf."""

    def __init__(self, lb_url: str, seed: int | None = None) -> None:
        self.lb_url = lb_url
        self.rng = random.Random(seed)
        self.http = httpx.AsyncClient(
            base_url=lb_url,
            timeout=REQUEST_TIMEOUT_S,
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=400),
            cookies=_no_cookie_jar(),  # every shopper keeps its own cookies; the shared client keeps none
        )
        self.started = time.monotonic()
        self.samples: list[Sample] = []
        self.customers: list[Shopper] = []
        self.guests: list[Shopper] = []
        self.skus: list[str] = []
        self.slugs: list[str] = []
        self.acknowledged_cart_writes = 0
        self.lost_cart_lines: list[tuple[str, str]] = []
        self.skipped: dict[str, int] = {}  # arrivals that found no idle shopper of the kind they need
        self.lag_ms: list[float] = []  # how late each arrival was sent (the generator itself falling behind)

    def now(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self.started

    async def close(self) -> None:
        await self.http.aclose()

    async def request(
        self, shopper: Shopper | None, op: str | None, method: str, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        """Send one request with the shopper's cookies (and CSRF header); record it under ``op`` unless None."""
        headers: dict[str, str] = dict(kwargs.pop("headers", {}))
        if shopper is not None and shopper.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in shopper.cookies.items())
            if method != "GET":
                headers["X-CSRFToken"] = shopper.cookies.get("csrftoken", "")
        sent = time.monotonic()
        try:
            response: httpx.Response | None = await self.http.request(method, path, headers=headers, **kwargs)
        except (httpx.HTTPError, OSError):
            response = None
        if op is not None:
            status = response.status_code if response is not None else 0
            served_by = response.headers.get("x-served-by", "") if response is not None else ""
            latency_ms = (time.monotonic() - sent) * 1000
            self.samples.append(Sample(sent - self.started, op, status, latency_ms, f"{method} {path}", served_by))
        if response is not None and shopper is not None:
            _take_cookies(shopper, response)
        return response

    # ----- setup ---------------------------------------------------------------------------------------------
    async def setup(self, admin: tuple[str, str] | None = None, customers: int = CUSTOMERS) -> None:
        """Learn products, restock the SKUs the load buys (as ``admin``), register customers with an address."""
        first = (await self.http.get("/api/products", params={"per_page": 48})).json()
        self.slugs = [item["slug"] for item in first["items"]]
        products = await asyncio.gather(*(self.http.get(f"/api/products/{slug}") for slug in self.slugs))
        for response in products:
            variants = response.json()["variants"]
            self.skus += [v["sku"] for v in variants if admin or v["stock"] >= 20][:2]
        self.rng.shuffle(self.skus)
        self.skus = self.skus[:SKUS]
        if not self.skus:
            raise RuntimeError("no product with stock to shop for")
        if admin:
            await self._restock(*admin)
        run = uuid.uuid4().hex[:8]
        slots = asyncio.Semaphore(8)

        async def register(index: int) -> Shopper:
            async with slots:
                shopper = Shopper(email=f"drill-{run}-{index}@example.com")
                await self.request(shopper, None, "GET", "/healthz")
                body = {"email": shopper.email, "password": PASSWORD, "name": f"Drill Shopper {index}"}
                response = await self.request(shopper, None, "POST", "/api/auth/register", json=body)
                if response is None or response.status_code != 201:
                    raise RuntimeError(f"could not register a shopper: {response and response.text}")
                address = {**ADDRESS, "country": "KR"}
                response = await self.request(shopper, None, "POST", "/api/account/addresses", json=address)
                if response is None or response.status_code != 201:
                    raise RuntimeError(f"could not add an address: {response and response.text}")
                shopper.address_id = response.json()["id"]
                return shopper

        self.customers = list(await asyncio.gather(*(register(i) for i in range(customers))))

    async def _restock(self, email: str, password: str) -> None:
        """Give the load's SKUs plenty of stock, so repeated drills never run the shop dry."""
        admin = Shopper(email=email)
        await self.request(admin, None, "GET", "/healthz")
        response = await self.request(
            admin, None, "POST", "/api/auth/login", json={"email": email, "password": password}
        )
        if response is None or response.status_code != 200:
            raise RuntimeError(f"the drill admin could not log in: {response and response.text}")
        for sku in self.skus:
            response = await self.request(admin, None, "PATCH", f"/api/admin/variants/{sku}", json={"stock": RESTOCK})
            if response is None or response.status_code != 200:
                raise RuntimeError(f"could not restock {sku}: {response and response.text}")
        await asyncio.sleep(1.5)  # every web process's short variant cache forgets the old stock

    # ----- the open loop -------------------------------------------------------------------------------------
    async def run(self, rate: float, duration: float) -> list[Sample]:
        """Send Poisson arrivals at ``rate`` per second for ``duration`` seconds; return this run's samples."""
        first = len(self.samples)
        ops, weights = list(MIX), list(MIX.values())
        handlers: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "browse": self.browse,
            "cart-read": self.cart_read,
            "cart-write": self.cart_write,
            "login": self.login,
            "checkout": self.checkout,
        }
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

    def _skip(self, op: str) -> None:
        self.skipped[op] = self.skipped.get(op, 0) + 1

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
        path, params = (
            (f"/api/products/{slug}", None)
            if roll < 0.45
            else ("/api/products", {"page": self.rng.randint(1, 3)})
            if roll < 0.65
            else (f"/products/{slug}", None)
            if roll < 0.9
            else ("/products", None)
        )
        shopper = self._idle(self.customers) if self.rng.random() < 0.33 else None
        if shopper is None:
            await self.request(None, "browse", "GET", path, params=params)
            return
        await self._as(shopper, lambda: self.request(shopper, "browse", "GET", path, params=params))

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
            await self.write_line(shopper, sku, "PUT", f"/api/cart/items/{sku}", {"quantity": quantity})
        else:
            sku = self.rng.choice(self.skus)
            await self.write_line(shopper, sku, "POST", "/api/cart/items", {"sku": sku, "quantity": 1})

    async def prime(self, shopper: Shopper, op: str) -> bool:
        """A new browser opens a page first, which gives it the CSRF cookie; if that fails, so did ``op``."""
        if "csrftoken" in shopper.cookies:
            return True
        sent = time.monotonic()
        response = await self.request(shopper, None, "GET", "/healthz")
        if response is not None and "csrftoken" in shopper.cookies:
            return True
        status = response.status_code if response is not None else 0
        latency_ms = (time.monotonic() - sent) * 1000
        self.samples.append(Sample(sent - self.started, op, status, latency_ms, "GET /healthz (prime)"))
        return False

    async def write_line(self, shopper: Shopper, sku: str, method: str, path: str, body: Any) -> None:
        """Add or set one cart line; remember it only if the store acknowledged it."""
        response = await self.request(shopper, "cart-write", method, path, json=body)
        if response is not None and response.status_code == 200:
            self.acknowledged_cart_writes += 1
            self._acknowledge(shopper, response.json(), sku)
        elif response is None or response.status_code >= 500:
            shopper.uncertain.add(sku)  # it may or may not have happened

    def _acknowledge(self, shopper: Shopper, cart: dict[str, Any], written: str | None) -> None:
        """An acknowledged cart: every earlier acknowledged line must still be there, unchanged."""
        lines = {item["sku"]: item["quantity"] for item in cart["items"]}
        for sku, quantity in shopper.expected.items():
            if sku == written or sku in shopper.uncertain:
                continue
            if lines.get(sku) != quantity:
                self.lost_cart_lines.append((shopper.email or "guest", sku))
        shopper.expected = lines
        shopper.uncertain.clear()

    async def resync(self, shopper: Shopper, op: str | None) -> bool:
        """Read the cart back (checking acknowledged lines) and take it as the new expectation."""
        response = await self.request(shopper, op, "GET", "/api/cart")
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
        body = {"email": customer.email, "password": PASSWORD}
        await self.request(device, "login", "POST", "/api/auth/login", json=body)

    async def checkout(self) -> None:
        """An idle customer places its cart (adding a line first if it is empty), retrying earlier unknowns."""
        customer = self._idle(self.customers, lambda s: s.pending_checkout is not None) or self._idle(self.customers)
        if customer is None:
            self._skip("checkout")
            return
        await self._as(customer, lambda: self.place_order(customer))

    async def place_order(self, customer: Shopper) -> None:
        if customer.pending_checkout is None:
            if not customer.expected:
                sku = self.rng.choice(self.skus)
                await self.write_line(customer, sku, "POST", "/api/cart/items", {"sku": sku, "quantity": 1})
                if not customer.expected:
                    return
            customer.pending_checkout = f"drill-{uuid.uuid4().hex}"
        body = {"address_id": customer.address_id, **CARD}
        headers = {"Idempotency-Key": customer.pending_checkout}
        response = await self.request(customer, "checkout", "POST", "/api/checkout", json=body, headers=headers)
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
        body = {"email": customer.email, "password": PASSWORD}
        response = await self.request(customer, "login", "POST", "/api/auth/login", json=body)
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
            response = await self.request(None, None, "GET", f"/api/products/{self.slugs[0]}")
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
        lost_orders = 0

        async def check(shopper: Shopper) -> None:
            nonlocal lost_orders
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
                    response = await self.request(shopper, None, "GET", "/api/orders")
                    if response is not None and response.status_code == 200:
                        found = {int(order["id"]) for order in response.json()}
                        lost_orders += len(set(shopper.orders) - found)
                        return
                    if response is not None and response.status_code == 401:
                        await self.relogin(shopper)
                        continue
                    await asyncio.sleep(0.25)
                lost_orders += len(shopper.orders)

        await asyncio.gather(*(check(s) for s in [*self.customers, *self.guests] if s.cookies))
        return len(self.lost_cart_lines), lost_orders

    @property
    def acknowledged_orders(self) -> int:
        return sum(len(c.orders) for c in self.customers)


async def measure_capacity(
    load: Load, start: float = 50.0, factor: float = 1.5, step_s: float = 2.5, ceiling: float = 3000.0
) -> tuple[float, list[dict[str, float]]]:
    """Offer rising rates until the store falls behind; the capacity is the last rate it carried.

    A step is carried when at least 99% of its requests succeed, their p99 stays under 250 ms and the generator
    sent 99% of its arrivals less than 50 ms late. After the first step that is not carried, one more step halfway
    back refines the figure (the very first step gets a second try: it also warms the generator and the store up).
    An overloaded step leaves work queued in the store, so the next step (and the measured
    run after the ramp) waits until the store answers promptly again. Returns the capacity and each step's figures.
    """
    steps: list[dict[str, float]] = []
    capacity = 0.0
    rate = start
    refining = False
    first_tries = 2  # the first step also warms the generator and the store up: one miss there is not a verdict
    while rate <= ceiling:
        load.lag_ms.clear()
        samples = await load.run(rate, step_s)
        ok = sum(1 for s in samples if s.ok)
        p99 = percentile([s.latency_ms for s in samples], 0.99)
        lag = percentile(load.lag_ms, 0.99)
        carried = bool(samples) and ok >= 0.99 * len(samples) and p99 <= 250 and lag <= 50
        steps.append(
            {
                "offered_rps": round(rate, 1),
                "achieved_rps": round(ok / step_s, 1),
                "p99_ms": round(p99, 1),
                "generator_lag_p99_ms": round(lag, 1),
                "carried": carried,
                "drained_s": round(await load.drain(settle_s=OVERLOAD_SETTLE_S), 1) if not carried else 0.0,
            }
        )
        if carried:
            capacity = max(capacity, rate)
        if refining:
            break
        if not carried and not capacity and first_tries > 1:
            first_tries -= 1
            continue
        if not carried:
            refining = True
            rate = (capacity + rate) / 2 if capacity else rate / 2
            continue
        rate *= factor
    await load.drain()
    return round(capacity, 1), steps
