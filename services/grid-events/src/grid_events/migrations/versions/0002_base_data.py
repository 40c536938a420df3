"""Base data: residents, housing, organisations, and the audit of identity reads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "residents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cell_id", sa.String(64), sa.ForeignKey("grid_cells.id"), nullable=False),
        sa.Column("id_hmac", sa.LargeBinary(32), nullable=False),
        sa.Column("id_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("id_masked", sa.String(18), nullable=False),
        sa.Column("name_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("name_masked", sa.String(64), nullable=False),
        sa.Column("phone_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("phone_masked", sa.String(32), nullable=True),
        sa.Column("sex", sa.String(8), nullable=False),
        sa.Column("birth_year", sa.SmallInteger, nullable=False),
        sa.Column("residence", sa.String(16), nullable=False),
        sa.Column("address", sa.String(256), nullable=True),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("id_hmac", name="uq_residents_id_hmac"),
    )
    op.create_index("ix_residents_cell", "residents", ["cell_id"])

    op.create_table(
        "housing",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cell_id", sa.String(64), sa.ForeignKey("grid_cells.id"), nullable=False),
        sa.Column("address", sa.String(256), nullable=False),
        sa.Column("use", sa.String(16), nullable=False),
        sa.Column("floors", sa.SmallInteger, nullable=True),
        sa.Column("area_m2", sa.Float, nullable=True),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("address", name="uq_housing_address"),
    )
    op.create_index("ix_housing_cell", "housing", ["cell_id"])

    op.create_table(
        "organisations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cell_id", sa.String(64), sa.ForeignKey("grid_cells.id"), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("address", sa.String(256), nullable=True),
        sa.Column("employees", sa.Integer, nullable=True),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        *_timestamps(),
    )
    op.create_index("uq_organisations_uscc", "organisations", ["uscc"], unique=True)
    op.create_index(
        "uq_organisations_name_cell",
        "organisations",
        ["name", "cell_id"],
        unique=True,
        postgresql_where=sa.text("uscc IS NULL"),
    )
    op.create_index("ix_organisations_cell", "organisations", ["cell_id"])

    op.create_table(
        "pii_access_audit",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("roles", sa.String(256), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("resident_id", sa.String(64), nullable=True),
        sa.Column("trace_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_pii_access_audit_at", "pii_access_audit", ["at"])
    op.create_index("ix_pii_access_audit_resident", "pii_access_audit", ["resident_id"])


def downgrade() -> None:
    op.drop_table("pii_access_audit")
    op.drop_table("organisations")
    op.drop_table("housing")
    op.drop_table("residents")
