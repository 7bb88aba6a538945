"""Shopper sessions: who is shopping and which cart is theirs. Login, logout, the guest-cart merge (and the late
merge of writes that reached the guest cart after it), and the cart-id policy, the same for pages and API.

A session is created only when it first has something to keep; an unknown, expired or forged id creates nothing.
The id is rotated at login and destroyed at logout. If the session store cannot be read, the shopper browses as a
guest and whatever needs to know who they are answers ``StoreUnavailable`` (503), never "log in first".
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from myclothes.domain.cart import CartLine
from myclothes.domain.customers import Customer
from myclothes.domain.errors import AuthenticationRequired, Forbidden, StoreUnavailable
from myclothes.ports import (
    AddedToCart,
    CartGuess,
    CommitPosition,
    Database,
    LateMerge,
    Notice,
    SessionGuard,
    SessionRecord,
    SessionState,
    SessionStore,
)
from myclothes.services.accounts import AccountService
from myclothes.services.cart import CartService
from myclothes.services.cart_ids import CartIds

log = logging.getLogger("myclothes.services.sessions")
LATE_MERGE_S = 30
REFRESH_AFTER_S = 3600  # slide the idle expiry at most once an hour per session
MAX_ID_LENGTH = 64
SESSION_UNAVAILABLE = "Your account is temporarily unavailable. Please try again in a few seconds."
CART_UNAVAILABLE = "Your cart is temporarily unavailable. Please try again in a moment."


def new_session_id() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


@dataclass(frozen=True, slots=True)
class SessionLifetime:
    idle_s: int
    absolute_s: int


@dataclass(frozen=True, slots=True)
class SessionCookie:
    """What the session cookie should become: a new value, or removed (empty value, max age 0)."""

    value: str
    max_age: int


class ShopperSession:
    """One request's view of the shopper's session."""

    def __init__(
        self,
        record: SessionRecord | None,
        now: float,
        lifetime: SessionLifetime,
        carts: CartIds,
        unavailable: bool = False,
    ) -> None:
        self.record = record
        self.now = now
        self.lifetime = lifetime
        self.carts = carts
        self.unavailable = unavailable  # the store could not be read: who this is, and their cart, are unknown
        self.dirty = False
        self.destroyed_ids: list[str] = []
        self.position: CommitPosition | None = None
        self.customer: Customer | None = None
        self.customer_loaded = False
        self.prefetched: CartGuess | None = None  # the cart's lines, read with the session (see ``known_lines``)
        self.guard: SessionGuard | None = None  # not read for this request: a cart write must carry this guard
        self.opened_id: str | None = None  # the id the request's cookie carried
        if record is not None and record.expires_at - lifetime.idle_s < now - REFRESH_AFTER_S:
            self.dirty = True  # idle expiry slides forward

    @property
    def state(self) -> SessionState:
        """What the session keeps (read only: change it through the methods below, which mark it for saving)."""
        return self.record.state if self.record is not None else SessionState()

    def known_lines(self, cart_id: str | None) -> list[CartLine] | None:
        """The lines of cart ``cart_id`` as read with the session in this request, if they were (None: read them)."""
        guess = self.prefetched
        return guess.lines if guess is not None and guess.cart_id == cart_id else None

    @property
    def customer_id(self) -> int | None:
        return self.state.customer_id

    @property
    def cart_id(self) -> str | None:
        return self.carts.cart_of(self.state)

    def _changing(self) -> SessionState | None:
        """The state to change, creating the session if needed; None while the stored one cannot be read (never
        shadow it with a new one)."""
        if self.record is None:
            if self.unavailable:
                return None
            self.record = SessionRecord(id=new_session_id(), created_at=self.now)
        self.dirty = True
        return self.record.state

    def ensure_cart_id(self) -> str:
        """This shopper's cart key, minting a guest cart if there is none yet."""
        cart_id = self.cart_id
        if cart_id is None:
            cart_id = f"g:{secrets.token_urlsafe(16)}"
            if (state := self._changing()) is not None:
                state.guest_cart = cart_id
        return cart_id

    def flash(self, message: str) -> None:
        if (state := self._changing()) is not None:
            state.flashes = [*state.flashes, message][-5:]

    def tell_problem(self, message: str, field: str | None = None) -> None:
        """Show ``message`` as an alert on the next page; ``field`` names the control it is about."""
        if (state := self._changing()) is not None:
            state.problem = Notice(message, field)

    def confirm_added(self, added: AddedToCart) -> None:
        if (state := self._changing()) is not None:
            state.added = added

    def take_notices(self) -> tuple[list[str], Notice | None, AddedToCart | None]:
        """The flashes, the problem and the add-to-cart confirmation, shown once."""
        state = self.state
        found = (state.flashes, state.problem, state.added)
        if self.record is not None and any(found):
            state.flashes, state.problem, state.added = [], None, None
            self.dirty = True
        return found

    def remember_position(self, lsn: str) -> None:
        if self.record is not None and self.record.state.db_lsn != lsn:  # never revive a destroyed session
            self.record.state.db_lsn = lsn
            self.dirty = True

    def login(self, customer_id: int) -> str | None:
        """Start an authenticated session under a fresh id (the old id dies; flashes are kept). Return the guest
        cart to merge into the account's, also remembered for ``LATE_MERGE_S``: a request that was still adding
        to it under the old id is merged on this session's next cart access."""
        guest_cart = self.carts.to_merge_at_login(self.state)
        if self.record is not None:
            self.destroyed_ids.append(self.record.id)
        state = SessionState(customer_id=customer_id, flashes=self.state.flashes)
        if guest_cart:
            state.late_merge = LateMerge(guest_cart, self.now + LATE_MERGE_S)
        self.record = SessionRecord(id=new_session_id(), state=state, created_at=self.now)
        self.dirty = True
        self.customer_loaded = False
        return guest_cart

    def late_merge_source(self) -> str | None:
        """The guest cart merged at login, while late writes to it may still arrive; None afterwards."""
        pending = self.state.late_merge
        if pending is None:
            return None
        if pending.until < self.now:
            self.state.late_merge = None
            self.dirty = True
            return None
        return pending.cart_id

    def logout(self) -> None:
        if self.record is not None:
            self.destroyed_ids.append(self.record.id)
        self.record = None
        self.dirty = True
        self.customer, self.customer_loaded = None, True

    def logged_in_at(self) -> float:
        """When this session was started (a login rotates the id and starts a new record)."""
        return self.record.created_at if self.record is not None else 0.0

    def expires_at(self) -> float:
        assert self.record is not None
        return min(self.now + self.lifetime.idle_s, self.record.created_at + self.lifetime.absolute_s)


