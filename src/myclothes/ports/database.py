"""The relational database: repositories, units of work, explicit reader and writer units."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import NamedTuple, Protocol

from myclothes.domain.catalog import CatalogQuery, Category, Product, ProductPage, VariantListing
from myclothes.domain.customers import Address, AddressFields, Customer
from myclothes.domain.orders import Order, OrderLine


class LoginFailures(NamedTuple):
    by_email: int  # failed logins to this account, from anywhere
    by_email_and_ip: int  # ... from this client address
    by_ip: int  # failed logins from this client address, to any account


class CatalogRepository(Protocol):
    async def categories(self) -> list[Category]: ...

    async def search(self, query: CatalogQuery) -> ProductPage: ...

    async def product(self, slug: str) -> Product | None: ...

    async def variants(self, skus: Sequence[str]) -> dict[str, VariantListing]:
        """SKU -> the variant with its product's name and slug, for the SKUs that exist."""
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

    async def set_password(
        self, customer_id: int, password_hash: str, sessions_valid_from: float | None = None
    ) -> None:
        """``sessions_valid_from``: sessions logged in before it end (a password change)."""
        ...

    async def set_admin(self, customer_id: int, is_admin: bool) -> None: ...

    async def addresses(self, customer_id: int) -> list[Address]: ...

    async def address(self, customer_id: int, address_id: int) -> Address | None: ...

    async def add_address(self, customer_id: int, fields: AddressFields) -> Address: ...

    async def update_address(self, customer_id: int, address_id: int, fields: AddressFields) -> Address | None: ...

    async def delete_address(self, customer_id: int, address_id: int) -> bool: ...

    async def record_login_failure(self, email: str, ip: str, at: float) -> int:
        """Count an attempt as failed (recorded before the password is checked); its id, to forget it on success."""
        ...

    async def forget_login_failure(self, failure_id: int) -> None: ...

    async def record_registration(self, ip: str, at: float) -> None:
        """Count a registration attempt from ``ip`` (before its password is hashed)."""
        ...

    async def registrations_from(self, ip: str, since: float) -> int: ...

    async def login_failures(self, email: str, ip: str, email_since: float, ip_since: float) -> LoginFailures:
        """Failures for this e-mail (from anywhere, and from this IP) since ``email_since``, and for this IP
        (any e-mail) since ``ip_since``."""
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

    async def dispose(self) -> None:
        """Stop background work and close every connection."""
        ...
