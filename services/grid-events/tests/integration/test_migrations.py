import pytest

from city_common.testing import migration_drift
from grid_events.adapters.orm import metadata

pytestmark = pytest.mark.integration


async def test_migrations_build_exactly_the_declared_tables() -> None:
    assert await migration_drift("grid_events", metadata) == []
