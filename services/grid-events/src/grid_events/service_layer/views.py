"""Use cases of the command centre's views: the case map and the statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.web.problems import validation_failed
from grid_events.adapters import views_repo as repo
from grid_events.adapters.views_repo import CaseFilter
from grid_events.domain.stats import GroupBy, Period, StatsWindow, share


async def _check_area(uow: UnitOfWork, area: str | None) -> None:
    if area is not None and not await repo.area_exists(uow.session, area):
        raise validation_failed(
            "query.area", f"area {area!r} does not exist", code="unknown_reference"
        )


async def case_map(uow: UnitOfWork, selection: CaseFilter, *, limit: int, now: datetime) -> str:
    """The cases for the map as GeoJSON text, at most ``limit`` of them."""
    await _check_area(uow, selection.area)
    return await repo.map_cases(uow.session, selection, limit=limit, now=now)


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    median = row["median_close_s"]
    return {
        "cases": int(row["cases"]),
        "closed": int(row["closed"]),
        "closed_within_due": int(row["closed_within_due"]),
        # Of the closed cases that had a due time, the share closed by it.
        "share_closed_within_due": share(
            int(row["closed_within_due"]), int(row["closed_with_due"])
        ),
        "median_hours_to_close": None if median is None else round(float(median) / 3600, 2),
    }


async def case_stats(
    uow: UnitOfWork,
    window: StatsWindow,
    *,
    group_by: GroupBy,
    period: Period,
    area_level: str,
    area: str | None,
) -> dict[str, Any]:
    await _check_area(uow, area)
    rows = await repo.case_stats(
        uow.session,
        start=window.start,
        end=window.end,
        group_by=group_by,
        period=period,
        area_level=area_level,
        area=area,
    )
    groups = [{"key": row["key"], **_figures(row)} for row in rows]
    return {
        "from": window.start,
        "to": window.end,
        "group_by": group_by,
        "period": period if group_by is GroupBy.PERIOD else None,
        "area_level": area_level if group_by is GroupBy.AREA else None,
        "groups": groups,
        "total": sum(g["cases"] for g in groups),
    }


async def summary(
    uow: UnitOfWork, *, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """The seed's kind of figures: events reported, disputes resolved, closure rate."""
    cases = await repo.case_totals(uow.session, start=start, end=end)
    disputes = await repo.dispute_totals(uow.session, start=start, end=end)
    figures = _figures(cases)
    return {
        "from": start,
        "to": end,
        "events_reported": int(cases["reports"]),
        "cases": figures["cases"],
        "cases_closed": figures["closed"],
        "closure_rate": share(figures["closed"], figures["cases"]),
        "share_closed_within_due": figures["share_closed_within_due"],
        "median_hours_to_close": figures["median_hours_to_close"],
        "disputes_registered": int(disputes["registered"]),
        "disputes_resolved": int(disputes["resolved"]),
        "disputes_referred": int(disputes["referred"]),
        "disputes_pending": int(disputes["pending"]),
        "dispute_resolution_rate": share(int(disputes["resolved"]), int(disputes["registered"])),
    }
