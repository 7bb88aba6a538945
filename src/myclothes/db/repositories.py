"""Repositories over SQLAlchemy Core: the shop's queries, written once for SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, exists, false, func, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from myclothes.db.tables import addresses, categories, login_failures, order_lines, orders, products, users, variants
from myclothes.domain.catalog import (
    CatalogQuery,
    Category,
    Product,
    ProductCard,
    ProductPage,
    Variant,
    slugify,
)
from myclothes.domain.customers import MAX_ADDRESSES, Address, AddressFields, Customer
from myclothes.domain.errors import Conflict, InvalidInput
from myclothes.domain.orders import Order, OrderLine


class WriteOnReader(RuntimeError):
    """A write was attempted through a reader unit: a routing bug."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class _Repository:
    def __init__(self, connection: AsyncConnection, read_only: bool) -> None:
        self.connection = connection
        self.read_only = read_only
        self.postgres = connection.dialect.name == "postgresql"

    def _writing(self) -> AsyncConnection:
        if self.read_only:
            raise WriteOnReader(f"{type(self).__name__}: write attempted through a reader unit")
        return self.connection


class SqlCatalogRepository(_Repository):
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
        order: list[Any] = {  # type: ignore[assignment]
            "featured": [products.c.id],
            "price_asc": [products.c.price_cents, products.c.id],
            "price_desc": [products.c.price_cents.desc(), products.c.id],
            "newest": [products.c.created_at.desc(), products.c.id.desc()],
        }[query.sort]
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

    async def variants(self, skus: Sequence[str]) -> dict[str, tuple[Variant, str, str]]:
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
        return {row[0]: (Variant(*row[:5]), row[5], row[6]) for row in rows}

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
        product_id = result.inserted_primary_key[0]  # type: ignore[index]
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


class SqlCustomerRepository(_Repository):
    _customer_columns = (users.c.id, users.c.email, users.c.name, users.c.is_admin)

    async def by_email(self, email: str) -> tuple[Customer, str] | None:
        row = (
            await self.connection.execute(
                select(*self._customer_columns, users.c.password_hash).where(users.c.email == email)
            )
        ).first()
        return (Customer(*row[:4]), row[4]) if row else None

    async def by_id(self, customer_id: int) -> Customer | None:
        row = (await self.connection.execute(select(*self._customer_columns).where(users.c.id == customer_id))).first()
        return Customer(*row) if row else None

    async def create(self, email: str, name: str, password_hash: str, is_admin: bool = False) -> Customer:
        connection = self._writing()
        try:
            async with connection.begin_nested():
                result = await connection.execute(
                    insert(users).values(
                        email=email, name=name, password_hash=password_hash, is_admin=is_admin, created_at=utcnow()
                    )
                )
        except IntegrityError:
            raise Conflict("an account with this e-mail address already exists", field="email") from None
        return Customer(result.inserted_primary_key[0], email, name, is_admin)  # type: ignore[index]

    async def set_password(self, customer_id: int, password_hash: str) -> None:
        await self._writing().execute(
            update(users).where(users.c.id == customer_id).values(password_hash=password_hash)
        )

    async def set_admin(self, customer_id: int, is_admin: bool) -> None:
        await self._writing().execute(update(users).where(users.c.id == customer_id).values(is_admin=is_admin))

    _address_columns = (
        addresses.c.id,
        addresses.c.full_name,
        addresses.c.line1,
        addresses.c.line2,
        addresses.c.city,
        addresses.c.postal_code,
        addresses.c.country,
        addresses.c.phone,
        addresses.c.is_default,
    )

    async def addresses(self, customer_id: int) -> list[Address]:
        rows = await self.connection.execute(
            select(*self._address_columns)
            .where(addresses.c.user_id == customer_id)
            .order_by(addresses.c.is_default.desc(), addresses.c.id)
        )
        return [Address(*row) for row in rows]

    async def address(self, customer_id: int, address_id: int) -> Address | None:
        row = (
            await self.connection.execute(
                select(*self._address_columns).where(addresses.c.user_id == customer_id, addresses.c.id == address_id)
            )
        ).first()
        return Address(*row) if row else None

    async def add_address(self, customer_id: int, fields: AddressFields) -> Address:
        connection = self._writing()
        count = (await connection.execute(select(func.count()).where(addresses.c.user_id == customer_id))).scalar_one()
        if count >= MAX_ADDRESSES:
            raise Conflict(f"an address book holds at most {MAX_ADDRESSES} addresses")
        is_default = fields.is_default or count == 0
        if is_default:
            await self._clear_default(customer_id)
        values = _address_values(fields)
        values["is_default"] = is_default
        result = await connection.execute(insert(addresses).values(user_id=customer_id, **values))
        address_id = result.inserted_primary_key[0]  # type: ignore[index]
        found = await self.address(customer_id, address_id)
        assert found is not None
        return found

    async def update_address(self, customer_id: int, address_id: int, fields: AddressFields) -> Address | None:
        current = await self.address(customer_id, address_id)
        if current is None:
            return None
        values = _address_values(fields)
        if fields.is_default:
            await self._clear_default(customer_id)
            values["is_default"] = True
        else:
            values["is_default"] = current.is_default  # unset a default only by choosing another
        await self._writing().execute(
            update(addresses).where(addresses.c.id == address_id, addresses.c.user_id == customer_id).values(**values)
        )
        return await self.address(customer_id, address_id)

    async def delete_address(self, customer_id: int, address_id: int) -> bool:
        current = await self.address(customer_id, address_id)
        if current is None:
            return False
        connection = self._writing()
        await connection.execute(
            delete(addresses).where(addresses.c.id == address_id, addresses.c.user_id == customer_id)
        )
        if current.is_default:
            oldest = (
                await connection.execute(
                    select(addresses.c.id).where(addresses.c.user_id == customer_id).order_by(addresses.c.id).limit(1)
                )
            ).scalar_one_or_none()
            if oldest is not None:
                await connection.execute(update(addresses).where(addresses.c.id == oldest).values(is_default=True))
        return True

    async def _clear_default(self, customer_id: int) -> None:
        await self._writing().execute(
            update(addresses).where(addresses.c.user_id == customer_id).values(is_default=False)
        )

    async def record_login_failure(self, email: str, ip: str, at: float) -> None:
        connection = self._writing()
        await connection.execute(insert(login_failures).values(email=email, ip=ip, at=at))
        # Keep the table small: failures older than a day no longer count for anything.
        await connection.execute(delete(login_failures).where(login_failures.c.at < at - 86400))

    async def login_failures(self, email: str, ip: str, email_since: float, ip_since: float) -> tuple[int, int]:
        by_email = select(func.count()).where(login_failures.c.email == email, login_failures.c.at >= email_since)
        by_ip = select(func.count()).where(login_failures.c.ip == ip, login_failures.c.at >= ip_since)
        row = (await self.connection.execute(select(by_email.scalar_subquery(), by_ip.scalar_subquery()))).one()
        return int(row[0]), int(row[1])


