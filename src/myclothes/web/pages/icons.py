"""Pictures for browsers and link previews: ``/favicon.ico``, ``/icon.svg``, PNG app icons, ``/manifest.webmanifest``
and ``/previews/{garment}/{colour}.png`` (the Open Graph image of a product)."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from typing import Any

from litestar import Response, get

from myclothes.domain.errors import NotFound
from myclothes.domain.garments import SHAPES
from myclothes.domain.icons import ACCENT, PAPER, favicon_ico, garment_png, icon_png, icon_svg

CACHED = {"Cache-Control": "public, max-age=86400"}
PREVIEW_SIZE = (1200, 630)  # what link previews (Open Graph) show in full
# name -> (size, maskable): what a page's <head> and the manifest point to.
APP_ICONS = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "maskable-512.png": (512, True),
    "apple-touch-icon.png": (180, True),
}


@cache
def _png(name: str) -> bytes:
    size, maskable = APP_ICONS[name]
    return icon_png(size, maskable=maskable)


@cache
def _favicon() -> bytes:
    return favicon_ico()


@get("/favicon.ico", include_in_schema=False, sync_to_thread=False)
def favicon() -> Response[bytes]:
    return Response(_favicon(), media_type="image/x-icon", headers=CACHED)


@get("/icon.svg", include_in_schema=False, sync_to_thread=False)
def svg_icon() -> Response[str]:
    return Response(icon_svg(), media_type="image/svg+xml", headers=CACHED)


@get("/apple-touch-icon.png", include_in_schema=False, sync_to_thread=False)
def apple_touch_icon() -> Response[bytes]:
    """Where iOS looks even without a ``<link>``: opaque, full-bleed (iOS rounds the corners itself)."""
    return Response(_png("apple-touch-icon.png"), media_type="image/png", headers=CACHED)


@get("/icons/{name:str}", include_in_schema=False, sync_to_thread=True)
def app_icon(name: str) -> Response[bytes]:
    if name not in APP_ICONS:
        raise NotFound("no such icon")
    return Response(_png(name), media_type="image/png", headers=CACHED)


@lru_cache(maxsize=128)
def _preview(garment: str, colour: str) -> bytes:
    return garment_png(garment, colour, *PREVIEW_SIZE)


@get("/previews/{garment:str}/{colour:str}", include_in_schema=False, sync_to_thread=True)
def garment_preview(garment: str, colour: str) -> Response[bytes]:
    """A product's picture as a PNG (``/previews/hoodie/navy.png``): link previews do not show SVG."""
    name = colour.removesuffix(".png")
    if garment not in SHAPES or not colour.endswith(".png") or not 0 < len(name) <= 30:
        raise NotFound("no such image")
    return Response(_preview(garment, name.lower()), media_type="image/png", headers=CACHED)


def manifest_document() -> dict[str, Any]:
    return {
        "name": "MyClothes",
        "short_name": "MyClothes",
        "description": "Clothes for every day: pick a size and colour, fill a cart, check out.",
        "start_url": "/",
        "scope": "/",
        "display": "minimal-ui",
        "background_color": PAPER,
        "theme_color": ACCENT,
        "icons": [
            {"src": "/icon.svg", "sizes": "any", "type": "image/svg+xml"},
            {"src": "/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }


@get("/manifest.webmanifest", include_in_schema=False, sync_to_thread=False)
def manifest() -> Response[str]:
    return Response(json.dumps(manifest_document()), media_type="application/manifest+json", headers=CACHED)


handlers = [favicon, svg_icon, apple_touch_icon, app_icon, garment_preview, manifest]
