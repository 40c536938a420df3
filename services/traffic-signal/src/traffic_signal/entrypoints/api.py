"""REST API of traffic-signal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from city_common.auth import Principal, Role, require_roles
from city_common.events.schemas import TrafficIncidentKind
from city_common.geo import GeoPoint
from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep
from traffic_signal.adapters import repository as repo
from traffic_signal.domain.model import IncidentStatus
from traffic_signal.service_layer import handlers

router = APIRouter(prefix="", tags=["traffic"])

Identifier = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]

Reader = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.DISPATCHER, Role.SERVICE))]
# Incidents come from the command centre and from the video analytics (a service).
Reporter = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.SERVICE))]
Clearer = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.DISPATCHER))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


class IntersectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Identifier
    name: str = Field(strict=True, min_length=1, max_length=128)
    location: GeoPoint
    signal_groups: int = Field(strict=True, ge=1, le=32)
    corridor_id: Identifier | None = None


class IntersectionRead(BaseModel):
    id: str
    name: str
    location: GeoPoint
    signal_groups: int
    corridor_id: str | None
    registered_at: datetime


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: TrafficIncidentKind
    severity: int = Field(strict=True, ge=1, le=5)
    location: GeoPoint
    intersection_id: Identifier | None = None


class GridCaseLink(BaseModel):
    id: str
    status: str
    updated_at: datetime


class IncidentRead(BaseModel):
    id: str
    kind: TrafficIncidentKind
    severity: int
    status: IncidentStatus
    location: GeoPoint
    intersection_id: str | None
    reported_by: str
    detected_at: datetime
    cleared_at: datetime | None
    cleared_by: str | None
    grid_case: GridCaseLink | None = Field(
        description="The grid case handling the incident, as grid-events last reported it"
    )


@router.post("/intersections", status_code=status.HTTP_201_CREATED, response_model=IntersectionRead)
async def register_intersection(
    body: IntersectionCreate, uow: UowDep, _: Admin
) -> IntersectionRead:
    """Register a signalised intersection, optionally on a green-wave corridor."""
    intersection = await handlers.register_intersection(
        uow,
        intersection_id=body.id,
        name=body.name,
        location=body.location,
        signal_groups=body.signal_groups,
        corridor_id=body.corridor_id,
    )
    return IntersectionRead.model_validate(intersection)


@router.get("/intersections", response_model=Page[IntersectionRead])
async def list_intersections(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    corridor_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[IntersectionRead]:
    items, total = await repo.list_intersections(
        uow.session, corridor_id=corridor_id, limit=page.limit, offset=page.offset
    )
    return Page.of(IntersectionRead, items, total=total, page=page)


@router.get("/intersections/{intersection_id}", response_model=IntersectionRead)
async def get_intersection(intersection_id: str, uow: UowDep, _: Reader) -> IntersectionRead:
    return IntersectionRead.model_validate(await handlers.get_intersection(uow, intersection_id))


@router.post("/incidents", status_code=status.HTTP_201_CREATED, response_model=IncidentRead)
async def report_incident(body: IncidentCreate, uow: UowDep, principal: Reporter) -> IncidentRead:
    """Report a traffic incident; grid-events opens a case for it."""
    incident = await handlers.report_incident(
        uow,
        kind=body.kind,
        severity=body.severity,
        location=body.location,
        intersection_id=body.intersection_id,
        reporter=principal.subject,
    )
    return IncidentRead.model_validate(incident)


@router.post("/incidents/{incident_id}/clear", response_model=IncidentRead)
async def clear_incident(incident_id: str, uow: UowDep, principal: Clearer) -> IncidentRead:
    """Mark the road clear again; 409 when the incident is already cleared."""
    incident = await handlers.clear_incident(uow, incident_id, actor=principal.subject)
    return IncidentRead.model_validate(incident)


@router.get("/incidents", response_model=Page[IncidentRead])
async def list_incidents(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    status_: Annotated[IncidentStatus | None, Query(alias="status")] = None,
    kind: TrafficIncidentKind | None = None,
    intersection_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[IncidentRead]:
    """Incidents, newest first."""
    items, total = await repo.list_incidents(
        uow.session,
        status=status_.value if status_ else None,
        kind=kind.value if kind else None,
        intersection_id=intersection_id,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(IncidentRead, items, total=total, page=page)


@router.get("/incidents/{incident_id}", response_model=IncidentRead)
async def get_incident(incident_id: str, uow: UowDep, _: Reader) -> IncidentRead:
    return IncidentRead.model_validate(await handlers.get_incident(uow, incident_id))
