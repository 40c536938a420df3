"""REST API of grid-events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from city_common.auth import Principal, Role, require_roles
from city_common.geo import GeoPoint, GeoPolygon, QueryLatitude, QueryLongitude
from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep
from grid_events.adapters import repository as repo
from grid_events.domain.workflow import CaseStatus
from grid_events.entrypoints.deps import SettingsDep
from grid_events.service_layer import handlers

router = APIRouter(prefix="", tags=["grid"])

Category = Literal[
    "forest_fire",
    "camera_fault",
    "air_pollution",
    "water_pollution",
    "traffic_incident",
    "public_safety",
    "other",
]
CellId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]

Reader = Annotated[
    Principal, Depends(require_roles(Role.OPERATOR, Role.DISPATCHER, Role.GRID_WORKER))
]
Writer = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.GRID_WORKER))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category
    description: str = Field(min_length=1, max_length=2000)
    location: GeoPoint


class CaseRead(BaseModel):
    id: str
    category: str
    status: str
    department: str | None
    cell_id: str | None
    source_kind: str
    source_ref: str
    description: str | None
    location: GeoPoint
    opened_at: datetime
    updated_at: datetime
    report_count: int = Field(description="Reports filed into this case (de-duplication)")
    priority: int = Field(description="1 (most urgent) to 4; sets the due time")
    due_at: datetime | None = Field(description="When the holder must have resolved it")
    assignee_worker_id: str | None
    escalation_level: int = Field(description="How often it was escalated up the hierarchy")
    resolved_at: datetime | None
    closed_at: datetime | None


class CaseReportRead(BaseModel):
    id: str
    source_kind: str
    source_ref: str
    description: str | None
    location: GeoPoint
    reported_at: datetime
    closed_at: datetime | None


class CellCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: CellId
    name: str = Field(min_length=1, max_length=128)
    level: Literal["district", "town", "village", "cell"]
    parent_id: CellId | None = None
    boundary: GeoPolygon


class CellLookup(BaseModel):
    cell_id: str | None


@router.post("/cases", status_code=status.HTTP_201_CREATED, response_model=CaseRead)
async def report_case(
    body: CaseCreate, uow: UowDep, settings: SettingsDep, principal: Writer
) -> CaseRead:
    """Report an incident from the field; it is located to its grid cell.

    A report of the same category near an open case (see the dedup settings) joins
    that case, whose ``report_count`` then grows, rather than opening another.
    """
    case = await handlers.report_case(
        uow,
        settings.dedup_rule,
        category=body.category,
        description=body.description,
        location=body.location,
        reporter=principal.subject,
    )
    return CaseRead.model_validate(case)


@router.get("/cases", response_model=Page[CaseRead])
async def list_cases(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    status_: Annotated[
        CaseStatus | None,
        Query(alias="status"),
    ] = None,
    category: Category | None = None,
) -> Page[CaseRead]:
    items, total = await repo.list_cases(
        uow.session, status=status_, category=category, limit=page.limit, offset=page.offset
    )
    return Page.of(CaseRead, items, total=total, page=page)


@router.get("/cases/{case_id}", response_model=CaseRead)
async def get_case(case_id: str, uow: UowDep, _: Reader) -> CaseRead:
    return CaseRead.model_validate(await handlers.get_case(uow, case_id))


@router.get("/cases/{case_id}/reports", response_model=list[CaseReportRead])
async def case_reports(case_id: str, uow: UowDep, _: Reader) -> list[CaseReportRead]:
    """Every report of the incident: the one that opened the case and those merged in."""
    return [CaseReportRead.model_validate(r) for r in await handlers.case_reports(uow, case_id)]


@router.post("/cells", status_code=status.HTTP_201_CREATED)
async def add_cell(body: CellCreate, uow: UowDep, _: Admin) -> dict[str, str]:
    """Add an administrative area or grid cell with its boundary (GeoJSON Polygon)."""
    await handlers.add_cell(
        uow,
        cell_id=body.id,
        name=body.name,
        level=body.level,
        parent_id=body.parent_id,
        polygon=body.boundary,
    )
    return {"id": body.id}


@router.get("/cells/lookup", response_model=CellLookup)
async def lookup_cell(
    uow: UowDep,
    _: Reader,
    lon: Annotated[QueryLongitude, Query()],
    lat: Annotated[QueryLatitude, Query()],
) -> CellLookup:
    """The finest grid cell containing a WGS 84 point."""
    return CellLookup(cell_id=await repo.cell_at(uow.session, GeoPoint.of(lon, lat)))
