"""Intersections, traffic incidents, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from city_common.db.ops import create_platform_schema, drop_platform_schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_schema()
    op.create_table(
        "intersections",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("signal_groups", sa.SmallInteger, nullable=False),
        sa.Column("corridor_id", sa.String(64), nullable=True),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.CheckConstraint("signal_groups BETWEEN 1 AND 32", name="ck_intersections_signal_groups"),
    )
    op.create_index(
        "ix_intersections_location", "intersections", ["location"], postgresql_using="gist"
    )
    op.create_index("ix_intersections_corridor", "intersections", ["corridor_id"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "intersection_id", sa.String(64), sa.ForeignKey("intersections.id"), nullable=True
        ),
        sa.Column("reported_by", sa.String(128), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(128), nullable=True),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.Column("case_status", sa.String(32), nullable=True),
        sa.Column("case_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("severity BETWEEN 1 AND 5", name="ck_incidents_severity"),
    )
    op.create_index("ix_incidents_location", "incidents", ["location"], postgresql_using="gist")
    op.create_index("ix_incidents_status_detected", "incidents", ["status", "detected_at"])
    op.create_index("ix_incidents_intersection", "incidents", ["intersection_id"])


def downgrade() -> None:
    op.drop_table("incidents")
    op.drop_table("intersections")
    drop_platform_schema()
