"""REST API of the command centre's views: the case map and the statistics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from city_common.runtime import UowDep
from city_common.web.problems import validation_failed
from grid_events.adapters.views_repo import CaseFilter
from grid_events.domain.hierarchy import AreaLevel
from grid_events.domain.stats import (
    MAP_LIMIT_DEFAULT,
    MAP_LIMIT_MAX,
    OPEN_STATUSES,
    CaseStatus,
    FilterError,
    GroupBy,
    Period,
    check_time_range,
    parse_bbox,
    stats_window,
)
from grid_events.entrypoints.api import Category
from grid_events.entrypoints.deps import Reader
from grid_events.service_layer import views

router = APIRouter(prefix="", tags=["command centre"])

GEOJSON = "application/geo+json"
AreaId = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="An area of the hierarchy: cases in its subtree (by the parent chain)",
    ),
]


def _checked(error: FilterError) -> Exception:
    return validation_failed(error.field, error.reason)


@router.get(
    "/map/cases",
    response_class=Response,
    responses={
        200: {
            "content": {GEOJSON: {}},
            "description": (
                "A GeoJSON FeatureCollection of cases, newest first; each Feature's "
                "properties: id, category, status, priority, cell_id, opened_at, due_at, "
                "overdue. Foreign members: `limit`, and `truncated` when more matched."
            ),
        }
    },
)
async def case_map(
    uow: UowDep,
    _: Reader,
    category: Annotated[list[Category] | None, Query(description="Repeat for several")] = None,
    status_: Annotated[
        list[CaseStatus] | None,
        Query(alias="status", description="Repeat for several; default: every open status"),
    ] = None,
    area: AreaId = None,
    bbox: Annotated[
        str | None, Query(max_length=128, description="west,south,east,north (WGS 84)")
    ] = None,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    limit: Annotated[
        int, Query(ge=1, le=MAP_LIMIT_MAX, description=f"At most {MAP_LIMIT_MAX:,}")
    ] = MAP_LIMIT_DEFAULT,
) -> Response:
    """Cases for the command centre's map, filterable by category, status, area and time."""
    try:
        check_time_range(opened_from, opened_to, "opened_")
        box = parse_bbox(bbox) if bbox is not None else None
    except FilterError as exc:
        raise _checked(exc) from None
    selection = CaseFilter(
        categories=tuple(dict.fromkeys(category or ())),
        statuses=tuple(dict.fromkeys(s.value for s in status_)) if status_ else OPEN_STATUSES,
        area=area,
        bbox=box,
        opened_from=opened_from,
        opened_to=opened_to,
    )
    document = await views.case_map(uow, selection, limit=limit, now=datetime.now(UTC))
    return Response(content=document, media_type=GEOJSON)


class StatsGroup(BaseModel):
    key: str = Field(description="The category, status, area id or period start (YYYY-MM-DD)")
    cases: int
    closed: int
    closed_within_due: int
    share_closed_within_due: float | None = Field(
        description="Of the closed cases that had a due time, the share closed by it"
    )
    median_hours_to_close: float | None


class CaseStats(BaseModel):
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    group_by: GroupBy
    period: Period | None
    area_level: AreaLevel | None
    groups: list[StatsGroup]
    total: int


class Summary(BaseModel):
    from_: datetime | None = Field(serialization_alias="from")
    to: datetime | None
    events_reported: int = Field(description="Reports filed, merged duplicates included")
    cases: int
    cases_closed: int
    closure_rate: float | None
    share_closed_within_due: float | None
    median_hours_to_close: float | None
    disputes_registered: int
    disputes_resolved: int = Field(description="Disputes that ended in an agreement")
    disputes_referred: int
    disputes_pending: int
    dispute_resolution_rate: float | None


@router.get("/stats/cases", response_model=CaseStats, response_model_by_alias=True)
async def case_stats(
    uow: UowDep,
    _: Reader,
    from_: Annotated[
        datetime | None, Query(alias="from", description="Default: 30 days before to")
    ] = None,
    to: Annotated[datetime | None, Query(description="Default: now")] = None,
    group_by: GroupBy = GroupBy.CATEGORY,
    period: Period = Period.DAY,
    area_level: Annotated[
        AreaLevel, Query(description="With group_by=area: the level cases are counted at")
    ] = AreaLevel.TOWN,
    area: AreaId = None,
) -> CaseStats:
    """Cases opened in [from, to): counts, closed within due, median time to close."""
    try:
        window = stats_window(from_, to, datetime.now(UTC), group_by, period)
    except FilterError as exc:
        raise _checked(exc) from None
    figures = await views.case_stats(
        uow, window, group_by=group_by, period=period, area_level=area_level.value, area=area
    )
    figures["from_"] = figures.pop("from")
    return CaseStats.model_validate(figures)


@router.get("/stats/summary", response_model=Summary, response_model_by_alias=True)
async def summary(
    uow: UowDep,
    _: Reader,
    from_: Annotated[datetime | None, Query(alias="from", description="Default: all time")] = None,
    to: Annotated[datetime | None, Query(description="Default: now")] = None,
) -> Summary:
    """Events reported, closure rate, disputes resolved: the seed's kind of figures."""
    try:
        check_time_range(from_, to, "")
    except FilterError as exc:
        raise _checked(exc) from None
    figures = await views.summary(uow, start=from_, end=to)
    figures["from_"] = figures.pop("from")
    return Summary.model_validate(figures)
