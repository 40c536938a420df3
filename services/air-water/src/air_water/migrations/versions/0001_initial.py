"""Monitoring stations, observations, exceedances, outbox and inbox.

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
        "stations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("medium", sa.String(8), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("cell_id", sa.String(64), nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_stations_location", "stations", ["location"], postgresql_using="gist")
    op.create_index("ix_stations_medium_cell", "stations", ["medium", "cell_id"])
    op.create_table(
        "observations",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.String(64), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("pollutant", sa.String(32), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("averaging", sa.String(8), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint(
            "station_id", "pollutant", "averaging", "observed_at", name="uq_observations_reading"
        ),
    )
    op.create_table(
        "exceedances",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(64), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column(
            "observation_id", sa.BigInteger, sa.ForeignKey("observations.id"), nullable=False
        ),
        sa.Column("cell_id", sa.String(64), nullable=False),
        sa.Column("medium", sa.String(8), nullable=False),
        sa.Column("pollutant", sa.String(32), nullable=False),
        sa.Column("concentration", sa.Float, nullable=False),
        sa.Column("limit", sa.Float, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("averaging", sa.String(8), nullable=False),
        sa.Column("standard", sa.String(32), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column(
            "detected_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(2000), nullable=True),
        sa.Column("closed_by_case", sa.String(64), nullable=True),
    )
    op.create_index("ix_exceedances_location", "exceedances", ["location"], postgresql_using="gist")
    op.create_index("ix_exceedances_status_cell", "exceedances", ["status", "cell_id"])


def downgrade() -> None:
    op.drop_table("exceedances")
    op.drop_table("observations")
    op.drop_table("stations")
    drop_platform_schema()
