"""Ledger, outbox and inbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from city_common.db.ops import create_platform_schema, drop_platform_schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_schema()
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("severity", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger")
    drop_platform_schema()
