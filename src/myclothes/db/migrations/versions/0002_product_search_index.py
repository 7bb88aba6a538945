"""product name full-text index (PostgreSQL only)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00

On PostgreSQL catalog search matches product names with full-text search, served by a GIN index on the same
expression the repository queries (``to_tsvector('simple', name)``). SQLite keeps its LIKE search: nothing to do.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_products_name_fts ON products USING gin (to_tsvector('simple', name))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_products_name_fts")
