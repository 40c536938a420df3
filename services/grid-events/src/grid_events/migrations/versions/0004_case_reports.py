"""De-duplication: reports of a case, its report count and latest report time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("report_count", sa.Integer, nullable=False, server_default=sa.text("1")),
    )
    op.add_column(
        "cases",
        sa.Column(
            "last_reported_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )
    op.create_table(
        "case_reports",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("source_kind", sa.String(32), nullable=False),
        sa.Column("source_ref", sa.String(64), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "reported_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_case_reports_case", "case_reports", ["case_id"])
    op.create_index("ix_case_reports_source", "case_reports", ["source_kind", "source_ref"])
    # Every existing case gets the report that opened it.
    op.execute(
        """
        INSERT INTO case_reports
            (id, case_id, source_kind, source_ref, description, location, reported_at, closed_at)
        SELECT 'rep-' || substr(md5(id), 1, 16), id, source_kind, source_ref, description,
               location, opened_at, CASE WHEN status = 'closed' THEN updated_at END
        FROM cases
        """
    )
    op.execute("UPDATE cases SET last_reported_at = opened_at")


def downgrade() -> None:
    op.drop_table("case_reports")
    op.drop_column("cases", "last_reported_at")
    op.drop_column("cases", "report_count")
