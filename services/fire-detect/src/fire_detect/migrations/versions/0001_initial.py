"""Forest resources, fire alarms and their transitions, frame stats, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography, Geometry

from city_common.db.ops import create_platform_schema, drop_platform_schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_schema()
    op.create_table(
        "forest_resources",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("location", Geography("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )
    op.create_index(
        "ix_forest_resources_location", "forest_resources", ["location"], postgresql_using="gist"
    )
    op.create_index("ix_forest_resources_kind", "forest_resources", ["kind"])
    op.create_table(
        "fire_alarms",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("uncertainty_m", sa.Float, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("danger_level", sa.SmallInteger, nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=True),
        sa.Column("reported_by", sa.String(128), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("danger_level BETWEEN 1 AND 5", name="ck_fire_alarms_danger_level"),
        sa.CheckConstraint("confidence >= 0 AND confidence <= 1", name="ck_fire_alarms_confidence"),
    )
    op.create_index("ix_fire_alarms_location", "fire_alarms", ["location"], postgresql_using="gist")
    op.create_index("ix_fire_alarms_status_raised", "fire_alarms", ["status", "raised_at"])
    op.create_table(
        "alarm_transitions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "alarm_id",
            sa.String(64),
            sa.ForeignKey("fire_alarms.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
    )
    op.create_index("ix_alarm_transitions_alarm", "alarm_transitions", ["alarm_id", "id"])
    op.create_table(
        "frame_stats",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("camera_kind", sa.String(32), nullable=False),
        sa.Column("frames_seen", sa.BigInteger, nullable=False),
        sa.Column("last_frame_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_pan_deg", sa.Float, nullable=False),
        sa.Column("last_content_type", sa.String(32), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("frame_stats")
    op.drop_table("alarm_transitions")
    op.drop_table("fire_alarms")
    op.drop_table("forest_resources")
    drop_platform_schema()