@dataclass(frozen=True, slots=True)
class SessionService:
    """Opens and saves sessions, and runs what they are for: the current customer, login, logout, the cart."""

    store: SessionStore
    cart_ids: CartIds
    lifetime: SessionLifetime
    accounts: AccountService
    carts: CartService
    database: Database  # read-your-writes: the session keeps its newest commit's position
    clock: Callable[[], float] = time.time

    async def open(self, session_id: str | None, with_cart: bool = False, guarded: bool = False) -> ShopperSession:
        """The session for the id the shopper's cookie carries, and read-your-writes from its last commit.

        ``with_cart`` (a request that will show the cart or its count): when the store can, the cart's lines are
        read with the session in one round trip and kept for this request if the cart-id policy names that cart
        and no late merge is pending (``ShopperSession.known_lines``).

        ``guarded`` (a request that only writes to the cart, through ``ShopperCart``): when the store keeps a copy
        of the session, the copy is used without a round trip and the cart write carries its guard
        (``SessionGuard``); never for a session with a login merge pending (that merge writes unguarded)."""
        record, unavailable, guess, guard = None, False, None, None
        if session_id and len(session_id) <= MAX_ID_LENGTH:
            try:
                load_with_cart = getattr(self.store, "load_with_cart", None) if with_cart else None
                load_guarded = getattr(self.store, "load_guarded", None) if guarded and not with_cart else None
                if load_guarded is not None:
                    record, guard = await load_guarded(session_id, self.clock())
                    if record is not None and record.state.late_merge is not None and guard is not None:
                        record, guard = await self.store.load(session_id, self.clock()), None
                elif load_with_cart is not None:
                    record, guess = await load_with_cart(session_id, self.clock())
                else:
                    record = await self.store.load(session_id, self.clock())
            except StoreUnavailable:
                log.warning("session store unavailable: serving as a guest")
                unavailable = True
        session = ShopperSession(record, self.clock(), self.lifetime, self.cart_ids, unavailable)
        if guess is not None and session.state.late_merge is None and guess.cart_id == session.cart_id:
            session.prefetched = guess
        session.guard, session.opened_id = guard, session_id
        session.position = self.database.track_session_lsn(session.state.db_lsn)
        return session

    async def reload(self, session: ShopperSession) -> None:
        """Read a guarded session for real (its guard failed: the stored session changed) and start over from it."""
        fresh = await self.open(session.opened_id)
        session.__dict__.update(fresh.__dict__)

    async def save(self, session: ShopperSession, had_cookie: bool) -> SessionCookie | None:
        """Keep what changed; return what the cookie should become (None: leave it as it is).

        A guarded session whose copy no write confirmed (the request failed before its cart write, or the write was
        refused) is read for real first and only this request's notices are carried over: a copy is never saved
        over the stored session, which may have been logged out or changed by another process meanwhile."""
        if session.guard is not None and session.dirty:
            await self._confirm(session)
        if session.position is not None and session.position.lsn:
            session.remember_position(session.position.lsn)
        try:
            for old_id in session.destroyed_ids:
                await self.store.delete(old_id)
            if session.record is not None and session.dirty:
                session.record.expires_at = session.expires_at()
                await self.store.save(session.record)
        except StoreUnavailable:
            log.warning("session store unavailable: session not saved")
            return None
        if session.record is not None and session.dirty:
            max_age = int(session.record.created_at + self.lifetime.absolute_s - session.now)
            return SessionCookie(session.record.id, max_age)
        stale_cookie = had_cookie and not session.unavailable
        if session.record is None and (session.destroyed_ids or stale_cookie):
            return SessionCookie("", 0)
        return None

    async def _confirm(self, session: ShopperSession) -> None:
        state = session.state
        notices = state.flashes, state.problem, state.added
        await self.reload(session)
        if session.record is not None and any(notices):
            fresh = session.record.state
            fresh.flashes, fresh.problem, fresh.added = notices
            session.dirty = True

    async def customer(self, session: ShopperSession) -> Customer | None:
        """The logged-in customer, or None (also while the session store cannot be read: browse as a guest)."""
        if not session.customer_loaded:
            customer_id = session.customer_id
            session.customer = await self.accounts.customer(customer_id) if customer_id else None
            session.customer_loaded = True
            if customer_id and session.customer is None:
                session.logout()  # the account is gone
            elif session.customer is not None and session.logged_in_at() < session.customer.sessions_valid_from:
                session.logout()  # the password changed since this login (on another device)
        return session.customer

    async def require_customer(self, session: ShopperSession) -> Customer:
        """The logged-in customer; ``StoreUnavailable`` while who this is cannot be known."""
        customer = await self.customer(session)
        if customer is None:
            if session.unavailable:
                raise StoreUnavailable(SESSION_UNAVAILABLE)
            raise AuthenticationRequired("log in first")
        return customer

    async def require_admin(self, session: ShopperSession) -> Customer:
        customer = await self.require_customer(session)
        if not customer.is_admin:
            raise Forbidden("admins only")
        return customer

    async def login(self, session: ShopperSession, customer: Customer) -> list[str]:
        """Log ``customer`` in: rotate the session id, merge the guest cart; return what the merge changed."""
        guest_cart = session.login(customer.id)
        session.customer, session.customer_loaded = customer, True
        target = session.cart_id
        if guest_cart is None or target is None:
            return []
        return await self.carts.merge(guest_cart, target)

    async def change_password(self, session: ShopperSession, current: str, new: str, ip: str) -> None:
        """A new password for the logged-in customer: every other session of theirs ends, this one goes on
        under a fresh id."""
        customer = await self.require_customer(session)
        changed = await self.accounts.change_password(customer, current, new, ip, at=session.now)
        session.login(changed.id)
        session.customer, session.customer_loaded = changed, True

    async def logout(self, session: ShopperSession) -> None:
        """The session dies; the policy says whether the cart is emptied too."""
        cart_id = self.cart_ids.to_empty_at_logout(session.state)
        if cart_id is not None:
            await self.carts.clear(cart_id)
        session.logout()

    async def cart_id(self, session: ShopperSession) -> str | None:
        """This shopper's cart key, if they have a cart; finishes a login merge that late guest writes reached."""
        if session.unavailable:
            raise StoreUnavailable(CART_UNAVAILABLE)
        source = session.late_merge_source()
        target = session.cart_id
        if source and target and source != target:
            for message in await self.carts.merge(source, target):
                session.flash(message)
        return target

    async def writable_cart_id(self, session: ShopperSession) -> str:
        """This shopper's cart key, creating a guest cart if there is none yet."""
        return await self.cart_id(session) or session.ensure_cart_id()
