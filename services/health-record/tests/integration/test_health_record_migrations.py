"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from city_common.testing import migrated_database
from health_record.adapters.orm import metadata

pytestmark = pytest.mark.integration

# The platform's own tables, checked by libs/common.
PLATFORM_TABLES = {"spatial_ref_sys", "outbox", "inbox", "alembic_version"}


async def test_migrations_match_the_declared_tables() -> None:
    url = await migrated_database("health_record", f"test_health_mig_{uuid.uuid4().hex[:8]}")

    def include(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return not (type_ == "table" and name in PLATFORM_TABLES)

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"include_object": include}), metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []
