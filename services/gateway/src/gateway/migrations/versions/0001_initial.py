"""API audit trail, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from city_common.db.ops import create_platform_schema, drop_platform_schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_schema()
    op.create_table(
        "api_audit",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("roles", sa.String(256), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_api_audit_subject_at", "api_audit", ["subject", "at"])


def downgrade() -> None:
    op.drop_table("api_audit")
    drop_platform_schema()
