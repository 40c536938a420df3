"""Pooled connections cut by the server: pinged when idle, a 503-able error when busy."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from city_common.db.database import Database

pytestmark = pytest.mark.integration

_CUT_OTHERS = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


async def _select_one(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(text("SELECT 1")) or 0)


async def _cut_pooled_connections(sample_db: str) -> None:
    admin = Database(sample_db, pool_size=1)
    try:
        async with admin.sessions() as session:
            assert (await session.scalar(_CUT_OTHERS) or 0) >= 1
    finally:
        await admin.dispose()


async def test_an_idle_connection_cut_by_the_server_is_replaced_before_use(
    sample_db: str,
) -> None:
    db = Database(sample_db, idle_ping_s=0.0)
    try:
        assert await _select_one(db) == 1
        await _cut_pooled_connections(sample_db)
        # Idle for longer than 0 s: pinged at checkout, found dead, replaced.
        assert await _select_one(db) == 1
    finally:
        await db.dispose()


async def test_a_busy_connection_cut_by_the_server_fails_once_then_the_pool_reconnects(
    sample_db: str,
) -> None:
    db = Database(sample_db, idle_ping_s=3600.0)
    try:
        assert await _select_one(db) == 1
        await _cut_pooled_connections(sample_db)
        # Not pinged (it was in use a moment ago): this transaction fails, as a
        # disconnect the problem handlers answer with 503 ...
        with pytest.raises(DBAPIError) as lost:
            await _select_one(db)
        assert lost.value.connection_invalidated
        # ... and the next one gets a fresh connection.
        assert await _select_one(db) == 1
    finally:
        await db.dispose()