def _address_values(fields: AddressFields) -> dict[str, Any]:
    return {
        "full_name": fields.full_name,
        "line1": fields.line1,
        "line2": fields.line2,
        "city": fields.city,
        "postal_code": fields.postal_code,
        "country": fields.country,
        "phone": fields.phone,
    }


class SqlOrderRepository(_Repository):
    async def by_idempotency_key(self, customer_id: int, key: str) -> Order | None:
        order_id = (
            await self.connection.execute(
                select(orders.c.id).where(orders.c.user_id == customer_id, orders.c.idempotency_key == key)
            )
        ).scalar_one_or_none()
        return await self.get(customer_id, order_id) if order_id is not None else None

    async def create(
        self, customer_id: int, key: str, lines: list[OrderLine], ship_to: dict[str, str], card_last4: str
    ) -> Order:
        connection = self._writing()
        try:
            async with connection.begin_nested():
                result = await connection.execute(
                    insert(orders).values(
                        user_id=customer_id,
                        idempotency_key=key,
                        status="placed",
                        total_cents=sum(line.line_total for line in lines),
                        card_last4=card_last4,
                        ship_to=ship_to,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            raise Conflict("this checkout was already submitted", field="idempotency_key") from None
        order_id = result.inserted_primary_key[0]  # type: ignore[index]
        await connection.execute(
            insert(order_lines),
            [
                {
                    "order_id": order_id,
                    "sku": line.sku,
                    "name": line.name,
                    "size": line.size,
                    "colour": line.colour,
                    "unit_price_cents": line.unit_price,
                    "quantity": line.quantity,
                }
                for line in lines
            ],
        )
        order = await self.get(customer_id, order_id)
        assert order is not None
        return order

    async def history(self, customer_id: int) -> list[Order]:
        rows = (
            await self.connection.execute(
                select(orders)
                .where(orders.c.user_id == customer_id)
                .order_by(orders.c.created_at.desc(), orders.c.id.desc())
                .limit(200)
            )
        ).all()
        lines = await self._lines([row.id for row in rows])
        return [_order(row, lines.get(row.id, [])) for row in rows]

    async def get(self, customer_id: int, order_id: int) -> Order | None:
        row = (
            await self.connection.execute(
                select(orders).where(orders.c.user_id == customer_id, orders.c.id == order_id)
            )
        ).first()
        if row is None:
            return None
        lines = await self._lines([order_id])
        return _order(row, lines.get(order_id, []))

    async def _lines(self, order_ids: list[int]) -> dict[int, list[OrderLine]]:
        if not order_ids:
            return {}
        rows = await self.connection.execute(
            select(order_lines).where(order_lines.c.order_id.in_(order_ids)).order_by(order_lines.c.id)
        )
        result: dict[int, list[OrderLine]] = {}
        for row in rows:
            result.setdefault(row.order_id, []).append(
                OrderLine(row.sku, row.name, row.size, row.colour, row.unit_price_cents, row.quantity)
            )
        return result


def _order(row: Any, lines: list[OrderLine]) -> Order:
    return Order(
        id=row.id,
        status=row.status,
        created_at=row.created_at.isoformat(timespec="seconds"),
        total=row.total_cents,
        card_last4=row.card_last4,
        ship_to=dict(row.ship_to),
        lines=tuple(lines),
    )


class SqlUnitOfWork:
    """The repositories over one connection (and, on a writer, one transaction)."""

    def __init__(self, connection: AsyncConnection, read_only: bool) -> None:
        self.connection = connection
        self.catalog = SqlCatalogRepository(connection, read_only)
        self.customers = SqlCustomerRepository(connection, read_only)
        self.orders = SqlOrderRepository(connection, read_only)
