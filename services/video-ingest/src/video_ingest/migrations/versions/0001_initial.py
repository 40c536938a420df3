"""Cameras, their latest frames and alarms, outbox and inbox.

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
        "cameras",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("elevation_m", sa.Float, nullable=False),
        sa.Column("heading_deg", sa.Float, nullable=False),
        sa.Column("hfov_deg", sa.Float, nullable=False),
        sa.Column("presets", postgresql.ARRAY(sa.Float), nullable=False),
        sa.Column("snapshot_url", sa.String(2048), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("last_frame_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("heading_deg >= 0 AND heading_deg < 360", name="ck_cameras_heading"),
        sa.CheckConstraint("hfov_deg > 0 AND hfov_deg <= 180", name="ck_cameras_hfov"),
    )
    op.create_index("ix_cameras_location", "cameras", ["location"], postgresql_using="gist")
    op.create_index("ix_cameras_kind_status", "cameras", ["kind", "status"])
    op.create_table(
        "camera_frames",
        sa.Column(
            "camera_id",
            sa.String(64),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("pan_deg", sa.Float, nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("image", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "camera_alarms",
        sa.Column("alarm_id", sa.String(64), primary_key=True),
        sa.Column(
            "camera_id",
            sa.String(64),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("danger_level", sa.SmallInteger, nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_camera_alarms_camera_status", "camera_alarms", ["camera_id", "status"])


def downgrade() -> None:
    op.drop_table("camera_alarms")
    op.drop_table("camera_frames")
    op.drop_table("cameras")
    drop_platform_schema()
