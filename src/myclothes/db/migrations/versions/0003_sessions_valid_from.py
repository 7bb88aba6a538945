"""users.sessions_valid_from: a password change ends every other session

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:00:00

A session whose login is older than its customer's ``sessions_valid_from`` (epoch seconds) is logged out on its
next request, whichever store holds it. 0 for every existing account: nothing changes until a password does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("sessions_valid_from", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("sessions_valid_from")
