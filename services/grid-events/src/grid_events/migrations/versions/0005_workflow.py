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
    # The lifecycle starts at "reported"; cases opened before it was introduced
    # are reported cases.
    op.execute("UPDATE cases SET status = 'reported' WHERE status = 'opened'")

    op.create_table(
        "departments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("area_id", sa.String(64), sa.ForeignKey("grid_cells.id"), nullable=True),
        *_timestamps(),
    )
    op.create_index(
        "uq_departments_kind_area",
        "departments",
        ["kind", "area_id"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    # The district's bureaus; each id is also its kind, which DEPARTMENT_BY_CATEGORY
    # (the fallback when no dispatch rule matches) names.
    departments = sa.table("departments", sa.column("id"), sa.column("name"), sa.column("kind"))
    op.bulk_insert(
        departments,
        [{"id": kind, "name": name, "kind": kind} for kind, name in _DISTRICT_DEPARTMENTS],
    )

    op.create_table(
        "grid_workers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("name_masked", sa.String(64), nullable=False),
        sa.Column("phone_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("phone_masked", sa.String(32), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column(
            "duty_status", sa.String(16), nullable=False, server_default=sa.text("'off_duty'")
        ),
        sa.Column("department_id", sa.String(64), sa.ForeignKey("departments.id"), nullable=True),
        *_timestamps(),
    )
    op.create_index("ix_grid_workers_role_duty", "grid_workers", ["role", "duty_status"])
    op.create_table(
        "grid_worker_areas",
        sa.Column("worker_id", sa.String(64), sa.ForeignKey("grid_workers.id"), primary_key=True),
        sa.Column("area_id", sa.String(64), sa.ForeignKey("grid_cells.id"), primary_key=True),
    )
    op.create_index("ix_grid_worker_areas_area", "grid_worker_areas", ["area_id"])

    op.create_table(
        "dispatch_rules",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("area_id", sa.String(64), sa.ForeignKey("grid_cells.id"), nullable=True),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("department_id", sa.String(64), sa.ForeignKey("departments.id"), nullable=False),
        sa.Column(
            "assign_cell_worker", sa.Boolean, nullable=False, server_default=sa.text("false")
        ),
        *_timestamps(),
    )
    op.create_index(
        "uq_dispatch_rules_category_area",
        "dispatch_rules",
        ["category", "area_id"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )

    op.create_table(
        "case_transitions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(1000), nullable=True),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("assignee_worker_id", sa.String(64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("missed_due_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_case_transitions_case", "case_transitions", ["case_id", "id"])
    op.create_index(
        "uq_case_transitions_escalation",
        "case_transitions",
        ["case_id", "missed_due_at"],
        unique=True,
        postgresql_where=sa.text("missed_due_at IS NOT NULL"),
    )


_DISTRICT_DEPARTMENTS = (
    ("police", "Public Security Bureau"),
    ("fire", "Fire and Rescue Brigade"),
    ("forestry", "Forestry Bureau"),
    ("environment", "Ecology and Environment Bureau"),
    ("transport", "Transport Bureau"),
    ("health", "Health Commission"),
    ("urban_management", "Urban Management Bureau"),
    ("emergency", "Emergency Management Bureau"),
    ("water", "Water Resources Bureau"),
    ("grid_office", "Grid Governance Command Centre"),
)


def _timestamps() -> tuple[sa.Column[object], sa.Column[object]]:
    return (
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    for table in (
        "case_transitions",
        "dispatch_rules",
        "grid_worker_areas",
        "grid_workers",
        "departments",
    ):
        op.drop_table(table)
    op.execute("UPDATE cases SET status = 'opened' WHERE status = 'reported'")
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
