import pytest

from air_water.adapters.orm import metadata
from city_common.testing import migration_drift

pytestmark = pytest.mark.integration


async def test_migrations_build_exactly_the_declared_tables() -> None:
    assert await migration_drift("air_water", metadata) == []
