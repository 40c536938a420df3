"""The grid cell a camera stands in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cameras", sa.Column("cell_id", sa.String(64), nullable=True))
    op.create_index("ix_cameras_cell_id", "cameras", ["cell_id"])


def downgrade() -> None:
    op.drop_index("ix_cameras_cell_id", table_name="cameras")
    op.drop_column("cameras", "cell_id")
