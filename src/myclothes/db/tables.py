"""The schema, in SQLAlchemy Core. Portable SQL only: it runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import msgspec
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    cast,
    exists,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

categories = Table(
    "categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(60), nullable=False, unique=True),
    Column("name", String(60), nullable=False),
    Column("garment", String(20), nullable=False),
    Column("position", Integer, nullable=False, default=0),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("category_id", Integer, ForeignKey("categories.id"), nullable=False),
    # The lowest variant price, kept in step by every price change: lists sort and filter on it.
    Column("price_cents", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_products_category_price", "category_id", "price_cents"),
    Index("ix_products_price", "price_cents"),
    Index("ix_products_created", "created_at"),
)

variants = Table(
    "variants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(40), nullable=False, unique=True),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("size", String(10), nullable=False),
    Column("colour", String(30), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("stock", Integer, nullable=False),
    CheckConstraint("stock >= 0", name="stock_not_negative"),
    CheckConstraint("price_cents > 0", name="price_positive"),
    Index("ix_variants_product", "product_id"),
    Index("ix_variants_size_product", "size", "product_id"),
    Index("ix_variants_colour_product", "colour", "product_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("sessions_valid_from", Float, nullable=False, server_default="0"),  # epoch s; older logins end
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("full_name", String(100), nullable=False),
    Column("line1", String(200), nullable=False),
    Column("line2", String(200), nullable=False, default=""),
    Column("city", String(100), nullable=False),
    Column("postal_code", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("phone", String(30), nullable=False, default=""),
    Column("is_default", Boolean, nullable=False, default=False),
    Index("ix_addresses_user", "user_id"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("idempotency_key", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("total_cents", Integer, nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("ship_to", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "idempotency_key"),
    Index("ix_orders_user_created", "user_id", "created_at"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("sku", String(40), nullable=False),
    Column("name", String(120), nullable=False),
    Column("size", String(10), nullable=False),
    Column("colour", String(30), nullable=False),
    Column("unit_price_cents", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    Index("ix_order_lines_order", "order_id"),
)

cart_lines = Table(
    "cart_lines",
    metadata,
    Column("cart_id", String(64), primary_key=True),
    Column("sku", String(40), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("added_at", Float, nullable=False),
    CheckConstraint("quantity >= 1 AND quantity <= 99", name="quantity_range"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_sessions_expires", "expires_at"),
)


def json_text(value: object) -> str:
    """How every engine writes a JSON column's value (its ``json_serializer``). The sql session store renders a
    session it saves the same way, so it knows the text the row now holds without reading it back."""
    return msgspec.json.encode(value).decode()


# A session's data as the text the database holds (SQLite and PostgreSQL's ``json`` keep it as written): what a
# guarded cart write compares, in its own conditions, with the text the request started from.
session_data_text = cast(sessions.c.data, Text)
session_guard_holds = exists().where(  # parameters: ``session_key``, ``session_text``, ``now``
    sessions.c.id == bindparam("session_key", type_=String),
    session_data_text == bindparam("session_text", type_=Text),
    sessions.c.expires_at > bindparam("now", type_=Float),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_login_failures_email_at", "email", "at"),
    Index("ix_login_failures_ip_at", "ip", "at"),
)

registrations = Table(
    "registrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ip", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_registrations_ip_at", "ip", "at"),
)
