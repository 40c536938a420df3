"""Open311 GeoReport v2: API keys and citizens' service requests.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open311_api_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("key_hash", name="uq_open311_api_keys_key_hash"),
    )
    op.create_table(
        "service_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column(
            "api_key_id", sa.String(64), sa.ForeignKey("open311_api_keys.id"), nullable=False
        ),
        sa.Column("description", sa.String(4000), nullable=True),
        sa.Column("address", sa.String(256), nullable=True),
        sa.Column("address_id", sa.String(64), nullable=True),
        sa.Column("media_url", sa.String(2048), nullable=True),
        sa.Column("attributes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("contact_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.UniqueConstraint("token", name="uq_service_requests_token"),
    )
    op.create_index("ix_service_requests_requested_at", "service_requests", ["requested_at"])
    op.create_index("ix_service_requests_case", "service_requests", ["case_id"])


def downgrade() -> None:
    op.drop_table("service_requests")
    op.drop_table("open311_api_keys")
