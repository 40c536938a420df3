"""Session-wide test fixtures shared by every suite in the repository."""

from collections.abc import AsyncIterator

import pytest

from city_common.testing import drop_created_databases


@pytest.fixture(scope="session", autouse=True)
async def _drop_test_databases() -> AsyncIterator[None]:
    # Each integration test makes databases of its own; leave none behind.
    yield
    await drop_created_databases()
