"""Server-side sessions: cookie flags, forged ids, rotation at login, logout, CSRF, restart survival."""

from __future__ import annotations

import sqlite3
import uuid

import httpx
from tests.support.postgres import psql_scalar
from tests.support.server import ShopServer

from myclothes.client import ShopClient


def _session_rows(server: ShopServer) -> int:
    if url := server.env.get("MYCLOTHES_DATABASE_URL"):
        return int(psql_scalar(url, "SELECT count(*) FROM sessions"))
    with sqlite3.connect(server.data_dir / "myclothes.db") as db:
        return int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])


def test_every_response_says_which_instance_served_it(client: ShopClient, live_server: ShopServer) -> None:
    for path in ("/", "/api/products", "/nope", "/api/nope", "/healthz", "/metrics"):
        assert client.get(path).headers["x-served-by"] == live_server.env["MYCLOTHES_INSTANCE"]


def test_session_cookie_is_random_httponly_and_lax(client: ShopClient, skus: list[str]) -> None:
    response = client.add(skus[0])
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith("myclothes_session="))
    value = header.split(";")[0].split("=", 1)[1]
    assert len(value) >= 22  # at least 128 bits, base64url
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
    csrf = client.http.get("/", headers={"Cookie": ""}).headers.get("set-cookie", "")
    assert "HttpOnly" in csrf and "SameSite=lax" in csrf


def test_browsing_creates_no_session(live_server: ShopServer) -> None:
    before = _session_rows(live_server)
    for _ in range(20):
        httpx.get(f"{live_server.url}/products")
    assert _session_rows(live_server) == before


def test_forged_session_ids_create_nothing(live_server: ShopServer, skus: list[str]) -> None:
    before = _session_rows(live_server)
    for _ in range(200):
        forged = uuid.uuid4().hex
        response = httpx.get(f"{live_server.url}/api/cart", cookies={"myclothes_session": forged})
        assert response.status_code == 200 and response.json()["count"] == 0
    assert _session_rows(live_server) == before


def test_a_forged_id_is_never_adopted(live_server: ShopServer, skus: list[str]) -> None:
    shop = ShopClient(live_server.url)
    planted = "attacker-chosen-id-0123456789"
    shop.http.cookies.set("myclothes_session", planted)
    response = shop.add(skus[0])
    assert response.status_code == 200
    issued = response.headers["set-cookie"].split("myclothes_session=")[1].split(";")[0]
    assert issued and issued != planted


def test_session_id_rotates_at_login_and_the_old_id_is_dead(
    client: ShopClient, live_server: ShopServer, skus: list[str]
) -> None:
    email = client.register()["email"]
    client.post("/api/auth/logout")
    client.add(skus[0])
    planted = client.session_id
    assert planted
    client.login(email)
    assert client.session_id != planted
    replay = httpx.get(f"{live_server.url}/api/account", cookies={"myclothes_session": planted})
    assert replay.status_code == 401


def test_logout_destroys_the_server_side_session(client: ShopClient, live_server: ShopServer) -> None:
    client.register()
    session_id = client.session_id
    response = client.post("/api/auth/logout")
    assert 'myclothes_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    stolen = httpx.get(f"{live_server.url}/api/account", cookies={"myclothes_session": session_id or ""})
    assert stolen.status_code == 401


def test_unsafe_requests_need_the_csrf_token(client: ShopClient, skus: list[str]) -> None:
    no_header = client.http.post("/api/cart/items", json={"sku": skus[0], "quantity": 1})
    assert no_header.status_code == 403
    assert "CSRF" in no_header.json()["detail"]
    wrong = client.http.post("/api/cart/items", json={"sku": skus[0], "quantity": 1}, headers={"X-CSRFToken": "x" * 80})
    assert wrong.status_code == 403
    form = client.http.post("/cart/add", data={"sku": skus[0], "quantity": "1"})
    assert form.status_code == 403 and "text/html" in form.headers["content-type"]


def test_carts_logins_and_orders_survive_a_restart(tmp_path, skus: list[str]) -> None:  # type: ignore[no-untyped-def]
    server = ShopServer(tmp_path)
    with server:
        guest = ShopClient(server.url)
        guest.add(skus[0], 2)
        customer = ShopClient(server.url)
        customer.register()
        customer.add(skus[1], 3)
        address_id = customer.add_address()["id"]
        order = customer.checkout(address_id, str(uuid.uuid4())).json()
        customer.add(skus[2], 1)
    with ShopServer(tmp_path, port=server.port):
        assert guest.get("/api/cart").json()["count"] == 2
        assert customer.get("/api/account").status_code == 200
        assert customer.get("/api/cart").json()["count"] == 1
        assert [o["id"] for o in customer.get("/api/orders").json()] == [order["id"]]
