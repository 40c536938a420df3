"""REST API of health-record. Every route names its caller for the access audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from city_common.auth import Principal, Role, require_roles
from city_common.geo import GeoPoint, QueryLatitude, QueryLongitude
from city_common.observability.tracing import current_trace
from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep
from health_record.domain.model import Accessor, FacilityLevel
from health_record.service_layer import handlers

router = APIRouter(prefix="", tags=["health"])

Code = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]


def _accessor(principal: Principal) -> Accessor:
    # The middleware has set the request's trace; the audit row carries its id.
    return Accessor.of(principal.subject, principal.roles, current_trace().trace_id)


async def _reader(
    principal: Annotated[Principal, Depends(require_roles(Role.DOCTOR, Role.OPERATOR))],
) -> Accessor:
    return _accessor(principal)


async def _admin(principal: Annotated[Principal, Depends(require_roles(Role.ADMIN))]) -> Accessor:
    return _accessor(principal)


# Each route names its caller, so that the use case can record the access.
Reader = Annotated[Accessor, Depends(_reader)]
Admin = Annotated[Accessor, Depends(_admin)]


class FacilityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Code
    name: str = Field(strict=True, min_length=1, max_length=128)
    level: FacilityLevel
    emergency_beds: int = Field(strict=True, ge=0, le=10_000)
    location: GeoPoint


class FacilityRead(BaseModel):
    id: str
    name: str
    level: FacilityLevel
    emergency_beds: int
    location: GeoPoint
    created_at: datetime


class FacilityDistance(FacilityRead):
    distance_m: float = Field(description="Geodesic distance on the WGS 84 spheroid, metres")


class ReadinessNoticeRead(BaseModel):
    id: str
    alarm_id: str
    facility_id: str
    facility_name: str
    distance_m: float
    danger_level: int
    alarm_location: GeoPoint
    raised_at: datetime
    status: Literal["open", "closed"]
    opened_at: datetime
    closed_at: datetime | None
    closed_because: str | None


class AccessRecordRead(BaseModel):
    id: int
    at: datetime
    subject: str
    roles: list[str]
    action: str
    resource: str
    resource_id: str | None
    trace_id: str


@router.post("/facilities", status_code=status.HTTP_201_CREATED, response_model=FacilityRead)
async def register_facility(body: FacilityCreate, uow: UowDep, who: Admin) -> FacilityRead:
    """Add a hospital, clinic or health kiosk."""
    facility = await handlers.register_facility(
        uow,
        who,
        facility_id=body.id,
        name=body.name,
        level=body.level,
        emergency_beds=body.emergency_beds,
        location=body.location,
    )
    return FacilityRead.model_validate(facility)


@router.get("/facilities", response_model=Page[FacilityRead])
async def list_facilities(
    uow: UowDep, page: PageDep, who: Reader, level: FacilityLevel | None = None
) -> Page[FacilityRead]:
    items, total = await handlers.list_facilities(
        uow, who, level=level, limit=page.limit, offset=page.offset
    )
    return Page.of(FacilityRead, items, total=total, page=page)


@router.get("/facilities/nearest", response_model=Page[FacilityDistance])
async def nearest_facilities(
    uow: UowDep,
    page: PageDep,
    who: Reader,
    lon: Annotated[QueryLongitude, Query()],
    lat: Annotated[QueryLatitude, Query()],
) -> Page[FacilityDistance]:
    """Facilities nearest a WGS 84 point first, with their geodesic distance."""
    items, total = await handlers.nearest_facilities(
        uow, who, GeoPoint.of(lon, lat), limit=page.limit, offset=page.offset
    )
    return Page.of(FacilityDistance, items, total=total, page=page)


@router.get("/facilities/{facility_id}", response_model=FacilityRead)
async def get_facility(facility_id: str, uow: UowDep, who: Reader) -> FacilityRead:
    return FacilityRead.model_validate(await handlers.get_facility(uow, who, facility_id))


@router.get("/readiness-notices", response_model=Page[ReadinessNoticeRead])
async def list_readiness_notices(
    uow: UowDep,
    page: PageDep,
    who: Reader,
    status_: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
    facility_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ReadinessNoticeRead]:
    """Facilities told to ready for casualties of a forest fire."""
    items, total = await handlers.list_readiness_notices(
        uow, who, status=status_, facility_id=facility_id, limit=page.limit, offset=page.offset
    )
    return Page.of(ReadinessNoticeRead, items, total=total, page=page)


@router.get("/audit", response_model=Page[AccessRecordRead])
async def list_access(
    uow: UowDep,
    page: PageDep,
    who: Admin,
    subject: Annotated[str | None, Query(max_length=256)] = None,
) -> Page[AccessRecordRead]:
    """Who accessed what through this API, newest first."""
    items, total = await handlers.list_access(
        uow, who, subject=subject, limit=page.limit, offset=page.offset
    )
    return Page.of(AccessRecordRead, items, total=total, page=page)
