"""Health, readiness, metrics, OpenAPI, and error shapes: never a 500 or a traceback for bad input."""

from __future__ import annotations

import subprocess
import sys

from tests.support.server import ShopServer

from myclothes.client import ShopClient


def test_health_and_readiness(client: ShopClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["checks"]["database_primary"] == "ok" and body["checks"]["cart_store"] == "ok"
    assert body["can_write"] is True
    assert client.get("/readyz/write").status_code == 200


def test_metrics_use_the_documented_names(client: ShopClient, skus: list[str]) -> None:
    client.get("/api/products")
    client.add(skus[0])
    text = client.get("/metrics").text
    assert 'myclothes_http_requests_total{route="/api/products",status="200"}' in text
    assert "myclothes_http_request_seconds_bucket" in text
    assert 'myclothes_db_queries_total{role="primary"}' in text
    assert "myclothes_cache_requests_total" in text


def test_openapi_documents_the_api(client: ShopClient) -> None:
    schema = client.get("/schema/openapi.json").json()
    for path in ("/api/products", "/api/cart/items", "/api/checkout", "/api/account/addresses/{address_id}"):
        assert path in schema["paths"], path
    assert not any(p.startswith("/account/") or p == "/" for p in schema["paths"])


def test_errors_never_leak_tracebacks(client: ShopClient) -> None:
    probes = [
        ("GET", "/api/orders/not-a-number"),
        ("GET", "/api/account/addresses/99999999999999999999999"),
        ("GET", "/products?page=-5"),
        ("GET", "/products?min_price=1e999"),
        ("GET", "/images/" + "x" * 100 + "/red.svg"),
        ("POST", "/api/auth/login"),
        ("PUT", "/api/cart/items/ABC"),
        ("DELETE", "/api/products"),
    ]
    for method, path in probes:
        response = client.send(method, path, content=b"[1,2", headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (method, path, response.status_code, response.text[:200])
        assert "Traceback" not in response.text


def test_html_errors_are_friendly_pages(client: ShopClient) -> None:
    page = client.get("/definitely/not/here")
    assert page.status_code == 404
    assert "Page not found" in page.text and "Back to the shop" in page.text


def test_pages_escape_user_input(client: ShopClient) -> None:
    page = client.get("/products", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_serve_refuses_bad_settings_with_a_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = ShopServer(tmp_path, {"MYCLOTHES_CART_STORE": "floppy"})
    result = subprocess.run(
        [sys.executable, "-m", "myclothes.cli", "serve", "--port", str(server.port)],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "MYCLOTHES_CART_STORE must be one of" in result.stderr
    assert "Traceback" not in result.stderr
