"""The sync transport: one browser over its own httpx.Client (its cookie jar), as the tests and bench use it."""

from __future__ import annotations

from typing import Any

import httpx

from myclothes.client import api
from myclothes.client.api import Call
from myclothes.client.cookies import csrf_field, csrf_header, csrf_token, session_cookie


class ShopClient:
    """A shopper's browser towards the API: keeps cookies, echoes the CSRF token, knows the shopper's actions."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False)
        self.call(api.open_site())

    def __enter__(self) -> ShopClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def csrf(self) -> str:
        return csrf_token(self.http.cookies)

    @property
    def session_id(self) -> str | None:
        return session_cookie(self.http.cookies)

    def call(self, call: Call) -> httpx.Response:
        """Send one API call, echoing the CSRF token when it is unsafe."""
        headers = {**csrf_header(self.http.cookies), **call.headers} if call.unsafe else call.headers
        return self.http.request(call.method, call.path, json=call.json, params=call.params, headers=headers)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any request, with the CSRF header (``headers`` may override it)."""
        headers = {**csrf_header(self.http.cookies), **kwargs.pop("headers", {})}
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
        return self.http.post(path, data={**data, **csrf_field(self.http.cookies)})

    def register(self, email: str | None = None, name: str = "Test Shopper") -> dict[str, Any]:
        """Register (a new unique address unless ``email``); the account as the store returned it, with its email."""
        email = email or api.unique_email()
        response = self.call(api.register(email, name))
        assert response.status_code == 201, response.text
        return {"email": email, **response.json()}

    def login(self, email: str, password: str = api.PASSWORD) -> httpx.Response:
        return self.call(api.login(email, password))

    def logout(self) -> httpx.Response:
        return self.call(api.logout())

    def add(self, sku: str, quantity: int = 1) -> httpx.Response:
        return self.call(api.add_to_cart(sku, quantity))

    def set_quantity(self, sku: str, quantity: int) -> httpx.Response:
        return self.call(api.set_quantity(sku, quantity))

    def cart(self) -> httpx.Response:
        return self.call(api.cart())

    def add_address(self, **overrides: Any) -> dict[str, Any]:
        response = self.call(api.add_address(**overrides))
        assert response.status_code == 201, response.text
        return dict(response.json())

    def create_product(self, name: str, **fields: Any) -> dict[str, Any]:
        """(As an admin.) Create a product (``api.create_product``'s fields); the product as the store returned it."""
        response = self.call(api.create_product(name, **fields))
        assert response.status_code == 201, response.text
        return dict(response.json())

    def checkout(self, address_id: int, key: str, **card: str) -> httpx.Response:
        return self.call(api.checkout(address_id, key, **card))

    def orders(self) -> httpx.Response:
        return self.call(api.orders())

    def close(self) -> None:
        self.http.close()


def in_stock_skus(base_url: str, min_stock: int, products: int, most: int) -> list[str]:
    """Up to ``most`` SKUs with at least ``min_stock`` in stock, from the catalog's first ``products`` products."""
    with ShopClient(base_url) as shop:
        listing = shop.call(api.products(per_page=products)).json()["items"]
        return [
            variant["sku"]
            for item in listing
            for variant in shop.call(api.product(item["slug"])).json()["variants"]
            if variant["stock"] >= min_stock
        ][:most]
