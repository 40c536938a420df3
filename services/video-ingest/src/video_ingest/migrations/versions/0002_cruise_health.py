"""Snapshot cruise schedules and camera health.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("cameras", sa.Column("expected_interval_s", sa.Float, nullable=True))
    op.add_column("cameras", sa.Column("cruise_interval_s", sa.Float, nullable=True))
    op.add_column("cameras", sa.Column("frame_due_by", _TZ, nullable=True))
    op.add_column("cameras", sa.Column("next_poll_at", _TZ, nullable=True))
    op.add_column(
        "cameras", sa.Column("next_preset", sa.SmallInteger, nullable=False, server_default="0")
    )
    op.add_column(
        "cameras", sa.Column("poll_failures", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column("cameras", sa.Column("last_polled_at", _TZ, nullable=True))
    op.add_column("cameras", sa.Column("last_poll_error", sa.String(500), nullable=True))
    op.add_column("cameras", sa.Column("last_poll_error_at", _TZ, nullable=True))
    op.create_check_constraint("ck_cameras_expected_interval", "cameras", "expected_interval_s > 0")
    op.create_check_constraint("ck_cameras_cruise_interval", "cameras", "cruise_interval_s > 0")
    op.create_index("ix_cameras_next_poll_at", "cameras", ["next_poll_at"])
    op.create_index("ix_cameras_status_frame_due_by", "cameras", ["status", "frame_due_by"])
    # Cameras registered before: those with a snapshot URL start cruising now.
    op.execute("UPDATE cameras SET next_poll_at = now() WHERE snapshot_url IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_cameras_status_frame_due_by", table_name="cameras")
    op.drop_index("ix_cameras_next_poll_at", table_name="cameras")
    op.drop_constraint("ck_cameras_cruise_interval", "cameras", type_="check")
    op.drop_constraint("ck_cameras_expected_interval", "cameras", type_="check")
    for column in (
        "last_poll_error_at",
        "last_poll_error",
        "last_polled_at",
        "poll_failures",
        "next_preset",
        "next_poll_at",
        "frame_due_by",
        "cruise_interval_s",
        "expected_interval_s",
    ):
        op.drop_column("cameras", column)
