"""The product page's variant picker: what it shows (colour swatches, size buttons and their states) and what its
form means when it is posted (a colour and a size, resolved to a SKU on the server, so it works without JavaScript).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from myclothes.domain.cart import MAX_QUANTITY
from myclothes.domain.catalog import Product, Variant, format_price
from myclothes.domain.errors import Conflict, InvalidInput
from myclothes.domain.garments import colour_hex
from myclothes.services.catalog import CatalogService


@dataclass(frozen=True, slots=True)
class SizeOption:
    """One size button as it looks for the chosen colour."""

    size: str
    state: str  # in_stock | low | sold_out (also: not made in this colour)
    note: str  # what the button says under the size: "Sold out", "2 left", a price that differs

    def as_data(self) -> dict[str, str]:
        return {"state": self.state, "note": self.note}


@dataclass(frozen=True, slots=True)
class ColourOption:
    name: str
    hex: str
    sold_out: bool


@dataclass(frozen=True, slots=True)
class Picker:
    colours: list[ColourOption]
    colour: str
    size: str | None
    sizes: list[SizeOption]
    script_data: dict[str, Any]  # every colour's size states and prices, for picker.js


def size_option(product: Product, variant: Variant | None, size: str) -> SizeOption:
    if variant is None or variant.stock <= 0:
        return SizeOption(size, "sold_out", "Sold out" if variant else "Not made")
    notes = []
    if variant.price != product.price:
        notes.append(format_price(variant.price))
    if variant.stock_state == "low":
        notes.append(f"{variant.stock} left")
    return SizeOption(size, variant.stock_state, " · ".join(notes))


def picker_for(product: Product, colour: str | None = None, size: str | None = None) -> Picker:
    """The picker with ``colour`` and ``size`` chosen when they exist and are in stock (a form sent back, a shared
    link); else the first colour in stock, and a size only when there is just one."""
    in_stock = {v.colour for v in product.variants if v.stock > 0}
    colours = [ColourOption(c, colour_hex(c), c not in in_stock) for c in product.colours]
    if colour not in product.colours:
        colour = next((c for c in product.colours if c in in_stock), product.colours[0] if product.colours else "")
    sizes = product.sizes
    if size not in sizes:
        size = sizes[0] if len(sizes) == 1 else None
    if size is not None and ((variant := product.variant(size, colour)) is None or variant.stock <= 0):
        size = None  # never offer a sold-out size as the choice
    states = {c: [size_option(product, product.variant(s, c), s) for s in sizes] for c in product.colours}
    return Picker(
        colours=colours,
        colour=colour,
        size=size,
        sizes=states.get(colour, []),
        script_data={
            "sizes": {c: {option.size: option.as_data() for option in options} for c, options in states.items()},
            "prices": {c: {s: format_price(v.price) for s in sizes if (v := product.variant(s, c))} for c in states},
        },
    )


async def picked_sku(catalog: CatalogService, data: dict[str, str]) -> str:
    """The SKU an add-to-cart form names: directly (``sku``), or as the picker's ``product``, ``colour``, ``size``.

    Checked here as well as in the browser, since a form can arrive without the browser's validation."""
    if data.get("sku"):
        return data["sku"]
    slug = data.get("product", "")
    if not slug:
        raise InvalidInput("choose a colour and a size first", field="sku")
    product = await catalog.product(slug)
    colour, size = data.get("colour", ""), data.get("size", "")
    if colour not in product.colours:
        raise InvalidInput("choose a colour first", field="colour")
    if size not in product.sizes:
        raise InvalidInput("choose a size first", field="size")
    variant = product.variant(size, colour)
    if variant is None:
        raise InvalidInput(f"{product.name} is not made in {colour}, size {size}", field="size")
    if variant.stock <= 0:
        raise Conflict(f"{colour}, size {size} is sold out: choose another size or colour", field="size")
    return variant.sku


def picked_quantity(raw: str | None) -> int:
    """The quantity field: empty means 1; anything else must be a whole number from 1 to 99."""
    text = (raw or "").strip()
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= MAX_QUANTITY:
        raise InvalidInput(f"the quantity must be a whole number from 1 to {MAX_QUANTITY}", field="quantity")
    return int(text)


def back_to_picker(target: str, data: dict[str, str]) -> str:
    """``target`` with the picker's choices kept, so the product page shows what the shopper had picked."""
    if not data.get("product"):
        return target
    kept = {key: data[key] for key in ("colour", "size") if data.get(key)}
    return f"{target}?{urlencode(kept)}" if kept and "?" not in target else target
