"""create_app refuses endpoints and dependencies that FastAPI would run in a thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends
from fastapi.security import HTTPBearer

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
