"""Where shopper sessions live, and what they keep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import msgspec

from myclothes.domain.cart import CartLine


class Notice(msgspec.Struct, frozen=True):
    """A problem to show as an alert on the next page; ``field`` names the form control it is about."""

    message: str
    field: str | None = None


class AddedToCart(msgspec.Struct, frozen=True):
    """What the shopper just added, named on the next page with the way to the cart."""

    quantity: int
    name: str
    colour: str
    size: str
    in_cart: int
    cart_count: int


class LateMerge(msgspec.Struct, array_like=True):
    """The guest cart merged at login, and until when late writes to it are merged too."""

    cart_id: str
    until: float


class SessionState(msgspec.Struct, omit_defaults=True):
    """What a shopper's session keeps. Stored under short names (kept from the first release, so sessions
    survive an upgrade)."""

    customer_id: int | None = msgspec.field(default=None, name="uid")
    guest_cart: str | None = msgspec.field(default=None, name="cart")
    late_merge: LateMerge | None = msgspec.field(default=None, name="merged_from")
    flashes: list[str] = msgspec.field(default_factory=list, name="flash")
    problem: Notice | None = None
    added: AddedToCart | None = None
    db_lsn: str | None = None  # the session's newest database commit (read-your-writes)


class SessionRecord(msgspec.Struct):
    """A stored session: its id (the cookie's value), its state and its lifetime."""

    id: str
    state: SessionState = msgspec.field(default_factory=SessionState, name="data")
    created_at: float = 0.0
    expires_at: float = 0.0


class SessionStore(Protocol):
    """Where server-side sessions live, keyed by a random id carried in an HttpOnly cookie.

    Every backend passes ``tests/contracts/test_session_store.py``. A store call that cannot reach the backend
    raises ``StoreUnavailable``.
    """

    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        """The live session with this id, or None (unknown, expired or forged ids create nothing)."""
        ...

    async def save(self, record: SessionRecord) -> None:
        """Create or replace the session."""
        ...

    async def delete(self, session_id: str) -> None:
        """Destroy the session; unknown ids are ignored."""
        ...


@dataclass(frozen=True, slots=True)
class CartGuess:
    """The lines of the cart a stored session appears to point to, read with the session in one round trip. Only a
    guess: the session service uses it only when the cart-id policy names the same cart."""

    cart_id: str
    lines: list[CartLine]


@runtime_checkable
class CartPrefetchingSessionStore(SessionStore, Protocol):
    """A session store that can read a session and the cart it points to in one round trip (Redis: one script)."""

    async def load_with_cart(self, session_id: str, now: float) -> tuple[SessionRecord | None, CartGuess | None]:
        """``load``, plus the lines of the cart the session seems to point to (None when it points to none)."""
        ...


@dataclass(frozen=True, slots=True)
class SessionGuard:
    """A session as this process last read or wrote it. A cart write carrying the guard happens only if the stored
    session is still exactly ``value`` (so the cart-id policy, run on it, named the right cart); otherwise nothing is
    written and the store raises ``SessionChanged``."""

    key: str  # the session's key in the store that holds both the sessions and the carts
    value: bytes


class SessionChanged(Exception):
    """The stored session is no longer what the write's guard says: nothing was written; read it and try again."""


@runtime_checkable
class GuardedSessionStore(SessionStore, Protocol):
    """A session store that remembers the sessions this process last read or wrote (Redis), so a cart write can
    skip reading the session first and carry a guard instead: one round trip for the whole request."""

    async def load_guarded(self, session_id: str, now: float) -> tuple[SessionRecord | None, SessionGuard | None]:
        """The session as this process last saw it, without a round trip, and the guard a write must carry; when
        it has not seen the session (or its copy has expired), ``load`` and no guard."""
        ...
