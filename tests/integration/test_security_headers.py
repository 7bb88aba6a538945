"""Hardening over a real server: security headers everywhere, /metrics only for a direct scrape, the API docs UI
off by default, and the per-IP login limit keyed on the client behind a trusted proxy."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests.support.server import ShopServer

from myclothes.client import PASSWORD, ShopClient, unique_email


@pytest.mark.parametrize("path", ["/", "/products", "/api/products", "/api/cart", "/no-such-page", "/api/orders"])
def test_every_answer_carries_the_security_headers(live_server: ShopServer, path: str) -> None:
    response = httpx.get(f"{live_server.url}{path}")
    assert response.status_code in (200, 401, 404)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]


def test_pages_carry_no_inline_script(live_server: ShopServer, catalog: list[dict]) -> None:
    for path in ("/", "/products", f"/products/{catalog[0]['slug']}", "/cart", "/login"):
        html = httpx.get(f"{live_server.url}{path}").text
        scripts = html.split("<script")[1:]
        assert all(' src="/static/' in s.split(">")[0] or 'type="application/json"' in s for s in scripts), path


def test_metrics_answer_a_direct_scrape_but_never_one_relayed_by_a_proxy(live_server: ShopServer) -> None:
    assert httpx.get(f"{live_server.url}/metrics").status_code == 200
    relayed = httpx.get(f"{live_server.url}/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert relayed.status_code == 404


def test_the_openapi_document_is_served_and_the_docs_ui_only_on_request(live_server: ShopServer) -> None:
    assert httpx.get(f"{live_server.url}/schema/openapi.json").json()["info"]["title"] == "MyClothes"
    assert httpx.get(f"{live_server.url}/schema/swagger").status_code == 404


def test_the_login_limit_keys_on_the_client_behind_the_balancer_not_on_the_balancer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with ShopServer(tmp_path, {"MYCLOTHES_LOGIN_IP_MAX_PER_WINDOW": "3"}) as server:
        attacker, shopper = ShopClient(server.url), ShopClient(server.url)
        from_attacker = {"X-Forwarded-For": "198.51.100.66"}  # added by HAProxy (option forwardfor) on loopback
        for _ in range(3):
            response = attacker.post(
                "/api/auth/login", json={"email": unique_email(), "password": "wrong-password"}, headers=from_attacker
            )
            assert response.status_code == 401
        blocked = attacker.post(
            "/api/auth/login", json={"email": unique_email(), "password": "wrong-password"}, headers=from_attacker
        )
        assert blocked.status_code == 429
        other = shopper.post(
            "/api/auth/login",
            json={"email": unique_email(), "password": "wrong-password"},
            headers={"X-Forwarded-For": "203.0.113.5"},
        )
        assert other.status_code == 401  # another shopper behind the same balancer is not locked out


def _attempt(shop: ShopClient, email: str, password: str, address: str) -> int:
    response = shop.post(
        "/api/auth/login", json={"email": email, "password": password}, headers={"X-Forwarded-For": address}
    )
    return response.status_code


def test_an_attacker_cannot_lock_the_owner_out_of_their_account(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with ShopServer(tmp_path, {"MYCLOTHES_LOGIN_ACCOUNT_MAX_PER_HOUR": "5"}) as server:
        owner = ShopClient(server.url)
        email = owner.register()["email"]
        owner.post("/api/auth/logout")
        attacker = ShopClient(server.url)
        statuses = [_attempt(attacker, email, "guess guess guess", "198.51.100.66") for _ in range(8)]
        assert statuses == [401] * 5 + [429] * 3  # one address: 5 tries at this account
        for n in range(6):  # a botnet: one try each from many addresses puts the account under attack
            assert _attempt(attacker, email, "guess guess guess", f"203.0.113.{n + 1}") in (401, 429)
        assert _attempt(attacker, email, "guess guess guess", "203.0.113.1") == 429  # failed here before: refused
        assert _attempt(owner, email, PASSWORD, "192.0.2.10") == 200  # the owner, from a clean address, gets in


def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with ShopServer(tmp_path, {"MYCLOTHES_LOGIN_IP_MAX_PER_WINDOW": "5"}) as server:
        shop = ShopClient(server.url)
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(
                pool.map(lambda n: _attempt(shop, unique_email(), "guess guess guess", "198.51.100.9"), range(24))
            )
        assert statuses.count(401) <= 5 and statuses.count(429) >= 19, statuses


def test_one_address_gets_a_limited_number_of_registrations_and_another_is_not_affected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with ShopServer(tmp_path, {"MYCLOTHES_REGISTER_IP_MAX_PER_HOUR": "3"}) as server:
        spammer, newcomer = ShopClient(server.url), ShopClient(server.url)
        from_spammer = {"X-Forwarded-For": "198.51.100.77"}
        body = {"password": PASSWORD, "name": "Spam"}
        for _ in range(3):
            made = spammer.post("/api/auth/register", json={**body, "email": unique_email()}, headers=from_spammer)
            assert made.status_code == 201, made.text
        refused = spammer.post("/api/auth/register", json={**body, "email": unique_email()}, headers=from_spammer)
        assert refused.status_code == 429 and "new accounts" in refused.json()["detail"]
        welcome = newcomer.post(
            "/api/auth/register",
            json={**body, "email": unique_email()},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert welcome.status_code == 201
