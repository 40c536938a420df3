from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from city_common.db.database import Database
from city_common.events import schemas as s
from city_common.geo import GeoPoint
from city_common.testing import migrated_database, unique

pytestmark = pytest.mark.integration


@pytest.fixture
async def sample_db() -> AsyncIterator[str]:
    url = await migrated_database("sample_svc", f"test_common_{uuid.uuid4().hex[:8]}")
    yield url


@pytest.fixture
async def db(sample_db: str) -> AsyncIterator[Database]:
    database = Database(sample_db)
    yield database
    await database.dispose()


@pytest.fixture
def prefix() -> str:
    return unique("t") + "."


def incident(incident_id: str, *, severity: int = 1, seq: int = 0) -> s.TrafficIncidentDetected:
    return s.TrafficIncidentDetected(
        incident_id=incident_id,
        kind=s.TrafficIncidentKind.COLLISION,
        detected_at=datetime.now(UTC),
        location=GeoPoint.of(105.93, 29.35),
        severity=severity,
        intersection_id=f"seq-{seq:05d}",
    )


async def ledger_stats(db: Database) -> tuple[int, int]:
    """(rows, distinct event ids) of the sample service's ledger."""
    async with db.sessions() as session:
        row = (
            await session.execute(text("SELECT count(*), count(DISTINCT event_id) FROM ledger"))
        ).one()
    return int(row[0]), int(row[1])
