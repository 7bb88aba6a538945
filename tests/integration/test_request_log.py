"""Request ids and structured logs over a real server: the id comes back in X-Request-ID and finds exactly one JSON
log line; the footer names the instance, zone, cart store and cache; "How this store works" draws the tiers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from tests.support.server import ShopServer


def _log_lines(server: ShopServer, request_id: str) -> list[dict[str, Any]]:
    found = []
    for line in Path(server.log_path).read_text().splitlines():
        if line.startswith("{") and request_id in line:
            found.append(json.loads(line))
    return found


def test_the_balancers_id_comes_back_and_finds_exactly_one_log_line(live_server: ShopServer) -> None:
    response = httpx.get(f"{live_server.url}/api/products", headers={"X-Request-ID": "lb-0A1B:2C3D_42"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "lb-0A1B:2C3D_42"
    [line] = _log_lines(live_server, "lb-0A1B:2C3D_42")
    assert line["event"] == "request" and line["method"] == "GET" and line["route"] == "/api/products"
    assert line["status"] == 200 and line["duration_ms"] >= 0 and line["level"] == "info"
    assert {"instance", "zone", "cart_store", "timestamp"} <= line.keys()


def test_an_id_that_is_not_one_is_replaced_and_unrouted_answers_are_named_and_logged(
    live_server: ShopServer,
) -> None:
    response = httpx.get(f"{live_server.url}/api/products", headers={"X-Request-ID": 'x" forged\\nline'})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    missing = httpx.get(f"{live_server.url}/no-such-page-at-all")
    assert missing.status_code == 404
    [line] = _log_lines(live_server, missing.headers["x-request-id"])
    assert line["route"] == "unmatched" and line["status"] == 404


def test_the_footer_and_the_how_it_works_page_show_the_architecture(live_server: ShopServer) -> None:
    home = httpx.get(f"{live_server.url}/")
    footer = home.text.split("<footer", 1)[1]
    assert home.headers["x-served-by"] in footer and "zone" in footer and "carts kept in" in footer
    assert home.headers["x-request-id"] in footer
    how = httpx.get(f"{live_server.url}/how-it-works")
    assert how.status_code == 200
    for tier in ("Load balancer", "Web tier", "Cart and session store", "Catalog cache", "Database"):
        assert f"<h2>{tier}</h2>" in how.text
    assert "SQLite" in how.text and "reached this process directly" in how.text
