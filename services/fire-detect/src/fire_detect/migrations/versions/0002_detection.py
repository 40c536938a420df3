"""Detection from frames: camera views, pose trackers, fire weather; bearings on alarms.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fire_alarms", sa.Column("bearing_deg", sa.Float, nullable=True))
    op.add_column("fire_alarms", sa.Column("bearing_half_width_deg", sa.Float, nullable=True))
    op.add_column(
        "fire_alarms",
        sa.Column(
            "camera_location", Geometry("POINT", srid=4326, spatial_index=False), nullable=True
        ),
    )
    op.add_column(
        "fire_alarms",
        sa.Column("area", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=True),
    )
    op.add_column("fire_alarms", sa.Column("evidence", JSONB, nullable=True))
    op.add_column("fire_alarms", sa.Column("crossed_by_camera_id", sa.String(64), nullable=True))
    op.create_table(
        "camera_views",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("hfov_deg", sa.Float, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("hfov_deg > 0 AND hfov_deg < 180", name="ck_camera_views_hfov"),
    )
    op.create_table(
        "pose_tracks",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("pose", sa.String(32), primary_key=True),
        sa.Column("state", JSONB, nullable=False),
        sa.Column("last_frame_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "fire_weather_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("temp_c", sa.Float, nullable=False),
        sa.Column("rh_pct", sa.Float, nullable=False),
        sa.Column("wind_kmh", sa.Float, nullable=False),
        sa.Column("rain_24h_mm", sa.Float, nullable=False),
        sa.Column("ffmc", sa.Float, nullable=False),
        sa.Column("dmc", sa.Float, nullable=False),
        sa.Column("dc", sa.Float, nullable=False),
        sa.Column("isi", sa.Float, nullable=False),
        sa.Column("bui", sa.Float, nullable=False),
        sa.Column("fwi", sa.Float, nullable=False),
        sa.Column("danger_level", sa.SmallInteger, nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "danger_level BETWEEN 1 AND 5", name="ck_fire_weather_days_danger_level"
        ),
    )


def downgrade() -> None:
    op.drop_table("fire_weather_days")
    op.drop_table("pose_tracks")
    op.drop_table("camera_views")
    for column in (
        "crossed_by_camera_id",
        "evidence",
        "area",
        "camera_location",
        "bearing_half_width_deg",
        "bearing_deg",
    ):
        op.drop_column("fire_alarms", column)
