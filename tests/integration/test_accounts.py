"""Register, log in, log out, login limits, cart merge, the address book and its privacy."""

from __future__ import annotations

import pytest
from tests.support.server import ShopServer

from myclothes.client import ADDRESS, PASSWORD, ShopClient, unique_email


def test_register_logs_in_and_shows_the_account(client: ShopClient) -> None:
    result = client.register(name="Grace Hopper")
    account = client.get("/api/account")
    assert account.status_code == 200
    assert account.json()["email"] == result["email"]
    assert account.json()["name"] == "Grace Hopper"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "X"}, "email"),
        ({"email": "a@example.com", "password": "short", "name": "X"}, "password"),
        ({"email": "b@example.com", "password": PASSWORD, "name": ""}, "name"),
        ({"email": "c@example.com", "name": "X"}, "password"),
    ],
)
def test_bad_registration_names_the_field(client: ShopClient, body: dict, field: str) -> None:
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_duplicate_email_is_refused(client: ShopClient) -> None:
    email = unique_email()
    client.register(email)
    other = ShopClient(client.http.base_url.__str__())
    response = other.post("/api/auth/register", json={"email": email.upper(), "password": PASSWORD, "name": "Y"})
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_unknown_email_and_wrong_password_get_the_same_error(client: ShopClient) -> None:
    email = unique_email()
    client.register(email)
    client.post("/api/auth/logout")
    wrong_password = client.login(email, "wrong password!!")
    unknown = client.login(unique_email(), PASSWORD)
    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.json()["detail"] == unknown.json()["detail"]


def test_failed_logins_are_limited_per_account(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"MYCLOTHES_LOGIN_ACCOUNT_MAX_PER_HOUR": "5"}
    with ShopServer(tmp_path, env) as server:
        shop = ShopClient(server.url)
        email = shop.register()["email"]
        shop.post("/api/auth/logout")
        for _ in range(5):
            assert shop.login(email, "wrong password!!").status_code == 401
        blocked = shop.login(email, PASSWORD)
        assert blocked.status_code == 429
        assert "Too many failed logins" in blocked.json()["detail"]
        assert blocked.headers["retry-after"]


def test_failed_logins_are_limited_per_ip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"MYCLOTHES_LOGIN_IP_MAX_PER_WINDOW": "3"}
    with ShopServer(tmp_path, env) as server:
        shop = ShopClient(server.url)
        for _ in range(3):
            assert shop.login(unique_email(), "whatever-password").status_code == 401
        blocked = shop.login(unique_email(), "whatever-password")
        assert blocked.status_code == 429
        assert "network" in blocked.json()["detail"]


def test_login_merges_the_guest_cart_and_says_what_changed(client: ShopClient, skus: list[str]) -> None:
    email = client.register()["email"]
    client.add(skus[0], 2)
    client.post("/api/auth/logout")
    assert client.get("/api/cart").json()["count"] == 0
    client.add(skus[0], 3)
    client.add(skus[1], 1)
    response = client.login(email)
    assert response.status_code == 200
    merged = response.json()["merged"]
    assert len(merged) == 2 and any("now 5" in line for line in merged)
    cart = {i["sku"]: i["quantity"] for i in client.get("/api/cart").json()["items"]}
    assert cart == {skus[0]: 5, skus[1]: 1}


def test_merge_caps_each_line_at_99(client: ShopClient, plentiful_skus: list[str]) -> None:
    sku = plentiful_skus[1]
    email = client.register()["email"]
    assert client.add(sku, 60).status_code == 200
    client.post("/api/auth/logout")
    client.add(sku, 50)
    merged = client.login(email).json()["merged"]
    assert "capped at 99" in merged[0]
    assert client.get("/api/cart").json()["items"][0]["quantity"] == 99


def test_cart_follows_the_customer_to_a_new_browser(
    client: ShopClient, skus: list[str], live_server: ShopServer
) -> None:
    email = client.register()["email"]
    client.add(skus[2], 2)
    other_browser = ShopClient(live_server.url)
    other_browser.login(email)
    assert other_browser.get("/api/cart").json()["count"] == 2


def test_address_book_add_edit_default_delete(client: ShopClient) -> None:
    client.register()
    first = client.add_address()
    assert first["is_default"] is True
    second = client.add_address(full_name="Charles Babbage", is_default=True)
    addresses = client.get("/api/account/addresses").json()
    assert [a["id"] for a in addresses if a["is_default"]] == [second["id"]]
    updated = client.put(f"/api/account/addresses/{first['id']}", json={**ADDRESS, "city": "Cambridge"}).json()
    assert updated["city"] == "Cambridge"
    assert client.delete(f"/api/account/addresses/{second['id']}").status_code == 204
    remaining = client.get("/api/account/addresses").json()
    assert [(a["id"], a["is_default"]) for a in remaining] == [(first["id"], True)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "Germany"}, "country"),
        ({"postal_code": ""}, "postal_code"),
        ({"line1": ""}, "line1"),
        ({"phone": "call me"}, "phone"),
        ({"full_name": ""}, "full_name"),
    ],
)
def test_bad_address_names_the_field(client: ShopClient, change: dict, field: str) -> None:
    client.register()
    response = client.post("/api/account/addresses", json={**ADDRESS, **change})
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_nobody_sees_or_touches_another_customers_address(client: ShopClient, live_server: ShopServer) -> None:
    client.register()
    mine = client.add_address()
    intruder = ShopClient(live_server.url)
    intruder.register()
    path = f"/api/account/addresses/{mine['id']}"
    assert intruder.get(path).status_code == 404
    assert intruder.put(path, json=ADDRESS).status_code == 404
    assert intruder.delete(path).status_code == 404
    assert intruder.form(f"/account/addresses/{mine['id']}/delete", {}).status_code == 404
    assert client.get(path).json()["line1"] == ADDRESS["line1"]


def test_account_pages_need_login(client: ShopClient) -> None:
    assert client.get("/api/account").status_code == 401
    assert client.get("/api/orders").status_code == 401
    page = client.get("/account")
    assert page.status_code == 302 and page.headers["location"].startswith("/account/login")


def test_register_and_login_forms(client: ShopClient) -> None:
    email = unique_email()
    response = client.form("/account/register", {"email": email, "password": PASSWORD, "name": "Form User"})
    assert response.status_code == 303
    assert "Form User" in client.get("/account").text
    client.form("/account/logout", {})
    bad = client.form("/account/login", {"email": email, "password": "nope nope nope"})
    assert bad.status_code == 401 and "E-mail or password is incorrect." in bad.text
    good = client.form("/account/login", {"email": email, "password": PASSWORD, "next": "/orders"})
    assert good.status_code == 303 and good.headers["location"] == "/orders"


def test_registration_form_errors_are_shown(client: ShopClient) -> None:
    page = client.form("/account/register", {"email": "nope", "password": PASSWORD, "name": "X"})
    assert page.status_code == 400
    assert "not a valid e-mail address" in page.text
