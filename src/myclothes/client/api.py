"""The store's JSON API as a shopper speaks it: one ``Call`` per action, and the data a shopper types in.

The builders say which method, path, body and headers an action takes; a transport (``sync``, ``aio``, the Locust
file's session) sends them with the shopper's cookies and the CSRF header.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PASSWORD = "correct horse battery"
CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123"}  # the Luhn test card
ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Call:
    """One request to the store, before the shopper's cookies and CSRF header are added."""

    method: str
    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def unsafe(self) -> bool:
        """Whether the store asks this request for the CSRF token."""
        return self.method not in SAFE_METHODS

    @property
    def label(self) -> str:
        """``METHOD /path``, as a report names the request."""
        return f"{self.method} {self.path}"


def unique_email(prefix: str = "shopper") -> str:
    """An address no other shopper of any run has used."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def open_site() -> Call:
    """The first request of a new browser: its answer carries the CSRF cookie that unsafe requests echo (any page
    or API answer does; probes, metrics and static files do not)."""
    return Call("GET", "/api/categories")


def register(email: str, name: str = "Test Shopper", password: str = PASSWORD) -> Call:
    return Call("POST", "/api/auth/register", {"email": email, "password": password, "name": name})


def login(email: str, password: str = PASSWORD) -> Call:
    return Call("POST", "/api/auth/login", {"email": email, "password": password})


def logout() -> Call:
    return Call("POST", "/api/auth/logout")


def products(**params: Any) -> Call:
    """A page of the catalog (``page``, ``per_page``, ``category``, ``sort`` ...)."""
    return Call("GET", "/api/products", params=params or None)


def product(slug: str) -> Call:
    return Call("GET", f"/api/products/{slug}")


def cart() -> Call:
    return Call("GET", "/api/cart")


def add_to_cart(sku: str, quantity: int = 1) -> Call:
    return Call("POST", "/api/cart/items", {"sku": sku, "quantity": quantity})


def set_quantity(sku: str, quantity: int) -> Call:
    """Change a cart line's quantity (0 removes it)."""
    return Call("PUT", f"/api/cart/items/{sku}", {"quantity": quantity})


def add_address(**overrides: Any) -> Call:
    return Call("POST", "/api/account/addresses", {**ADDRESS, **overrides})


def checkout(address_id: int, key: str, **card: str) -> Call:
    """Place the cart as an order; a retry with the same Idempotency-Key ``key`` returns the same order."""
    return Call("POST", "/api/checkout", {"address_id": address_id, **CARD, **card}, headers={"Idempotency-Key": key})


def orders() -> Call:
    return Call("GET", "/api/orders")


def create_product(
    name: str,
    *,
    category: str = "t-shirts",
    price: int = 1500,
    sizes: Sequence[str] = ("M",),
    colours: Sequence[str] = ("black",),
    stock: int = 10,
    description: str = "",
) -> Call:
    """(As an admin.) A new product with one variant per size and colour, each with ``stock``."""
    body = {"category": category, "name": name, "price": price, "sizes": list(sizes), "colours": list(colours)}
    return Call("POST", "/api/admin/products", {**body, "stock": stock, "description": description})


def set_stock(sku: str, stock: int) -> Call:
    """(As an admin.) Set a variant's stock."""
    return Call("PATCH", f"/api/admin/variants/{sku}", {"stock": stock})
