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

CARD = {"card_number": "4242424242424242", "card_expiry": "12/39", "card_cvc": "123"}


class Shopper(HttpUser):  # type: ignore[misc]
    """One customer with its own cookies (session, CSRF token)."""

    wait_time = between(0.2, 1.5)

    def on_start(self) -> None:
        """Learn a few in-stock SKUs, register, add an address."""
        self.client.get("/healthz")
        listing = self.client.get("/api/products", params={"per_page": 12}).json()
        self.slugs = [item["slug"] for item in listing["items"]]
        self.skus: list[str] = []
        for slug in self.slugs[:4]:
            product = self.client.get(f"/api/products/{slug}", name="/api/products/[slug]").json()
            self.skus += [v["sku"] for v in product["variants"] if v["stock"] > 20][:2]
        self.email = f"locust-{uuid.uuid4().hex[:12]}@example.com"
        self.password = "locust-password-123"
        self.post("/api/auth/register", {"email": self.email, "password": self.password, "name": "Locust Shopper"})
        address = {"full_name": "Locust Shopper", "line1": "1 Load Street", "city": "Seoul", "postal_code": "04524"}
        response = self.post("/api/account/addresses", {**address, "country": "KR"})
        self.address_id = response.json()["id"] if response.ok else 0
        self.cart: dict[str, int] = {}

    def post(self, path: str, body: dict[str, Any], method: str = "POST", **kwargs: Any) -> Any:
        """An unsafe request carrying the CSRF token."""
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken") or "", **kwargs.pop("headers", {})}
        return self.client.request(method, path, json=body, headers=headers, **kwargs)

    @task(25)
    def view_product(self) -> None:
        """Look at one product."""
        self.client.get(f"/api/products/{random.choice(self.slugs)}", name="/api/products/[slug]")

    @task(10)
    def browse(self) -> None:
        """Page through the catalog."""
        self.client.get("/api/products", params={"page": random.randint(1, 5)}, name="/api/products?page")

    @task(25)
    def add_to_cart(self) -> None:
        """Add one item."""
        response = self.post("/api/cart/items", {"sku": random.choice(self.skus), "quantity": 1})
        if response.ok:
            self.cart = {i["sku"]: i["quantity"] for i in response.json()["items"]}

    @task(15)
    def change_quantity(self) -> None:
        """Set the quantity of a line already in the cart."""
        if self.cart:
            sku = random.choice(list(self.cart))
            self.post(f"/api/cart/items/{sku}", {"quantity": random.randint(1, 3)}, "PUT", name="/api/cart/items/[sku]")

    @task(5)
    def log_in(self) -> None:
        """Log in again (the session is renewed, the cart kept), look at the account."""
        self.post("/api/auth/login", {"email": self.email, "password": self.password})
        self.client.get("/api/account")

    @task(10)
    def check_out(self) -> None:
        """Place the cart as an order; retry with the same Idempotency-Key until acknowledged."""
        if not self.cart or not self.address_id:
            return
        key = f"locust-{uuid.uuid4().hex}"
        for _ in range(5):
            response = self.post(
                "/api/checkout", {"address_id": self.address_id, **CARD}, headers={"Idempotency-Key": key}
            )
            if response.status_code < 500:
                self.cart = {}
                return
