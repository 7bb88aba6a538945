"""Where carts live."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from myclothes.domain.cart import CartLine, MergeChange
from myclothes.ports.sessions import SessionGuard


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

    async def ping(self) -> bool:
        """True when the store answers (a round trip to a remote store); raise if it cannot be reached."""
        ...


@runtime_checkable
class GuardedCartStore(CartStore, Protocol):
    """A cart store that can make a write conditional on the shopper's session being unchanged (Redis: the check
    and the write in one script, so the request needs one round trip in all)."""

    async def add_guarded(
        self, guard: SessionGuard, cart_id: str, sku: str, quantity: int, limit: int = 99
    ) -> list[CartLine]:
        """``add``, if the session is still what ``guard`` says; else nothing is written (``SessionChanged``)."""
        ...

    async def set_quantity_guarded(self, guard: SessionGuard, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        """``set_quantity``, if the session is still what ``guard`` says; else ``SessionChanged``."""
        ...


class ClientStateCarrier(Protocol):
    """A store that keeps state in the client (the cookie cart store): the web tier hands it the request's cookies
    before the handler and sends what it returns as ``Set-Cookie`` headers."""

    def begin(self, cookies: dict[str, str]) -> Any:
        """Start a request with these cookies; return a token for :meth:`end`."""
        ...

    def set_cookie_headers(self) -> list[str]:
        """The ``Set-Cookie`` values the request's changes need."""
        ...

    def end(self, token: Any) -> None:
        """Forget the request's state."""
        ...
