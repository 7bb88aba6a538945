"""The seams between the shop's use cases and the things that store its state.

Services depend on these protocols only; ``bootstrap`` picks the concrete backends from settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from myclothes.domain.cart import CartLine, MergeChange
from myclothes.domain.catalog import CatalogQuery, Category, Product, ProductPage, Variant
from myclothes.domain.customers import Address, AddressFields, Customer
from myclothes.domain.orders import Order, OrderLine


class CartStore(Protocol):
    """Where carts live. Every backend passes ``tests/contracts/test_cart_store.py``.

    A cart is a set of lines keyed by SKU. Writes are atomic per line: concurrent adds of the same SKU sum
    exactly. ``add`` refuses (``Conflict``) a line that would exceed 99 or a cart that would exceed
    ``MAX_LINES`` lines, leaving the cart as it was; the check and the write are one atomic operation.
    """

    name: str

    async def lines(self, cart_id: str) -> list[CartLine]:
        """The cart's lines, oldest first; an unknown cart is empty."""
        ...

    async def add(self, cart_id: str, sku: str, quantity: int, limit: int = 99) -> list[CartLine]:
        """Add ``quantity`` of ``sku`` (summing with an existing line) unless the line would pass ``limit``
        (at most 99; the service passes the stock when lower); return the cart."""
        ...

    async def set_quantity(self, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        """Set a line's quantity; 0 removes it; return the cart."""
        ...

    async def remove(self, cart_id: str, sku: str) -> list[CartLine]:
        """Remove a line if present; return the cart."""
        ...

    async def clear(self, cart_id: str) -> None:
        """Empty the cart."""
        ...

    async def merge(self, source_id: str, target_id: str) -> list[MergeChange]:
        """Atomically move every line of ``source_id`` into ``target_id`` (summed, capped at 99)."""
        ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached."""
        ...


@dataclass(slots=True)
class SessionRecord:
    """Server-side session state: who is logged in, which cart is theirs."""

    id: str
    data: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    expires_at: float = 0.0


class SessionStore(Protocol):
    """Where server-side sessions live, keyed by a random id carried in an HttpOnly cookie."""

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        """The live session with this id, or None (unknown, expired or forged ids create nothing)."""
        ...

    async def save(self, record: SessionRecord) -> None:
        """Create or replace the session."""
        ...

    async def delete(self, session_id: str) -> None:
        """Destroy the session; unknown ids are ignored."""
        ...


class Cache(Protocol):
    """A byte cache with per-entry TTL, used cache-aside for catalog reads."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def delete(self, *keys: str) -> None: ...


class CatalogRepository(Protocol):
    async def categories(self) -> list[Category]: ...

    async def search(self, query: CatalogQuery) -> ProductPage: ...

    async def product(self, slug: str) -> Product | None: ...

    async def variants(self, skus: Sequence[str]) -> dict[str, tuple[Variant, str, str]]:
        """SKU -> (variant, product name, product slug) for the SKUs that exist."""
        ...

    async def take_stock(self, sku: str, quantity: int) -> bool:
        """Atomically decrement stock if at least ``quantity`` is left; False when not."""
        ...

    async def create_product(
        self, category: str, name: str, description: str, price: int, sizes: list[str], colours: list[str], stock: int
    ) -> str:
        """Create a product with its variants; return its slug."""
        ...

    async def update_product(self, slug: str, name: str | None, description: str | None) -> bool: ...

    async def update_variant(self, sku: str, price: int | None, stock: int | None) -> str | None:
        """Change a variant's price and/or stock; return its product's slug, or None if unknown."""
        ...


class CustomerRepository(Protocol):
    async def by_email(self, email: str) -> tuple[Customer, str] | None:
        """The customer and their password hash."""
        ...

    async def by_id(self, customer_id: int) -> Customer | None: ...

    async def create(self, email: str, name: str, password_hash: str, is_admin: bool = False) -> Customer:
        """Raise ``Conflict`` if the e-mail is taken."""
        ...

    async def set_password(self, customer_id: int, password_hash: str) -> None: ...

    async def set_admin(self, customer_id: int, is_admin: bool) -> None: ...

    async def addresses(self, customer_id: int) -> list[Address]: ...

    async def address(self, customer_id: int, address_id: int) -> Address | None: ...

    async def add_address(self, customer_id: int, fields: AddressFields) -> Address: ...

    async def update_address(self, customer_id: int, address_id: int, fields: AddressFields) -> Address | None: ...

    async def delete_address(self, customer_id: int, address_id: int) -> bool: ...

    async def record_login_failure(self, email: str, ip: str, at: float) -> None: ...

    async def login_failures(self, email: str, ip: str, email_since: float, ip_since: float) -> tuple[int, int]:
        """Failures for this e-mail since ``email_since`` and for this IP since ``ip_since``."""
        ...


class OrderRepository(Protocol):
    async def by_idempotency_key(self, customer_id: int, key: str) -> Order | None: ...

    async def create(
        self, customer_id: int, key: str, lines: list[OrderLine], ship_to: dict[str, str], card_last4: str
    ) -> Order: ...

    async def history(self, customer_id: int) -> list[Order]: ...

    async def get(self, customer_id: int, order_id: int) -> Order | None: ...


class UnitOfWork(Protocol):
    """One transaction: on a writer it commits on success and rolls back on error."""

    @property
    def catalog(self) -> CatalogRepository: ...

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def orders(self) -> OrderRepository: ...


class CommitPosition(Protocol):
    """Where a shopper's newest commit is (read-your-writes): the web tier keeps ``lsn`` in the session."""

    lsn: str | None


class Database(Protocol):
    """Explicit read and write units: ``writer()`` goes to the primary, ``reader()`` may use a replica.

    When the primary cannot be reached, ``writer()`` raises ``StoreUnavailable`` (fast, never a driver error) and
    ``reader()`` keeps answering from a replica if one can.
    """

    def reader(self) -> AbstractAsyncContextManager[UnitOfWork]: ...

    def writer(self) -> AbstractAsyncContextManager[UnitOfWork]: ...

    @property
    def has_replicas(self) -> bool:
        """True when reads may be served by read replicas."""
        ...

    async def ping_primary(self) -> None:
        """Raise unless the primary answers and takes writes."""
        ...

    async def ping_replica(self) -> None:
        """Raise unless at least one read replica answers."""
        ...

    def track_session_lsn(self, lsn: str | None) -> CommitPosition:
        """Read-your-writes for this request, starting from the position the session stored; return the position
        ``writer()`` advances."""
        ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """False for a wrong password, and for ``None`` (unknown account) after the same work."""
        ...


class ClientStateCarrier(Protocol):
    """A store that keeps state in the client (the cookie cart store): the web tier hands it the request's cookies
    before the handler and sends what it returns as ``Set-Cookie`` headers."""

    def begin(self, cookies: dict[str, str]) -> Any: ...

    def set_cookie_headers(self) -> list[str]: ...

    def end(self, token: Any) -> None: ...
