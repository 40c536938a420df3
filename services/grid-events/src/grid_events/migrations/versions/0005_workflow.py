"""Departments, grid workers, dispatch rules, the case lifecycle and escalation.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases", sa.Column("priority", sa.SmallInteger, nullable=False, server_default=sa.text("3"))
    )
    op.add_column("cases", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("assignee_worker_id", sa.String(64), nullable=True))
    op.add_column(
        "cases",
        sa.Column("escalation_level", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
    )
    op.add_column("cases", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_cases_due", "cases", ["due_at"], postgresql_where=sa.text("closed_at IS NULL")
    )
    op.create_index("ix_cases_opened_at", "cases", ["opened_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_opened_at", table_name="cases")
    op.drop_index("ix_cases_due", table_name="cases")
    for column in (
        "closed_at",
        "resolved_at",
        "escalation_level",
        "assignee_worker_id",
        "due_at",
        "priority",
    ):
        op.drop_column("cases", column)
