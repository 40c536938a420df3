"""Enterprises, policies, compliance notices, outbox and inbox.

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
        "enterprises",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False, unique=True),
        sa.Column("industry", sa.String(64), nullable=False),
        sa.Column("size", sa.String(8), nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_enterprises_location", "enterprises", ["location"], postgresql_using="gist")
    op.create_index(
        "ix_enterprises_geography",
        "enterprises",
        [sa.text("geography(location)")],
        postgresql_using="gist",
    )
    op.create_index("ix_enterprises_industry", "enterprises", ["industry"])
    op.create_table(
        "policies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("industries", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column(
            "published_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_policies_industries", "policies", ["industries"], postgresql_using="gin")
    op.create_table(
        "compliance_notices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("enterprise_id", sa.String(64), sa.ForeignKey("enterprises.id"), nullable=False),
        sa.Column("exceedance_id", sa.String(64), nullable=False),
        sa.Column("cell_id", sa.String(64), nullable=False),
        sa.Column("medium", sa.String(8), nullable=False),
        sa.Column("pollutant", sa.String(32), nullable=False),
        sa.Column("concentration", sa.Float, nullable=False),
        sa.Column("limit", sa.Float, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("observed_hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("distance_m", sa.Float, nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint(
            "exceedance_id", "enterprise_id", name="uq_compliance_notices_exceedance"
        ),
    )
    op.create_index(
        "ix_compliance_notices_enterprise", "compliance_notices", ["enterprise_id", "issued_at"]
    )


def downgrade() -> None:
    op.drop_table("compliance_notices")
    op.drop_table("policies")
    op.drop_table("enterprises")
    drop_platform_schema()
