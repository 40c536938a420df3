"""Async database layer: SQLAlchemy 2 + asyncpg, unit of work, Alembic helpers, PostGIS."""

from city_common.db.database import Database
from city_common.db.messaging import inbox, messaging_metadata, outbox
from city_common.db.uow import UnitOfWork

__all__ = ["Database", "UnitOfWork", "inbox", "messaging_metadata", "outbox"]
