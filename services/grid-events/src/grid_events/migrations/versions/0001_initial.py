"""Grid cells, cases, outbox and inbox.

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
        "grid_cells",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(64), sa.ForeignKey("grid_cells.id"), nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_grid_cells_geom", "grid_cells", ["geom"], postgresql_using="gist")
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("cell_id", sa.String(64), sa.ForeignKey("grid_cells.id"), nullable=True),
        sa.Column("source_kind", sa.String(32), nullable=False),
        sa.Column("source_ref", sa.String(64), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_cases_location", "cases", ["location"], postgresql_using="gist")
    op.create_index("ix_cases_source", "cases", ["source_kind", "source_ref"])
    op.create_index("ix_cases_status_category", "cases", ["status", "category"])


def downgrade() -> None:
    op.drop_table("cases")
    op.drop_table("grid_cells")
    drop_platform_schema()
