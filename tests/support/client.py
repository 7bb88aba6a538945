"""An HTTP client that behaves like a browser towards the API: cookies, CSRF header, helpers."""

from __future__ import annotations

import itertools
import os
from typing import Any

import httpx

_counter = itertools.count()
PASSWORD = "correct horse battery"
GOOD_CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123"}
ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}


def unique_email(prefix: str = "shopper") -> str:
    return f"{prefix}-{os.getpid()}-{next(_counter)}@example.com"


class ShopClient:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30.0, follow_redirects=False)
        self.http.get("/healthz")  # receives the csrftoken cookie

    @property
    def csrf(self) -> str:
        return self.http.cookies.get("csrftoken") or ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRFToken": self.csrf, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.send("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.send("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.send("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.send("DELETE", path, **kwargs)

    def form(self, path: str, data: dict[str, Any]) -> httpx.Response:
        """Submit an HTML form the way a browser does (hidden CSRF field, no header)."""
        return self.http.post(path, data={**data, "_csrf_token": self.csrf})

    @property
    def session_id(self) -> str | None:
        return self.http.cookies.get("myclothes_session")

    def register(self, email: str | None = None, name: str = "Test Shopper") -> dict[str, Any]:
        email = email or unique_email()
        response = self.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": name})
        assert response.status_code == 201, response.text
        return {"email": email, **response.json()}

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return self.post("/api/auth/login", json={"email": email, "password": password})

    def add(self, sku: str, quantity: int = 1) -> httpx.Response:
        return self.post("/api/cart/items", json={"sku": sku, "quantity": quantity})

    def add_address(self, **overrides: Any) -> dict[str, Any]:
        response = self.post("/api/account/addresses", json={**ADDRESS, **overrides})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def checkout(self, address_id: int, key: str, **card: str) -> httpx.Response:
        return self.post(
            "/api/checkout",
            json={"address_id": address_id, **GOOD_CARD, **card},
            headers={"Idempotency-Key": key},
        )

    def close(self) -> None:
        self.http.close()
