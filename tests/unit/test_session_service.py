"""SessionService: the same login, logout, merge and cookie decisions for pages and API, against in-memory stores."""

from __future__ import annotations

import pytest
from tests.unit.fakes import FakeDatabase

from myclothes.carts.memory import MemoryCartStore
from myclothes.domain.cart import CartLine
from myclothes.domain.customers import Customer
from myclothes.domain.errors import AuthenticationRequired, StoreUnavailable
from myclothes.ports import CartGuess, LateMerge, SessionRecord, SessionState
from myclothes.services.cart import CartService
from myclothes.services.cart_ids import AccountCarts, BrowserCarts, CartIds
from myclothes.services.sessions import SessionCookie, SessionLifetime, SessionService
from myclothes.sessions.memory import MemorySessionStore

ADA = Customer(1, "ada@example.com", "Ada")


class Accounts:
    async def customer(self, customer_id: int) -> Customer | None:
        return ADA if customer_id == ADA.id else None


class DownStore:
    async def load(self, session_id: str, now: float) -> SessionRecord | None:
        raise StoreUnavailable("down")

    async def save(self, record: SessionRecord) -> None:
        raise StoreUnavailable("down")

    async def delete(self, session_id: str) -> None:
        raise StoreUnavailable("down")


def service(cart_ids: CartIds | None = None, store: object | None = None) -> tuple[SessionService, MemoryCartStore]:
    database = FakeDatabase()
    database.catalog.put("TEE-M", price=1500, stock=50)
    carts = MemoryCartStore()
    sessions = SessionService(
        store or MemorySessionStore(),  # type: ignore[arg-type]
        cart_ids or AccountCarts(),
        SessionLifetime(3600, 7200),
        Accounts(),  # type: ignore[arg-type]
        CartService(carts, database),  # type: ignore[arg-type]
        database,  # type: ignore[arg-type]
    )
    return sessions, carts


async def test_a_guest_cart_is_merged_at_login_and_the_cookie_carries_the_new_id() -> None:
    sessions, carts = service()
    guest = await sessions.open(None)
    await carts.add(await sessions.writable_cart_id(guest), "TEE-M", 2)
    first = await sessions.save(guest, had_cookie=False)
    assert first is not None and first.max_age == 7200

    again = await sessions.open(first.value)
    merged = await sessions.login(again, ADA)
    assert merged and await sessions.cart_id(again) == "c:1"
    cookie = await sessions.save(again, had_cookie=True)
    assert cookie is not None and cookie.value != first.value
    assert (await sessions.open(first.value)).record is None  # the guest id died at login
    assert [line.quantity for line in await carts.lines("c:1")] == [2]


async def test_a_late_write_to_the_guest_cart_is_merged_on_the_next_cart_access() -> None:
    sessions, carts = service()
    guest = await sessions.open(None)
    guest_cart = await sessions.writable_cart_id(guest)
    await sessions.login(guest, ADA)
    await carts.add(guest_cart, "TEE-M", 1)  # a request still running under the old id
    assert await sessions.cart_id(guest) == "c:1"
    assert [line.quantity for line in await carts.lines("c:1")] == [1] and guest.state.flashes


async def test_an_unknown_cookie_is_cleared_and_an_untouched_session_sets_no_cookie() -> None:
    sessions, _carts = service()
    assert await sessions.save(await sessions.open("forged"), had_cookie=True) == SessionCookie("", 0)
    assert await sessions.save(await sessions.open(None), had_cookie=False) is None


async def test_logout_empties_a_browser_cart_but_never_an_account_cart() -> None:
    for cart_ids, emptied in ((BrowserCarts(), True), (AccountCarts(), False)):
        sessions, carts = service(cart_ids)
        session = await sessions.open(None)
        await sessions.login(session, ADA)
        cart_id = await sessions.writable_cart_id(session)
        await carts.add(cart_id, "TEE-M", 1)
        await sessions.logout(session)
        assert (await carts.lines(cart_id) == []) is emptied
        assert await sessions.customer(session) is None


async def test_while_the_store_cannot_be_read_who_this_is_is_unknown_not_absent() -> None:
    sessions, _carts = service(store=DownStore())
    session = await sessions.open("some-id")
    assert session.unavailable and await sessions.customer(session) is None
    with pytest.raises(StoreUnavailable):
        await sessions.require_customer(session)
    with pytest.raises(StoreUnavailable):
        await sessions.cart_id(session)
    assert await sessions.save(session, had_cookie=True) is None  # the shopper's cookie is kept
    healthy, _ = service()
    with pytest.raises(AuthenticationRequired):
        await healthy.require_customer(await healthy.open(None))


class GuessingStore(MemorySessionStore):
    """A store that reads the cart with the session (as Redis does), guessing ``guess_cart``."""

    def __init__(self, guess_cart: str) -> None:
        super().__init__()
        self.guess_cart = guess_cart

    async def load_with_cart(self, session_id: str, now: float) -> tuple[SessionRecord | None, CartGuess | None]:
        return await self.load(session_id, now), CartGuess(self.guess_cart, [CartLine("TEE-M", 7)])


@pytest.mark.parametrize(
    ("guess_cart", "late_merge", "kept"),
    [("g:mine", False, True), ("g:someone-else", False, False), ("g:mine", True, False)],
)
async def test_a_cart_read_with_the_session_is_used_only_for_the_cart_the_policy_names(
    guess_cart: str, late_merge: bool, kept: bool
) -> None:
    store = GuessingStore(guess_cart)
    sessions, _ = service(store=store)
    state = SessionState(guest_cart="g:mine", late_merge=LateMerge("g:old", 9e9) if late_merge else None)
    await store.save(SessionRecord("s1", state, created_at=1.0, expires_at=9e9))
    shopper = await sessions.open("s1", with_cart=True)
    assert (shopper.known_lines("g:mine") == [CartLine("TEE-M", 7)]) is kept
    assert shopper.known_lines("g:other") is None
    assert (await sessions.open("s1")).known_lines("g:mine") is None  # only asked for
