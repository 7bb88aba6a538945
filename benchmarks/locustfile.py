"""Locust shopper mix for the local cluster: the same mix as `myclothes drill` (browse, cart, log in, check out).

    .venv/bin/python -m locust -f benchmarks/locustfile.py --host "$(myclothes cluster status --json | jq -r .lb_url)"

(Locust is in the dev extras; CI runs this file headless against the cluster: tests/cluster/test_cluster_drills.py.)

Each simulated user registers once, adds an address, then browses, adds to its cart, changes quantities, logs in
again now and then, and checks out with an Idempotency-Key (retried with the same key on errors).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from locust import HttpUser, between, task  # type: ignore[import-not-found]

from myclothes.client import api
from myclothes.client.api import Call
from myclothes.client.cookies import csrf_header


class Shopper(HttpUser):  # type: ignore[misc]
    """One customer with its own cookies (session, CSRF token)."""

    wait_time = between(0.2, 1.5)

    def on_start(self) -> None:
        """Learn a few in-stock SKUs, register, add an address."""
        self.send(api.open_site())
        listing = self.send(api.products(per_page=12)).json()
        self.slugs = [item["slug"] for item in listing["items"]]
        self.skus: list[str] = []
        for slug in self.slugs[:4]:
            product = self.send(api.product(slug), "/api/products/[slug]").json()
            self.skus += [v["sku"] for v in product["variants"] if v["stock"] > 20][:2]
        self.email = api.unique_email("locust")
        self.send(api.register(self.email, "Locust Shopper"))
        response = self.send(api.add_address())
        self.address_id = response.json()["id"] if response.ok else 0
        self.cart: dict[str, int] = {}

    def send(self, call: Call, name: str | None = None) -> Any:
        """One API call through Locust's session (it keeps the cookies), echoing the CSRF token when unsafe."""
        headers = {**csrf_header(self.client.cookies), **call.headers} if call.unsafe else call.headers
        return self.client.request(
            call.method, call.path, json=call.json, params=call.params, headers=headers, name=name
        )

    @task(25)
    def view_product(self) -> None:
        """Look at one product."""
        self.send(api.product(random.choice(self.slugs)), "/api/products/[slug]")

    @task(10)
    def browse(self) -> None:
        """Page through the catalog."""
        self.send(api.products(page=random.randint(1, 5)), "/api/products?page")

    @task(25)
    def add_to_cart(self) -> None:
        """Add one item."""
        response = self.send(api.add_to_cart(random.choice(self.skus)))
        if response.ok:
            self.cart = {i["sku"]: i["quantity"] for i in response.json()["items"]}

    @task(15)
    def change_quantity(self) -> None:
        """Set the quantity of a line already in the cart."""
        if self.cart:
            sku = random.choice(list(self.cart))
            self.send(api.set_quantity(sku, random.randint(1, 3)), "/api/cart/items/[sku]")

    @task(5)
    def log_in(self) -> None:
        """Log in again (the session is renewed, the cart kept), look at the account."""
        self.send(api.login(self.email))
        self.client.get("/api/account")

    @task(10)
    def check_out(self) -> None:
        """Place the cart as an order; retry with the same Idempotency-Key until acknowledged."""
        if not self.cart or not self.address_id:
            return
        order = api.checkout(self.address_id, f"locust-{uuid.uuid4().hex}")
        for _ in range(5):
            if self.send(order).status_code < 500:
                self.cart = {}
                return
