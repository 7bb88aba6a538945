"""Catalog: categories, products, their size x colour variants, and the rules for browsing them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, get_args

from myclothes.domain.errors import InvalidInput

LOW_STOCK = 5
PER_PAGE_DEFAULT = 24
PER_PAGE_MAX = 100
PAGE_MAX = 10_000  # deeper pages are refused (400) rather than asked of the database
PRICE_MAX = 10_000_000  # cents: no price, and so no price filter, goes above it
STOCK_MAX = 1_000_000
Sort = Literal["featured", "price_asc", "price_desc", "newest"]
SORTS: tuple[Sort, ...] = get_args(Sort)
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def stock_state(stock: int) -> str:
    """What a shopper is told: ``in_stock``, ``low`` (a few left) or ``sold_out``."""
    if stock <= 0:
        return "sold_out"
    if stock <= LOW_STOCK:
        return "low"
    return "in_stock"


def slugify(text: str) -> str:
    """``"Classic Tee!"`` -> ``"classic-tee"``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def format_price(cents: int) -> str:
    """Integer cents as a display price."""
    return f"${cents // 100:,}.{cents % 100:02d}"


@dataclass(frozen=True, slots=True)
class Category:
    slug: str
    name: str
    garment: str
    product_count: int = 0


@dataclass(frozen=True, slots=True)
class Variant:
    sku: str
    size: str
    colour: str
    price: int
    stock: int

    @property
    def stock_state(self) -> str:
        return stock_state(self.stock)


class VariantListing(NamedTuple):
    """A variant as the cart and checkout see it: with the name and slug of its product."""

    variant: Variant
    product_name: str
    product_slug: str


@dataclass(frozen=True, slots=True)
class Product:
    slug: str
    name: str
    description: str
    category: str
    category_name: str
    garment: str
    price: int
    created_at: str
    variants: tuple[Variant, ...] = ()

    @property
    def sizes(self) -> list[str]:
        return _ordered_unique(v.size for v in self.variants)

    @property
    def colours(self) -> list[str]:
        return _ordered_unique(v.colour for v in self.variants)

    @property
    def stock_state(self) -> str:
        return stock_state(sum(v.stock for v in self.variants))

    def variant(self, size: str, colour: str) -> Variant | None:
        return next((v for v in self.variants if v.size == size and v.colour == colour), None)


@dataclass(frozen=True, slots=True)
class ProductCard:
    """A product as a list shows it."""

    slug: str
    name: str
    category: str
    price: int
    colours: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductPage:
    items: list[ProductCard]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    """A validated browse request."""

    category: str | None = None
    size: str | None = None
    colour: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    q: str | None = None
    sort: str = "featured"
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise InvalidInput(f"must be one of {', '.join(SORTS)}", field="sort")
        if not 1 <= self.page <= PAGE_MAX:
            raise InvalidInput(f"must be between 1 and {PAGE_MAX}", field="page")
        if not 1 <= self.per_page <= PER_PAGE_MAX:
            raise InvalidInput(f"must be between 1 and {PER_PAGE_MAX}", field="per_page")
        for name in ("min_price", "max_price"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= PRICE_MAX:
                raise InvalidInput(f"must be between 0 and {PRICE_MAX} (integer cents)", field=name)
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise InvalidInput("must not be above max_price", field="min_price")
        if self.q is not None and len(self.q) > 100:
            raise InvalidInput("must be at most 100 characters", field="q")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _ordered_unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def validate_new_product(name: str, description: str, price: int, sizes: list[str], colours: list[str]) -> None:
    """Rules an admin's new product must satisfy."""
    if not name.strip() or len(name) > 120:
        raise InvalidInput("must be 1 to 120 characters", field="name")
    if len(description) > 2000:
        raise InvalidInput("must be at most 2000 characters", field="description")
    validate_price(price)
    if not sizes or any(not s.strip() or len(s) > 10 for s in sizes):
        raise InvalidInput("give at least one size of at most 10 characters", field="sizes")
    if not colours or any(not c.strip() or len(c) > 30 for c in colours):
        raise InvalidInput("give at least one colour of at most 30 characters", field="colours")
    if len(sizes) * len(colours) > 100:
        raise InvalidInput("at most 100 size x colour combinations", field="sizes")


def validate_price(price: int) -> None:
    if not 1 <= price <= PRICE_MAX:
        raise InvalidInput(f"must be between 1 and {PRICE_MAX} cents", field="price")


def validate_stock(stock: int) -> None:
    if not 0 <= stock <= STOCK_MAX:
        raise InvalidInput(f"must be between 0 and {STOCK_MAX}", field="stock")
