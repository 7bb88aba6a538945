"""The benchmark scenarios: the bare baseline, the store's floor (``/healthz``), the cached product, and each cart
store's add, set-quantity and view; plus the HTML add-to-cart form (POST, then the page it redirects to; and the
POST alone)."""

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


def _shoppers(url: str, lines_each: int) -> str:
    """The Lua preamble of a cart scenario: ``sessions`` (cookie, csrf), ``skus`` in stock, ``held`` (the line
    each session's cart was given) and the request counter ``i``."""
    sessions, skus = _prepare_sessions(url, lines_each)
    held = [skus[n % len(skus)] for n in range(SESSIONS)]
    return f"""
local sessions = {_lua_table(sessions)}
local skus = {{{",".join(json.dumps(s) for s in skus)}}}
local held = {{{",".join(json.dumps(s) for s in held)}}}
local i = 0
"""


def cart_add_script(url: str) -> str:
    return (
        _shoppers(url, 1)
        + """
request = function()
  i = i + 1
  local s = sessions[(i % #sessions) + 1]
  local sku = skus[(math.floor(i / #sessions) % #skus) + 1]
  return wrk.format("POST", "/api/cart/items",
    {["Content-Type"] = "application/json", ["Cookie"] = s.cookie, ["X-CSRFToken"] = s.csrf},
    '{"sku":"' .. sku .. '","quantity":1}')
end
"""
    )


def cart_set_script(url: str) -> str:
    """PUT a quantity on a line the cart already holds (1..5 in turn)."""
    return (
        _shoppers(url, 1)
        + """
request = function()
  i = i + 1
  local n = (i % #sessions) + 1
  local s = sessions[n]
  return wrk.format("PUT", "/api/cart/items/" .. held[n],
    {["Content-Type"] = "application/json", ["Cookie"] = s.cookie, ["X-CSRFToken"] = s.csrf},
    '{"quantity":' .. ((math.floor(i / #sessions) % 5) + 1) .. '}')
end
"""
    )


FORM_ADD = """
local function form_add(s, turn)  -- the add-to-cart form as a browser posts it: the CSRF token in a hidden field
  local sku = skus[(math.floor(turn / #sessions) % #skus) + 1]
  return wrk.format("POST", "/cart/add",
    {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = s.cookie},
    "sku=" .. sku .. "&quantity=1&_csrf_token=" .. s.csrf)
end
"""


def cart_form_script(url: str) -> str:
    """A browser's add to cart: the form POST (answered 303 to /cart), then the cart page it redirects to.

    Each pair is two requests: the scenario's requests/s counts both, so one add costs two of them."""
    return (
        _shoppers(url, 1)
        + FORM_ADD
        + """
request = function()
  i = i + 1
  local pair = math.floor(i / 2)
  local s = sessions[(pair % #sessions) + 1]
  if i % 2 == 1 then
    return wrk.format("GET", "/cart", {["Cookie"] = s.cookie})
  end
  return form_add(s, pair)
end
"""
    )


def cart_form_post_script(url: str) -> str:
    """The add-to-cart form's POST alone, answered 303 to /cart (the redirect not followed): the add itself, what a
    shop's "basket add" costs before the next page is shown."""
    return (
        _shoppers(url, 1)
        + FORM_ADD
        + """
request = function()
  i = i + 1
  return form_add(sessions[(i % #sessions) + 1], i)
end
"""
    )


def cart_view_script(url: str) -> str:
    return (
        _shoppers(url, 3)
        + """
request = function()
  i = i + 1
  local s = sessions[(i % #sessions) + 1]
  return wrk.format("GET", "/api/cart", {["Cookie"] = s.cookie})
end
"""
    )


PRODUCT_PATH = "/api/products/midnight-jersey-t-shirt-1"
LIST_PATH = "/api/products?category=hoodies&size=M&sort=price_asc&per_page=20"


def all_scenarios(redis_url: str) -> dict[str, Scenario]:
    scenarios = {"bare": Scenario("bare", "bare")}
    scenarios["healthz"] = Scenario("healthz", "store", {"MYCLOTHES_CART_STORE": "sql"}, path="/healthz")
    for cache in ("redis", "memory", "none"):
        env = {"MYCLOTHES_CACHE": cache, "MYCLOTHES_REDIS_URL": redis_url, "MYCLOTHES_CART_STORE": "sql"}
        scenarios[f"catalog-product:{cache}"] = Scenario(f"catalog-product:{cache}", "store", env, path=PRODUCT_PATH)
        scenarios[f"catalog-list:{cache}"] = Scenario(f"catalog-list:{cache}", "store", env, path=LIST_PATH)
    for store in STORES:
        env = {"MYCLOTHES_CART_STORE": store, "MYCLOTHES_REDIS_URL": redis_url}
        scenarios[f"cart-add:{store}"] = Scenario(f"cart-add:{store}", "store", env, cart_add_script)
        scenarios[f"cart-set:{store}"] = Scenario(f"cart-set:{store}", "store", env, cart_set_script)
        scenarios[f"cart-view:{store}"] = Scenario(f"cart-view:{store}", "store", env, cart_view_script)
        scenarios[f"cart-form:{store}"] = Scenario(f"cart-form:{store}", "store", env, cart_form_script)
        scenarios[f"cart-form-post:{store}"] = Scenario(f"cart-form-post:{store}", "store", env, cart_form_post_script)
    for name in ("catalog-product:redis", "cart-add:redis", "cart-add:sql"):  # 1 vs 2 workers on this machine
        one = scenarios[name]
        scenarios[f"{name}@2w"] = Scenario(f"{name}@2w", one.app, one.env, one.prepare, one.path, workers=2)
    return scenarios
