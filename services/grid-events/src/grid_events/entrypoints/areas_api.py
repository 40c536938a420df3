"""REST API of the administrative hierarchy: GeoJSON import and export.

Cells are placed with ``POST /cells`` one at a time or with ``POST /areas/import``
as a whole FeatureCollection; ``GET /cells/lookup`` finds the cell of a point.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, Field

from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep
from city_common.web.problems import validation_failed
from grid_events.adapters import areas_repo as repo
from grid_events.domain.hierarchy import MAX_FEATURES, AreaLevel, FeatureCollectionError
from grid_events.entrypoints.deps import Admin, Reader
from grid_events.service_layer import areas as handlers

router = APIRouter(prefix="", tags=["areas"])

GEOJSON = "application/geo+json"
AreaIdQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class AreaRead(BaseModel):
    id: str
    name: str
    level: AreaLevel
    parent_id: str | None
    children: int = Field(description="Areas directly below this one")


class AreaDetail(AreaRead):
    geometry: dict[str, Any] = Field(description="GeoJSON MultiPolygon, WGS 84")
    bbox: list[float] = Field(description="west, south, east, north")
    area_m2: float


class AreaRejection(BaseModel):
    row: int = Field(description="1-based position of the feature in the file")
    id: str | None
    field: str
    reason: str


class AreaImportRead(BaseModel):
    received: int
    created: int
    updated: int
    unchanged: int
    rejected_rows: int
    rejected: list[AreaRejection]


@router.post("/areas/import", response_model=AreaImportRead)
async def import_areas(
    uow: UowDep,
    _: Admin,
    document: Annotated[
        Any,
        Body(
            description=(
                "A GeoJSON FeatureCollection; each Feature a Polygon or MultiPolygon with "
                "properties id, name, level (district|town|village|cell) and parent_id. "
                f"At most {MAX_FEATURES:,} features; parents may come after their children."
            ),
            media_type="application/json",
        ),
    ],
) -> AreaImportRead:
    """Import or update the hierarchy; re-importing the same file changes nothing.

    Every acceptable feature is written; the others are listed with their row, the
    field at fault and why (a bad polygon, a cell whose parent is not a village ...).
    """
    try:
        report = await handlers.import_areas(uow, document)
    except FeatureCollectionError as exc:
        raise validation_failed(exc.field, exc.reason) from None
    return AreaImportRead(
        received=report.received,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected_rows=len(report.rejected),
        rejected=[
            AreaRejection(row=r.row, id=r.area_id, field=r.field, reason=r.reason)
            for r in report.rejected
        ],
    )


@router.get(
    "/areas",
    response_model=Page[AreaRead],
    responses={200: {"content": {GEOJSON: {}}, "description": "With format=geojson"}},
)
async def list_areas(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    level: AreaLevel | None = None,
    parent_id: AreaIdQuery = None,
    format_: Annotated[
        Literal["json", "geojson"],
        Query(alias="format", description="geojson: every match, as an importable file"),
    ] = "json",
) -> Page[AreaRead] | Response:
    """Areas of the hierarchy; ``format=geojson`` exports them (unpaged) with their polygons."""
    level_value = level.value if level is not None else None
    if format_ == "geojson":
        document = await repo.export_areas(uow.session, level=level_value, parent_id=parent_id)
        return Response(content=document, media_type=GEOJSON)
    items, total = await repo.list_areas(
        uow.session, level=level_value, parent_id=parent_id, limit=page.limit, offset=page.offset
    )
    return Page.of(AreaRead, items, total=total, page=page)


@router.get("/areas/{area_id}", response_model=AreaDetail)
async def get_area(area_id: str, uow: UowDep, _: Reader) -> AreaDetail:
    area = await handlers.get_area(uow, area_id)
    return AreaDetail.model_validate(area)
