"""What browsers, search engines and link previews read before the page: language, a title that says where you
are, a description per page (a product's from the product), Open Graph on product pages, and icons drawn by our code
(favicon, SVG icon, home-screen PNGs, web app manifest) that load without a console error."""

from __future__ import annotations

import json
import struct
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from tests.support.server import ShopServer

pytestmark = pytest.mark.browser


class Head(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang = ""
        self.title = ""
        self.meta: dict[str, str] = {}
        self.links: dict[str, list[dict[str, str]]] = {}
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "html":
            self.lang = values.get("lang", "")
        elif tag == "title":
            self._in_title = True
        elif tag == "meta" and ("name" in values or "property" in values):
            self.meta[values.get("name") or values["property"]] = values.get("content", "")
        elif tag == "link":
            self.links.setdefault(values.get("rel", ""), []).append(values)

    def handle_endtag(self, tag: str) -> None:
        self._in_title = self._in_title and tag != "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def png_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type of a PNG (2 = RGB, 6 = RGBA)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    width, height, _depth, colour_type = struct.unpack(">IIBB", data[16:26])
    return width, height, colour_type


@pytest.fixture(scope="module")
def product(live_server: ShopServer) -> dict[str, Any]:
    slug = httpx.get(f"{live_server.url}/api/products", params={"category": "hoodies"}).json()["items"][0]["slug"]
    return dict(httpx.get(f"{live_server.url}/api/products/{slug}").json())


def head_of(url: str) -> Head:
    return Head(httpx.get(url).text)


def test_every_page_has_a_language_a_title_saying_where_you_are_and_a_description(
    live_server: ShopServer, product: dict[str, Any]
) -> None:
    base = live_server.url
    expected = {
        "/": "Clothes for every day · MyClothes",
        "/products": "All products · Shop · MyClothes",
        "/products?category=hoodies": "Hoodies · Shop · MyClothes",
        "/products?page=2": "Page 2 · All products · Shop · MyClothes",
        "/products?q=linen": "Search “linen” · All products · Shop · MyClothes",
        f"/products/{product['slug']}": f"{product['name']} · Hoodies · MyClothes",
        "/cart": "Your cart · MyClothes",
        "/account/login": "Log in · MyClothes",
        "/account/register": "Create an account · MyClothes",
        "/products/no-such-product": "Page not found · MyClothes",
    }
    descriptions = set()
    for path, title in expected.items():
        head = head_of(base + path)
        assert head.lang == "en", path
        assert head.title == title, path
        description = head.meta.get("description", "")
        assert 50 <= len(description) <= 320, (path, description)
        descriptions.add(description)
    assert len(descriptions) == len(expected), "every page says something of its own"


def test_a_product_page_describes_the_product_and_has_open_graph_tags(
    live_server: ShopServer, product: dict[str, Any]
) -> None:
    url = f"{live_server.url}/products/{product['slug']}"
    head = head_of(url)
    assert head.meta["description"].startswith(f"{product['name']} (Hoodies, from $")
    assert product["description"][:60] in head.meta["description"]
    assert head.meta["og:type"] == "product"
    assert head.meta["og:title"] == product["name"]
    assert head.meta["og:description"] == product["description"]
    assert head.meta["og:url"] == url
    assert head.links["canonical"][0]["href"] == url
    assert head.meta["product:price:currency"] == "USD"
    assert head.meta["product:price:amount"] == f"{product['price'] / 100:.2f}"
    image = httpx.get(head.meta["og:image"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert png_size(image.content)[:2] == (int(head.meta["og:image:width"]), int(head.meta["og:image:height"]))


def test_favicon_and_app_icons_are_drawn_and_served(live_server: ShopServer) -> None:
    base = live_server.url
    head = head_of(base + "/")
    assert {link["href"] for link in head.links["icon"]} == {"/favicon.ico", "/icon.svg"}
    assert head.meta["theme-color"].startswith("#")

    ico = httpx.get(base + "/favicon.ico")
    assert ico.headers["content-type"] == "image/x-icon"
    reserved, kind, count = struct.unpack("<HHH", ico.content[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, _h, _c, _r, _planes, _bits, length, offset = struct.unpack(
            "<BBBBHHII", ico.content[6 + 16 * index : 22 + 16 * index]
        )
        assert png_size(ico.content[offset : offset + length])[:2] == (width, width)
        sizes.append(width)
    assert sizes == [16, 32, 48]

    svg = httpx.get(base + head.links["icon"][1]["href"])
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")

    touch = httpx.get(base + head.links["apple-touch-icon"][0]["href"])
    assert png_size(touch.content) == (180, 180, 2)  # opaque: iOS rounds the corners itself

    manifest = httpx.get(base + head.links["manifest"][0]["href"])
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    document = json.loads(manifest.text)
    assert document["name"] == "MyClothes" and document["start_url"] == "/"
    pngs = [icon for icon in document["icons"] if icon["type"] == "image/png"]
    assert {icon["sizes"] for icon in pngs} == {"192x192", "512x512"}
    assert any(icon.get("purpose") == "maskable" for icon in pngs)
    for icon in pngs:
        width, height, _ = png_size(httpx.get(base + icon["src"]).content)
        assert f"{width}x{height}" == icon["sizes"], icon


def test_pages_load_without_console_errors(page: Page, live_server: ShopServer, product: dict[str, Any]) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: errors.append(f"{request.url} failed"))
    page.on(
        "response",
        lambda response: errors.append(f"{response.url} {response.status}") if response.status >= 400 else None,
    )
    for path in ("/", "/products?category=hoodies", f"/products/{product['slug']}", "/cart"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    assert errors == []
