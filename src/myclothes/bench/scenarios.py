"""The benchmark scenarios: the bare baseline and each cart store's add and view."""

from __future__ import annotations

import json

import httpx

from myclothes.bench.harness import STORES, Scenario

SESSIONS = 64


def _prepare_sessions(url: str, lines_each: int) -> tuple[list[dict[str, str]], list[str]]:
    """Sessions (cookies + CSRF token) with a few cart lines each, and SKUs with plenty of stock."""
    slugs = [p["slug"] for p in httpx.get(f"{url}/api/products", params={"per_page": 40}).json()["items"]]
    skus = [
        v["sku"]
        for slug in slugs
        for v in httpx.get(f"{url}/api/products/{slug}").json()["variants"]
        if v["stock"] >= 50
    ][:50]
    sessions = []
    for n in range(SESSIONS):
        with httpx.Client(base_url=url) as client:
            client.get("/healthz")
            csrf = client.cookies["csrftoken"]
            for k in range(lines_each):
                client.post(
                    "/api/cart/items",
                    json={"sku": skus[(n + k) % len(skus)], "quantity": 1},
                    headers={"X-CSRFToken": csrf},
                )
            cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
            sessions.append({"cookie": cookie, "csrf": csrf})
    return sessions, skus


def _lua_table(rows: list[dict[str, str]]) -> str:
    return "{" + ",".join("{" + ",".join(f"{k}={json.dumps(v)}" for k, v in row.items()) + "}" for row in rows) + "}"


def cart_add_script(url: str) -> str:
    sessions, skus = _prepare_sessions(url, lines_each=1)
    return f"""
local sessions = {_lua_table(sessions)}
local skus = {{{",".join(json.dumps(s) for s in skus)}}}
local i = 0
request = function()
  i = i + 1
  local s = sessions[(i % #sessions) + 1]
  local sku = skus[(math.floor(i / #sessions) % #skus) + 1]
  return wrk.format("POST", "/api/cart/items",
    {{["Content-Type"] = "application/json", ["Cookie"] = s.cookie, ["X-CSRFToken"] = s.csrf}},
    '{{"sku":"' .. sku .. '","quantity":1}}')
end
"""


def cart_view_script(url: str) -> str:
    sessions, _ = _prepare_sessions(url, lines_each=3)
    return f"""
local sessions = {_lua_table(sessions)}
local i = 0
request = function()
  i = i + 1
  local s = sessions[(i % #sessions) + 1]
  return wrk.format("GET", "/api/cart", {{["Cookie"] = s.cookie}})
end
"""


PRODUCT_PATH = "/api/products/midnight-jersey-t-shirt-1"
LIST_PATH = "/api/products?category=hoodies&size=M&sort=price_asc&per_page=20"


def all_scenarios(redis_url: str) -> dict[str, Scenario]:
    scenarios = {"bare": Scenario("bare", "bare")}
    for cache in ("redis", "memory", "none"):
        env = {"MYCLOTHES_CACHE": cache, "MYCLOTHES_REDIS_URL": redis_url, "MYCLOTHES_CART_STORE": "sql"}
        scenarios[f"catalog-product:{cache}"] = Scenario(f"catalog-product:{cache}", "store", env, path=PRODUCT_PATH)
        scenarios[f"catalog-list:{cache}"] = Scenario(f"catalog-list:{cache}", "store", env, path=LIST_PATH)
    for store in STORES:
        env = {"MYCLOTHES_CART_STORE": store, "MYCLOTHES_REDIS_URL": redis_url}
        scenarios[f"cart-add:{store}"] = Scenario(f"cart-add:{store}", "store", env, cart_add_script)
        scenarios[f"cart-view:{store}"] = Scenario(f"cart-view:{store}", "store", env, cart_view_script)
    return scenarios
