"""Migration operations every service's first revision runs."""

from __future__ import annotations

from alembic import op

from city_common.db.messaging import messaging_metadata


def create_platform_schema() -> None:
    """PostGIS plus the outbox and inbox tables."""
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    bind = op.get_bind()
    messaging_metadata.create_all(bind)


def drop_platform_schema() -> None:
    messaging_metadata.drop_all(op.get_bind())
