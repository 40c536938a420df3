import pytest

from city_common.testing import migration_drift
from video_ingest.adapters.orm import metadata

pytestmark = pytest.mark.integration


async def test_migrations_build_exactly_the_declared_tables() -> None:
    assert await migration_drift("video_ingest", metadata) == []
