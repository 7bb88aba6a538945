"""registrations: accounts created per address, for the per-address registration limit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 07:00:00

One row per registration attempt that got as far as hashing the password (counted before the hash, so a burst
from one address cannot queue more argon2 work than the limit). Rows older than a day are deleted as new ones come.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("ix_registrations_ip_at", "registrations", ["ip", "at"])


def downgrade() -> None:
    op.drop_index("ix_registrations_ip_at", table_name="registrations")
    op.drop_table("registrations")
