"""Fill the catalog from the deterministic assortment, in batches (100,000 products take seconds)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, text

from myclothes.db.engine import SqlDatabase
from myclothes.db.tables import categories, products, variants
from myclothes.domain.assortment import CATEGORIES, seed_product

BATCH = 2000
EPOCH = dt.datetime(2026, 1, 1)


async def seed_catalog(database: SqlDatabase, product_count: int) -> int:
    """Make the catalog hold at least ``product_count`` seeded products; return how many were added."""
    async with database.writer_engine.begin() as connection:
        known = set((await connection.execute(select(categories.c.slug))).scalars())
        missing = [
            {"slug": slug, "name": name, "garment": garment, "position": position}
            for position, (slug, name, garment, _sizes, _price) in enumerate(CATEGORIES)
            if slug not in known
        ]
        if missing:
            await connection.execute(insert(categories), missing)
        category_ids = dict((await connection.execute(select(categories.c.slug, categories.c.id))).all())
        # Seeded SKUs are MC<index+1:06d>-...: the highest tells how far an earlier seed got.
        highest = (
            await connection.execute(
                select(func.max(variants.c.sku)).where(variants.c.sku >= "MC", variants.c.sku < "MD")
            )
        ).scalar_one()
        seeded = int(highest[2:8]) if highest else 0
        start = (await connection.execute(select(func.max(products.c.id)))).scalar_one() or 0
    added = 0
    index = seeded
    while index < product_count:
        end = min(product_count, index + BATCH)
        product_rows: list[dict[str, object]] = []
        variant_rows: list[dict[str, object]] = []
        for i in range(index, end):
            product = seed_product(i)
            product_id = start + 1 + (i - index) + added
            product_rows.append(
                {
                    "id": product_id,
                    "slug": product.slug,
                    "name": product.name,
                    "description": product.description,
                    "category_id": category_ids[product.category],
                    "price_cents": min(v.price for v in product.variants),
                    "created_at": EPOCH + dt.timedelta(hours=i),
                }
            )
            variant_rows.extend(
                {
                    "sku": v.sku,
                    "product_id": product_id,
                    "size": v.size,
                    "colour": v.colour,
                    "price_cents": v.price,
                    "stock": v.stock,
                }
                for v in product.variants
            )
        async with database.writer_engine.begin() as connection:
            await connection.execute(insert(products), product_rows)
            await connection.execute(insert(variants), variant_rows)
        added += end - index
        index = end
    if added and database.writer_engine.dialect.name == "postgresql":
        async with database.writer_engine.begin() as connection:
            await connection.execute(
                text("SELECT setval(pg_get_serial_sequence('products', 'id'), (SELECT max(id) FROM products))")
            )
    return added
