"""Server-side sessions: a random id (256 bits) in an HttpOnly, SameSite=Lax cookie; the state in a SessionStore.

An unknown, expired or forged id is ignored and creates nothing: a new id is minted only when the session first
has something to keep. The id is rotated at login and destroyed at logout.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from myclothes.domain.errors import StoreUnavailable
from myclothes.ports import ClientStateCarrier, SessionRecord, SessionStore
from myclothes.settings import Settings

log = logging.getLogger("myclothes.web.session")
SESSION_COOKIE = "myclothes_session"
POSITION_KEY = "db_lsn"  # the session's newest database commit (read-your-writes)
BROWSER_CART = "browser"  # with the cookie store the cart is the browser's, whoever is logged in
LATE_MERGE_S = 30
REFRESH_AFTER_S = 3600  # slide the idle expiry at most once an hour per session


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


class ShopperSession:
    """One request's view of the shopper's session."""

    def __init__(
        self, settings: Settings, record: SessionRecord | None, now: float, cart_per_browser: bool = False
    ) -> None:
        self.settings = settings
        self.record = record
        self.now = now
        self.cart_per_browser = cart_per_browser
        self.unavailable = False  # the session store could not be read: who this is, and their cart, are unknown
        self.dirty = False
        self.destroyed_ids: list[str] = []
        if record is not None and record.expires_at - settings.session_idle_s < now - REFRESH_AFTER_S:
            self.dirty = True  # idle expiry slides forward

    @property
    def data(self) -> dict[str, Any]:
        return self.record.data if self.record else {}

    @property
    def customer_id(self) -> int | None:
        uid = self.data.get("uid")
        return int(uid) if uid is not None else None

    @property
    def cart_id(self) -> str | None:
        """The key of this shopper's cart: the account's when logged in, else the guest cart (if any)."""
        if self.cart_per_browser:
            return BROWSER_CART
        if self.customer_id is not None:
            return f"c:{self.customer_id}"
        cart = self.data.get("cart")
        return str(cart) if cart else None

    def ensure_cart_id(self) -> str:
        cart_id = self.cart_id
        if cart_id is None:
            cart_id = f"g:{secrets.token_urlsafe(16)}"
            self.set("cart", cart_id)
        return cart_id

    def set(self, key: str, value: Any) -> None:
        if self.record is None:
            if self.unavailable:
                return  # the shopper's session exists but cannot be read: never shadow it with a new one
            self.record = SessionRecord(id=new_session_id(), data={}, created_at=self.now)
        self.record.data[key] = value
        self.dirty = True

    def pop(self, key: str, default: Any = None) -> Any:
        if self.record is None or key not in self.record.data:
            return default
        self.dirty = True
        return self.record.data.pop(key)

    def flash(self, message: str) -> None:
        self.set("flash", [*self.data.get("flash", []), message][-5:])

    def login(self, customer_id: int) -> str | None:
        """Start an authenticated session under a fresh id; the old id dies.

        Returns the guest cart to merge into the account's. It is also remembered for a short while: a request
        that was still adding to the guest cart under the old id is merged on this session's next cart access.
        """
        guest_cart = self.cart_id if self.customer_id is None and not self.cart_per_browser else None
        if self.record is not None:
            self.destroyed_ids.append(self.record.id)
        flashes = self.data.get("flash", [])
        self.record = SessionRecord(id=new_session_id(), data={"uid": customer_id}, created_at=self.now)
        if flashes:
            self.record.data["flash"] = flashes
        if guest_cart:
            self.record.data["merged_from"] = [guest_cart, self.now + LATE_MERGE_S]
        self.dirty = True
        return guest_cart

    def late_merge_source(self) -> str | None:
        """The guest cart merged at login, while late writes to it may still arrive; None afterwards."""
        pending = self.data.get("merged_from")
        if not pending:
            return None
        if pending[1] < self.now:
            self.pop("merged_from")
            return None
        return str(pending[0])

    def logout(self) -> None:
        if self.record is not None:
            self.destroyed_ids.append(self.record.id)
        self.record = None
        self.dirty = True

    def expires_at(self) -> float:
        assert self.record is not None
        return min(self.now + self.settings.session_idle_s, self.record.created_at + self.settings.session_absolute_s)


class SessionMiddleware(ASGIMiddleware):
    """Loads the session before the handler and saves it (and sets the cookie) before the response starts.

    With a client-side cart store it also hands the request's cookies to the store and sends its ``Set-Cookie``.
    A request without a session cookie never touches the store. If the store cannot be read (each call is bounded,
    see ``carts/redis.py``) the shopper browses as a guest; what needs to know who they are answers 503.
    """

    def __init__(
        self,
        store: SessionStore,
        settings: Settings,
        client_state: ClientStateCarrier | None,
        track_position: Callable[[str | None], Any] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.client_state = client_state
        # Read-your-writes: the database hands back the position of this session's newest commit.
        self.track_position = track_position

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        now = time.time()
        cookies = _cookies(scope)
        session_id = cookies.get(SESSION_COOKIE)
        record = None
        unavailable = False
        if session_id and len(session_id) <= 64:
            try:
                record = await self.store.load(session_id, now)
            except StoreUnavailable:
                log.warning("session store unavailable: serving as a guest")
                session_id, unavailable = None, True
        session = ShopperSession(self.settings, record, now, cart_per_browser=self.client_state is not None)
        session.unavailable = unavailable
        scope["state"]["shopper"] = session
        stale_cookie = session_id is not None and record is None
        token = self.client_state.begin(cookies) if self.client_state else None
        position = self.track_position(session.data.get(POSITION_KEY)) if self.track_position else None

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                if (
                    position is not None
                    and position.lsn
                    and session.record is not None  # never revive a session that logout just destroyed
                    and position.lsn != session.data.get(POSITION_KEY)
                ):
                    session.set(POSITION_KEY, position.lsn)
                headers = MutableScopeHeaders.from_message(message)
                for cookie in await self._persist(session, stale_cookie):
                    headers.add("set-cookie", cookie.to_header(header=""))
                if self.client_state is not None:
                    for header in self.client_state.set_cookie_headers():
                        headers.add("set-cookie", header)
            await send(message)

        try:
            await next_app(scope, receive, send_wrapper)
        finally:
            if self.client_state is not None:
                self.client_state.end(token)

    async def _persist(self, session: ShopperSession, stale_cookie: bool) -> list[Cookie]:
        try:
            for old_id in session.destroyed_ids:
                await self.store.delete(old_id)
            if session.record is not None and session.dirty:
                session.record.expires_at = session.expires_at()
                await self.store.save(session.record)
        except StoreUnavailable:
            log.warning("session store unavailable: session not saved")
            return []
        if session.record is not None and session.dirty:
            max_age = int(session.record.created_at + self.settings.session_absolute_s - session.now)
            return [self._cookie(session.record.id, max_age)]
        if session.record is None and (session.destroyed_ids or stale_cookie):
            return [self._cookie("", 0)]
        return []

    def _cookie(self, value: str, max_age: int) -> Cookie:
        return Cookie(
            key=SESSION_COOKIE,
            value=value,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.settings.cookie_secure,
        )


def _cookies(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, cookie_value = part.strip().partition("=")
                if name and cookie_value and name not in found:
                    found[name] = cookie_value.strip('"')
    return found
