"""ShopperSession: lazily created, rotated at login, destroyed at logout."""

from __future__ import annotations

from myclothes.ports import SessionRecord
from myclothes.settings import Settings
from myclothes.web.session import ShopperSession

SETTINGS = Settings(session_idle_s=3600, session_absolute_s=7200)


def test_a_fresh_session_has_no_id_until_something_is_kept() -> None:
    session = ShopperSession(SETTINGS, None, now=1000.0)
    assert session.record is None and not session.dirty
    cart_id = session.ensure_cart_id()
    assert cart_id.startswith("g:") and session.dirty
    assert session.record is not None and len(session.record.id) >= 22
    assert session.ensure_cart_id() == cart_id


def test_login_rotates_the_id_and_keeps_flashes() -> None:
    record = SessionRecord("old-id", {"cart": "g:1", "flash": ["hi"]}, created_at=900.0, expires_at=4000.0)
    session = ShopperSession(SETTINGS, record, now=1000.0)
    session.login(42)
    assert session.record is not None
    assert session.record.id != "old-id"
    assert session.destroyed_ids == ["old-id"]
    assert session.customer_id == 42 and session.cart_id == "c:42"
    assert session.data["flash"] == ["hi"] and "cart" not in session.data


def test_logout_destroys() -> None:
    session = ShopperSession(SETTINGS, SessionRecord("id-1", {"uid": 1}, 900.0, 4000.0), now=1000.0)
    session.logout()
    assert session.record is None and session.destroyed_ids == ["id-1"] and session.cart_id is None


def test_expiry_is_idle_capped_by_absolute() -> None:
    session = ShopperSession(SETTINGS, SessionRecord("id", {}, created_at=0.0, expires_at=3600.0), now=5000.0)
    assert session.expires_at() == 7200.0
    young = ShopperSession(SETTINGS, SessionRecord("id", {}, created_at=4900.0, expires_at=8500.0), now=5000.0)
    assert young.expires_at() == 8600.0


def test_idle_expiry_slides_at_most_hourly() -> None:
    recent = ShopperSession(SETTINGS, SessionRecord("id", {}, 0.0, expires_at=1000.0 + 3600 - 60), now=1000.0)
    assert not recent.dirty
    stale = ShopperSession(SETTINGS, SessionRecord("id", {}, 0.0, expires_at=1000.0 + 3600 - 3700), now=1000.0)
    assert stale.dirty


def test_a_session_that_could_not_be_read_is_never_shadowed_by_a_new_one() -> None:
    session = ShopperSession(SETTINGS, None, now=1000.0)
    session.unavailable = True  # the store did not answer: the shopper's real session may still exist
    session.flash("Added to your cart.")
    assert session.record is None and not session.dirty  # no new id, so no cookie replacing theirs
    session.login(42)  # a login starts a session of its own, whatever the old one held
    assert session.record is not None and session.customer_id == 42
