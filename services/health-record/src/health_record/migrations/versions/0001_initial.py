"""Health facilities, readiness notices, access audit, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from city_common.db.ops import create_platform_schema, drop_platform_schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_schema()
    op.create_table(
        "facilities",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("emergency_beds", sa.Integer, nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_facilities_location", "facilities", ["location"], postgresql_using="gist")
    op.create_index(
        "ix_facilities_geography",
        "facilities",
        [sa.text("geography(location)")],
        postgresql_using="gist",
    )
    op.create_index("ix_facilities_level", "facilities", ["level"])
    op.create_table(
        "readiness_notices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("alarm_id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64), sa.ForeignKey("facilities.id"), nullable=False),
        sa.Column("distance_m", sa.Float, nullable=False),
        sa.Column("danger_level", sa.SmallInteger, nullable=False),
        sa.Column(
            "alarm_location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False
        ),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_because", sa.String(16), nullable=True),
        sa.UniqueConstraint("alarm_id", "facility_id", name="uq_readiness_notices_alarm_facility"),
    )
    op.create_index(
        "ix_readiness_notices_facility_status", "readiness_notices", ["facility_id", "status"]
    )
    op.create_table(
        "access_audit",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.Text, nullable=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_access_audit_subject_at", "access_audit", ["subject", "at"])
    op.create_index("ix_access_audit_at", "access_audit", ["at"])


def downgrade() -> None:
    op.drop_table("access_audit")
    op.drop_table("readiness_notices")
    op.drop_table("facilities")
    drop_platform_schema()
