"""The benchmark scenarios: the bare baseline and each cart store's add and view."""

from __future__ import annotations

import json

from myclothes.bench.harness import STORES, Scenario
from myclothes.client import ShopClient, in_stock_skus
from myclothes.client.cookies import cookie_header

SESSIONS = 64


def _prepare_sessions(url: str, lines_each: int) -> tuple[list[dict[str, str]], list[str]]:
    """Sessions (cookies + CSRF token) with a few cart lines each, and SKUs with plenty of stock."""
    skus = in_stock_skus(url, min_stock=50, products=40, most=50)
    sessions = []
    for n in range(SESSIONS):
        with ShopClient(url) as shop:
            for k in range(lines_each):
                shop.add(skus[(n + k) % len(skus)])
            sessions.append({"cookie": cookie_header(shop.http.cookies), "csrf": shop.csrf})
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
