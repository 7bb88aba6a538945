"""ShopperSession: lazily created, rotated at login, destroyed at logout."""

from __future__ import annotations

from myclothes.ports import LateMerge, SessionRecord, SessionState
from myclothes.services.cart_ids import AccountCarts, BrowserCarts
from myclothes.services.sessions import SessionLifetime, ShopperSession

LIFETIME = SessionLifetime(idle_s=3600, absolute_s=7200)


def session_of(record: SessionRecord | None, now: float) -> ShopperSession:
    return ShopperSession(record, now, LIFETIME, AccountCarts())


def test_a_fresh_session_has_no_id_until_something_is_kept() -> None:
    session = session_of(None, now=1000.0)
    assert session.record is None and not session.dirty
    cart_id = session.ensure_cart_id()
    assert cart_id.startswith("g:") and session.dirty
    assert session.record is not None and len(session.record.id) >= 22
    assert session.ensure_cart_id() == cart_id


def test_login_rotates_the_id_and_keeps_flashes() -> None:
    state = SessionState(guest_cart="g:1", flashes=["hi"])
    session = session_of(SessionRecord("old-id", state, created_at=900.0, expires_at=4000.0), now=1000.0)
    assert session.login(42) == "g:1"
    assert session.record is not None
    assert session.record.id != "old-id"
    assert session.destroyed_ids == ["old-id"]
    assert session.customer_id == 42 and session.cart_id == "c:42"
    assert session.state.flashes == ["hi"] and session.state.guest_cart is None
    assert session.state.late_merge == LateMerge("g:1", 1030.0)


def test_logout_destroys() -> None:
    session = session_of(SessionRecord("id-1", SessionState(customer_id=1), 900.0, 4000.0), now=1000.0)
    session.logout()
    assert session.record is None and session.destroyed_ids == ["id-1"] and session.cart_id is None


def test_expiry_is_idle_capped_by_absolute() -> None:
    session = session_of(SessionRecord("id", created_at=0.0, expires_at=3600.0), now=5000.0)
    assert session.expires_at() == 7200.0
    young = session_of(SessionRecord("id", created_at=4900.0, expires_at=8500.0), now=5000.0)
    assert young.expires_at() == 8600.0


def test_idle_expiry_slides_at_most_hourly() -> None:
    recent = session_of(SessionRecord("id", created_at=0.0, expires_at=1000.0 + 3600 - 60), now=1000.0)
    assert not recent.dirty
    stale = session_of(SessionRecord("id", created_at=0.0, expires_at=1000.0 + 3600 - 3700), now=1000.0)
    assert stale.dirty


def test_a_session_that_could_not_be_read_is_never_shadowed_by_a_new_one() -> None:
    session = session_of(None, now=1000.0)
    session.unavailable = True  # the store did not answer: the shopper's real session may still exist
    session.flash("Added to your cart.")
    assert session.record is None and not session.dirty  # no new id, so no cookie replacing theirs
    session.login(42)  # a login starts a session of its own, whatever the old one held
    assert session.record is not None and session.customer_id == 42


def test_the_late_merge_window_closes_after_30_seconds() -> None:
    state = SessionState(customer_id=7, late_merge=LateMerge("g:old", 1030.0))
    assert session_of(SessionRecord("id", state, 900.0, 4000.0), now=1020.0).late_merge_source() == "g:old"
    closed = session_of(SessionRecord("id", state, 900.0, 4000.0), now=1031.0)
    assert closed.late_merge_source() is None and closed.state.late_merge is None and closed.dirty


def test_a_browser_cart_stays_with_the_browser_at_login_and_is_emptied_at_logout() -> None:
    carts = BrowserCarts()
    session = ShopperSession(None, 1000.0, LIFETIME, carts)
    assert session.cart_id == "browser" and session.login(42) is None and session.cart_id == "browser"
    assert carts.to_empty_at_logout(session.state) == "browser"
    assert carts.to_empty_at_logout(SessionState()) is None  # a guest's logout empties nothing


def test_the_stored_state_keeps_its_short_names() -> None:
    import msgspec

    state = SessionState(customer_id=3, guest_cart="g:x", late_merge=LateMerge("g:x", 5.0), flashes=["hi"])
    assert msgspec.to_builtins(state) == {"uid": 3, "cart": "g:x", "merged_from": ["g:x", 5.0], "flash": ["hi"]}
