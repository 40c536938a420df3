"""Every frame's writes stay in place (HOT updates); JPEGs are not compressed again.

Each frame updates its camera's ``last_frame_at`` and ``frame_due_by`` and replaces
its snapshot. With ``frame_due_by`` indexed, every such update wrote a new entry in
each of the camera table's six indexes (a GiST one among them): 776 a second in
Yongchuan. Without that index, and with room left on each page (fillfactor), the
update stays on its page and touches no index. The health sweep that used the
index reads the online cameras' rows instead: a few pages for a district's cameras,
every few seconds.

JPEG and PNG are compressed already: the image is stored out of line without
PostgreSQL's own compression (STORAGE EXTERNAL), which could only fail on them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_cameras_status_frame_due_by", table_name="cameras")
    op.execute("ALTER TABLE cameras SET (fillfactor = 70)")
    op.execute("ALTER TABLE camera_frames SET (fillfactor = 50)")
    op.execute("ALTER TABLE camera_frames ALTER COLUMN image SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("ALTER TABLE camera_frames ALTER COLUMN image SET STORAGE EXTENDED")
    op.execute("ALTER TABLE camera_frames RESET (fillfactor)")
    op.execute("ALTER TABLE cameras RESET (fillfactor)")
    op.create_index("ix_cameras_status_frame_due_by", "cameras", ["status", "frame_due_by"])
