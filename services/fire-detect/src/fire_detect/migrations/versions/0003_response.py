"""Forest resources as GeoJSON, response plans, alarm evidence and KPIs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("forest_resources", sa.Column("subtype", sa.String(32), nullable=True))
    op.add_column(
        "forest_resources",
        sa.Column("properties", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.add_column(
        "forest_resources",
        sa.Column("shape", Geography("GEOMETRY", srid=4326, spatial_index=False), nullable=True),
    )
    op.add_column(
        "forest_resources", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_forest_resources_shape", "forest_resources", ["shape"], postgresql_using="gist"
    )
    op.add_column("fire_alarms", sa.Column("resources", JSONB, nullable=True))
    op.add_column("fire_alarms", sa.Column("plan", JSONB, nullable=True))
    op.create_index("ix_fire_alarms_raised", "fire_alarms", ["raised_at"])
    op.create_table(
        "alarm_frames",
        sa.Column(
            "alarm_id",
            sa.String(64),
            sa.ForeignKey("fire_alarms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alarm_frames")
    op.drop_index("ix_fire_alarms_raised", table_name="fire_alarms")
    op.drop_column("fire_alarms", "plan")
    op.drop_column("fire_alarms", "resources")
    op.drop_index("ix_forest_resources_shape", table_name="forest_resources")
    for column in ("updated_at", "shape", "properties", "subtype"):
        op.drop_column("forest_resources", column)
