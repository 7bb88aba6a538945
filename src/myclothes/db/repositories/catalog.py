"""The catalog's queries: browse, search, variants, stock, admin changes."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, insert, literal_column, select, update

from myclothes.db.repositories.base import Repository, inserted_id, utcnow
from myclothes.db.tables import categories, products, variants
from myclothes.domain.catalog import (
    CatalogQuery,
    Category,
    Product,
    ProductCard,
    ProductPage,
    Variant,
    VariantListing,
    slugify,
)
from myclothes.domain.errors import InvalidInput


class SqlCatalogRepository(Repository):
    async def categories(self) -> list[Category]:
        counts = select(products.c.category_id, func.count().label("n")).group_by(products.c.category_id).subquery()
        rows = await self.connection.execute(
            select(categories.c.slug, categories.c.name, categories.c.garment, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.category_id == categories.c.id)
            .order_by(categories.c.position, categories.c.id)
        )
        return [Category(slug, name, garment, count) for slug, name, garment, count in rows]

    async def search(self, query: CatalogQuery) -> ProductPage:
        conditions: list[Any] = []
        if query.category:
            category_id = select(categories.c.id).where(categories.c.slug == query.category).scalar_subquery()
            conditions.append(products.c.category_id == category_id)
        if query.size or query.colour:
            match = [variants.c.product_id == products.c.id]
            if query.size:
                match.append(variants.c.size == query.size)
            if query.colour:
                match.append(variants.c.colour == query.colour)
            conditions.append(exists().where(and_(*match)))
        if query.min_price is not None:
            conditions.append(products.c.price_cents >= query.min_price)
        if query.max_price is not None:
            conditions.append(products.c.price_cents <= query.max_price)
        words = (query.q or "").lower().split()[:5]
        if self.postgres and words:
            conditions.append(_name_matches(words))
        else:
            for word in words:
                conditions.append(func.lower(products.c.name).contains(word, autoescape=True))
        total = (
            await self.connection.execute(select(func.count()).select_from(products).where(*conditions))
        ).scalar_one()
        orderings: dict[str, list[ColumnElement[Any]]] = {
            "featured": [products.c.id],
            "price_asc": [products.c.price_cents, products.c.id],
            "price_desc": [products.c.price_cents.desc(), products.c.id],
            "newest": [products.c.created_at.desc(), products.c.id.desc()],
        }
        order = orderings[query.sort]
        rows = (
            await self.connection.execute(
                select(products.c.id, products.c.slug, products.c.name, categories.c.slug, products.c.price_cents)
                .join(categories, categories.c.id == products.c.category_id)
                .where(*conditions)
                .order_by(*order)
                .limit(query.per_page)
                .offset(query.offset)
            )
        ).all()
        colours: dict[int, list[str]] = {row[0]: [] for row in rows}
        if rows:
            colour_rows = await self.connection.execute(
                select(variants.c.product_id, variants.c.colour)
                .where(variants.c.product_id.in_(list(colours)))
                .order_by(variants.c.id)
            )
            for product_id, colour in colour_rows:
                if colour not in colours[product_id]:
                    colours[product_id].append(colour)
        items = [ProductCard(slug, name, cat, price, tuple(colours[pid])) for pid, slug, name, cat, price in rows]
        pages = max(1, math.ceil(total / query.per_page))
        return ProductPage(items=items, page=query.page, pages=pages, total=total)

    async def product(self, slug: str) -> Product | None:
        # One statement (a product row per variant): a cache rebuild costs a single query.
        rows = (
            await self.connection.execute(
                select(
                    products.c.slug,
                    products.c.name,
                    products.c.description,
                    categories.c.slug,
                    categories.c.name,
                    categories.c.garment,
                    products.c.price_cents,
                    products.c.created_at,
                    variants.c.sku,
                    variants.c.size,
                    variants.c.colour,
                    variants.c.price_cents,
                    variants.c.stock,
                )
                .join(categories, categories.c.id == products.c.category_id)
                .outerjoin(variants, variants.c.product_id == products.c.id)
                .where(products.c.slug == slug)
                .order_by(variants.c.id)
            )
        ).all()
        if not rows:
            return None
        row = rows[0]
        return Product(
            slug=row[0],
            name=row[1],
            description=row[2],
            category=row[3],
            category_name=row[4],
            garment=row[5],
            price=row[6],
            created_at=row[7].isoformat(),
            variants=tuple(Variant(*r[8:13]) for r in rows if r[8] is not None),
        )

    async def variants(self, skus: Sequence[str]) -> dict[str, VariantListing]:
        if not skus:
            return {}
        rows = await self.connection.execute(
            select(
                variants.c.sku,
                variants.c.size,
                variants.c.colour,
                variants.c.price_cents,
                variants.c.stock,
                products.c.name,
                products.c.slug,
            )
            .join(products, products.c.id == variants.c.product_id)
            .where(variants.c.sku.in_(list(skus)))
        )
        return {row[0]: VariantListing(Variant(*row[:5]), row[5], row[6]) for row in rows}

    async def take_stock(self, sku: str, quantity: int) -> bool:
        result = await self._writing().execute(
            update(variants)
            .where(variants.c.sku == sku, variants.c.stock >= quantity)
            .values(stock=variants.c.stock - quantity)
        )
        return bool(result.rowcount == 1)

    async def create_product(
        self, category: str, name: str, description: str, price: int, sizes: list[str], colours: list[str], stock: int
    ) -> str:
        connection = self._writing()
        category_id = (
            await connection.execute(select(categories.c.id).where(categories.c.slug == category))
        ).scalar_one_or_none()
        if category_id is None:
            raise InvalidInput(f"unknown category {category!r}", field="category")
        base = slugify(name) or "product"
        slug, suffix = base, 1
        while (await connection.execute(select(products.c.id).where(products.c.slug == slug))).first():
            suffix += 1
            slug = f"{base}-{suffix}"
        result = await connection.execute(
            insert(products).values(
                slug=slug,
                name=name.strip(),
                description=description.strip(),
                category_id=category_id,
                price_cents=price,
                created_at=utcnow(),
            )
        )
        product_id = inserted_id(result)
        rows = [
            {
                "sku": f"AD{product_id:07d}-{slugify(colour).upper()[:12]}-{slugify(size).upper()[:10]}",
                "product_id": product_id,
                "size": size.strip(),
                "colour": colour.strip().lower(),
                "price_cents": price,
                "stock": stock,
            }
            for colour in colours
            for size in sizes
        ]
        if len({row["sku"] for row in rows}) != len(rows):
            raise InvalidInput("sizes and colours must be distinct", field="sizes")
        await connection.execute(insert(variants), rows)
        return slug

    async def update_product(self, slug: str, name: str | None, description: str | None) -> bool:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name.strip()
        if description is not None:
            values["description"] = description.strip()
        if not values:
            return (
                await self.connection.execute(select(products.c.id).where(products.c.slug == slug))
            ).first() is not None
        result = await self._writing().execute(update(products).where(products.c.slug == slug).values(**values))
        return bool(result.rowcount)

    async def update_variant(self, sku: str, price: int | None, stock: int | None) -> str | None:
        connection = self._writing()
        row = (
            await connection.execute(
                select(variants.c.product_id, products.c.slug)
                .join(products, products.c.id == variants.c.product_id)
                .where(variants.c.sku == sku)
            )
        ).first()
        if row is None:
            return None
        product_id, slug = row
        values: dict[str, Any] = {}
        if price is not None:
            values["price_cents"] = price
        if stock is not None:
            values["stock"] = stock
        if values:
            await connection.execute(update(variants).where(variants.c.sku == sku).values(**values))
        if price is not None:
            lowest = select(func.min(variants.c.price_cents)).where(variants.c.product_id == product_id)
            await connection.execute(
                update(products).where(products.c.id == product_id).values(price_cents=lowest.scalar_subquery())
            )
        return str(slug)


def _name_matches(words: list[str]) -> Any:
    """PostgreSQL full-text match of every word as a prefix, on the expression ``ix_products_name_fts`` indexes."""
    tokens = [re.findall(r"[^\W_]+", word) for word in words]
    if not all(tokens):
        return false()  # a word of punctuation only (say "%") matches nothing, as with LIKE
    terms = " & ".join(f"{token}:*" for parts in tokens for token in parts)
    document = func.to_tsvector(literal_column("'simple'"), products.c.name)
    return document.op("@@")(func.to_tsquery(literal_column("'simple'"), terms))
