"""Changing the password: the current one is required, every other session of the account ends, this one goes on."""

from __future__ import annotations

from tests.support.server import ShopServer

from myclothes.client import PASSWORD, ShopClient

NEW_PASSWORD = "a brand new passphrase"


def test_a_password_change_logs_out_every_other_device_and_keeps_this_one(live_server: ShopServer) -> None:
    laptop, phone = ShopClient(live_server.url), ShopClient(live_server.url)
    email = laptop.register()["email"]
    assert phone.login(email).status_code == 200
    old_session = laptop.session_id
    changed = laptop.post("/api/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204, changed.text
    assert laptop.session_id != old_session  # a fresh id for the device that changed it
    assert laptop.get("/api/account").status_code == 200
    assert phone.get("/api/account").status_code == 401  # the other device is logged out
    assert ShopClient(live_server.url).login(email).status_code == 401  # the old password no longer works
    assert ShopClient(live_server.url).login(email, NEW_PASSWORD).status_code == 200


def test_a_wrong_current_password_changes_nothing_and_names_the_field(live_server: ShopServer) -> None:
    shopper = ShopClient(live_server.url)
    email = shopper.register()["email"]
    wrong = shopper.post(
        "/api/account/password", json={"current_password": "not it at all", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400 and "current_password" in wrong.json()["detail"]
    short = shopper.post("/api/account/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 400 and "new_password" in short.json()["detail"]
    assert ShopClient(live_server.url).login(email).status_code == 200  # still the old password
    anonymous = ShopClient(live_server.url)
    assert (
        anonymous.post(
            "/api/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        ).status_code
        == 401
    )


def test_the_password_page_changes_it_and_says_so(live_server: ShopServer) -> None:
    shopper, other = ShopClient(live_server.url), ShopClient(live_server.url)
    email = shopper.register()["email"]
    other.login(email)
    assert "Change your password" in shopper.get("/account/password").text
    problem = shopper.form("/account/password", {"current_password": "wrong wrong wrong", "new_password": NEW_PASSWORD})
    assert problem.status_code == 400 and "is not your current password" in problem.text
    done = shopper.form("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert "Your other devices are logged out" in shopper.get("/account").text
    assert other.get("/account").status_code in (302, 303)  # sent to log in
