"""What changed in the shop, published by the use cases after their transaction committed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened; subscribers react to it (the catalog cache forgets what it describes)."""


@dataclass(frozen=True, slots=True)
class ProductChanged(Event):
    """A product was created or its name, description, a variant's price or stock was changed by an admin."""

    slug: str


@dataclass(frozen=True, slots=True)
class StockSold(Event):
    """An order took stock of some of this product's variants."""

    slug: str
