"""REST API of air-water."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from air_water.adapters import repository as repo
from air_water.domain.standards import (
    DEFAULT_AIR_STANDARD,
    AirStandard,
    Averaging,
    Medium,
    canonical_unit,
    expected_unit,
)
from air_water.service_layer import handlers
from city_common.auth import Principal, Role, require_roles
from city_common.geo import GeoPoint
from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep

router = APIRouter(prefix="", tags=["environment"])

Code = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]
Pollutant = Literal[
    "so2", "no2", "pm10", "pm2_5", "co", "o3",
    "ph", "do", "codmn", "cod", "bod5", "nh3_n", "tp", "tp_lake", "tn",
]  # fmt: skip

Reader = Annotated[
    Principal, Depends(require_roles(Role.OPERATOR, Role.DISPATCHER, Role.GRID_WORKER))
]
# Readings come from the monitoring network's data platform (a service account)
# or from operators entering laboratory results by hand.
Reporter = Annotated[Principal, Depends(require_roles(Role.SERVICE, Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


class StationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Code
    medium: Medium
    name: str = Field(strict=True, min_length=1, max_length=128)
    cell_id: Code
    location: GeoPoint


class StationRead(BaseModel):
    id: str
    medium: Medium
    name: str
    cell_id: str
    location: GeoPoint
    created_at: datetime


class ObservationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pollutant: Pollutant
    value: float = Field(strict=True, ge=0.0, le=1_000_000.0, allow_inf_nan=False)
    unit: str = Field(strict=True, min_length=1, max_length=16)
    # Not strict: JSON has no datetime type, and the ISO 8601 string must be parsed.
    observed_at: AwareDatetime
    averaging: Averaging

    @field_validator("unit")
    @classmethod
    def _unit_of_pollutant(cls, unit: str, info: ValidationInfo) -> str:
        pollutant = info.data.get("pollutant")
        if pollutant is None:
            return unit  # the pollutant itself is reported as the error
        canonical = canonical_unit(pollutant, unit)
        if canonical is None:
            raise ValueError(f"{pollutant} is measured in {expected_unit(pollutant)}")
        return canonical


class ObservationRead(BaseModel):
    id: int
    station_id: str
    pollutant: str
    value: float
    unit: str
    averaging: Averaging
    observed_at: datetime
    received_at: datetime
    exceedance_id: str | None = None


class ExceedanceRead(BaseModel):
    id: str
    station_id: str
    observation_id: int
    cell_id: str
    medium: Medium
    pollutant: str
    concentration: float
    limit: float
    unit: str
    averaging: Averaging
    standard: str
    observed_at: datetime
    location: GeoPoint
    status: Literal["open", "closed"]
    detected_at: datetime
    closed_at: datetime | None
    resolution: str | None
    closed_by_case: str | None


@router.post("/stations", status_code=status.HTTP_201_CREATED, response_model=StationRead)
async def register_station(body: StationCreate, uow: UowDep, _: Admin) -> StationRead:
    """Add an air or water monitoring station in its grid cell."""
    station = await handlers.register_station(
        uow,
        station_id=body.id,
        medium=body.medium,
        name=body.name,
        cell_id=body.cell_id,
        location=body.location,
    )
    return StationRead.model_validate(station)


@router.get("/stations", response_model=Page[StationRead])
async def list_stations(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    medium: Medium | None = None,
    cell_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[StationRead]:
    items, total = await repo.list_stations(
        uow.session, medium=medium, cell_id=cell_id, limit=page.limit, offset=page.offset
    )
    return Page.of(StationRead, items, total=total, page=page)


@router.get("/stations/{station_id}", response_model=StationRead)
async def get_station(station_id: str, uow: UowDep, _: Reader) -> StationRead:
    return StationRead.model_validate(await handlers.get_station(uow, station_id))


@router.post(
    "/stations/{station_id}/observations",
    status_code=status.HTTP_201_CREATED,
    response_model=ObservationRead,
)
async def record_observation(
    station_id: str,
    body: ObservationCreate,
    uow: UowDep,
    _: Reporter,
    standard: Annotated[
        AirStandard, Query(description="Edition of GB 3095 that air readings are judged by")
    ] = DEFAULT_AIR_STANDARD,
) -> ObservationRead:
    """Record a reading; one over its limit opens an exceedance (see ``exceedance_id``)."""
    observation = await handlers.record_observation(
        uow,
        station_id=station_id,
        pollutant=body.pollutant,
        value=body.value,
        unit=body.unit,
        observed_at=body.observed_at,
        averaging=body.averaging,
        standard=standard,
    )
    return ObservationRead.model_validate(observation)


@router.get("/stations/{station_id}/observations", response_model=Page[ObservationRead])
async def list_observations(
    station_id: str,
    uow: UowDep,
    page: PageDep,
    _: Reader,
    pollutant: Pollutant | None = None,
) -> Page[ObservationRead]:
    await handlers.get_station(uow, station_id)
    items, total = await repo.list_observations(
        uow.session,
        station_id=station_id,
        pollutant=pollutant,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(ObservationRead, items, total=total, page=page)


@router.get("/exceedances", response_model=Page[ExceedanceRead])
async def list_exceedances(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    status_: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
    cell_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ExceedanceRead]:
    items, total = await repo.list_exceedances(
        uow.session, status=status_, cell_id=cell_id, limit=page.limit, offset=page.offset
    )
    return Page.of(ExceedanceRead, items, total=total, page=page)


@router.get("/exceedances/{exceedance_id}", response_model=ExceedanceRead)
async def get_exceedance(exceedance_id: str, uow: UowDep, _: Reader) -> ExceedanceRead:
    return ExceedanceRead.model_validate(await handlers.get_exceedance(uow, exceedance_id))
