"""create_app: no endpoint or dependency runs in a thread; a lost database is a 503."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends
from fastapi.security import HTTPBearer
from sqlalchemy.exc import DBAPIError

from city_common.runtime import RuntimeDep, ServiceDefinition, create_app, threadpool_callables
from city_common.settings import ServiceSettings


def _definition(router: APIRouter) -> ServiceDefinition:
    return ServiceDefinition(
        name="probe",
        package="probe",
        title="Probe",
        description="",
        routers=[router],
        uses_database=False,
    )


def _settings() -> ServiceSettings:
    return ServiceSettings.model_validate({"environment": "test", "log_json": True})


def sync_limit(runtime: RuntimeDep) -> int:
    return 1


def test_a_plain_function_dependency_is_refused_with_its_name_and_route() -> None:
    router = APIRouter()

    @router.get("/things")
    async def things(limit: Annotated[int, Depends(sync_limit)]) -> int:
        return limit

    with pytest.raises(TypeError, match=r"sync_limit \(in \['GET'\] /things\)"):
        create_app(_definition(router), _settings())


def test_a_plain_function_endpoint_is_refused() -> None:
    router = APIRouter()

    @router.get("/plain")
    def plain() -> int:
        return 1

    with pytest.raises(TypeError, match="plain"):
        create_app(_definition(router), _settings())


async def async_limit(runtime: RuntimeDep) -> int:
    return 1


async def session() -> AsyncIterator[int]:
    yield 1


def test_coroutines_async_generators_and_security_schemes_pass() -> None:
    router = APIRouter()
    scheme = HTTPBearer(auto_error=False)

    @router.get("/fine")
    async def fine(
        limit: Annotated[int, Depends(async_limit)],
        held: Annotated[int, Depends(session)],
        token: Annotated[object, Depends(scheme)],
    ) -> int:
        return limit + held

    app = create_app(_definition(router), _settings())
    assert threadpool_callables(app) == []


async def test_a_lost_database_connection_is_a_503_with_retry_after() -> None:
    router = APIRouter()

    @router.get("/lost")
    async def lost() -> int:
        raise DBAPIError("SELECT 1", None, ConnectionError("gone"), connection_invalidated=True)

    @router.get("/broken")
    async def broken() -> int:
        raise DBAPIError("SELECT 1", None, ValueError("a bug"), connection_invalidated=False)

    app = create_app(_definition(router), _settings())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        got = await client.get("/lost")
        assert got.status_code == 503
        assert got.headers["retry-after"] == "1"
        assert got.json()["type"].endswith("database-unavailable")
        assert (await client.get("/broken")).status_code == 500
