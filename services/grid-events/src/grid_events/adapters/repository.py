"""SQL for cells and cases; returns plain dicts ready for the API schemas."""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import case, cast, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPoint, GeoPolygon
from grid_events.adapters.orm import case_reports, cases, grid_cells

_CASE_COLUMNS = (
    cases.c.id,
    cases.c.category,
    cases.c.status,
    cases.c.department,
    cases.c.cell_id,
    cases.c.source_kind,
    cases.c.source_ref,
    cases.c.description,
    cases.c.opened_at,
    cases.c.updated_at,
    cases.c.report_count,
    # The workflow: urgency, due time, holder, escalation, end times.
    cases.c.priority,
    cases.c.due_at,
    cases.c.assignee_worker_id,
    cases.c.escalation_level,
    cases.c.resolved_at,
    cases.c.closed_at,
    func.ST_AsGeoJSON(cases.c.location).label("location"),
)


_GEOGRAPHY = Geography(srid=4326)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["location"] = json.loads(data["location"])
    return data


async def cell_at(session: AsyncSession, point: GeoPoint) -> str | None:
    """The finest cell containing the point (cells nest district > town > village > cell).

    The finest level wins (a cell over its village). A point on the edge two areas
    of one level share is covered by both: the one whose id sorts first takes it,
    so the same point always lands in the same cell. (Comparing their areas would
    let floating-point noise in the coordinates decide.)
    """
    geom = func.ST_GeomFromEWKT(point.to_wkt())
    finest_first = case(
        {"cell": 0, "village": 1, "town": 2, "district": 3}, value=grid_cells.c.level, else_=4
    )
    stmt = (
        select(grid_cells.c.id)
        .where(func.ST_Covers(grid_cells.c.geom, geom))
        .order_by(finest_first, grid_cells.c.id)
        .limit(1)
    )
    return await session.scalar(stmt)


# The finest covering area and its ancestors in one round trip: the ordering is
# ``cell_at``'s (finest level first, then id), the walk up is ``workflow_repo.ancestry``'s.
_CELL_AND_ANCESTRY = text(
    """
    WITH RECURSIVE here AS (
        SELECT id, parent_id FROM grid_cells
        WHERE ST_Covers(geom, ST_GeomFromEWKT(:point))
        ORDER BY CASE level WHEN 'cell' THEN 0 WHEN 'village' THEN 1
                            WHEN 'town' THEN 2 WHEN 'district' THEN 3 ELSE 4 END, id
        LIMIT 1
    ), up(id, parent_id, n) AS (
        SELECT id, parent_id, 0 FROM here
        UNION ALL
        SELECT g.id, g.parent_id, up.n + 1
        FROM grid_cells g JOIN up ON g.id = up.parent_id
        WHERE up.n < :max_depth
    )
    SELECT id FROM up ORDER BY n
    """
)

# Deeper than any real hierarchy (district > town > village > cell): a guard
# against a parent cycle someone might write by hand.
MAX_DEPTH = 16


async def cell_and_ancestry(session: AsyncSession, point: GeoPoint) -> list[str]:
    """``cell_at`` the point, then that cell's parents up to the top; empty: no cell."""
    rows = await session.execute(
        _CELL_AND_ANCESTRY, {"point": point.to_wkt(), "max_depth": MAX_DEPTH}
    )
    return [r[0] for r in rows]


async def add_cell(
    session: AsyncSession,
    *,
    cell_id: str,
    name: str,
    level: str,
    parent_id: str | None,
    polygon: GeoPolygon,
) -> None:
    await session.execute(
        grid_cells.insert().values(
            id=cell_id,
            name=name,
            level=level,
            parent_id=parent_id,
            geom=func.ST_Multi(func.ST_GeomFromEWKT(polygon.to_wkt())),
        )
    )


async def cell_exists(session: AsyncSession, cell_id: str) -> bool:
    return (
        await session.scalar(select(grid_cells.c.id).where(grid_cells.c.id == cell_id))
    ) is not None


async def add_case(session: AsyncSession, *, location: GeoPoint, **values: Any) -> dict[str, Any]:
    """Insert a case; the row as ``get_case`` would read it (defaults filled in)."""
    stmt = (
        cases.insert()
        .values(location=func.ST_GeomFromEWKT(location.to_wkt()), **values)
        .returning(*_CASE_COLUMNS)
    )
    return _row((await session.execute(stmt)).one())


async def update_case(session: AsyncSession, case_id: str, **values: Any) -> dict[str, Any] | None:
    """Change a case; the changed row as ``get_case`` would read it (None: no such case)."""
    stmt = (
        update(cases)
        .where(cases.c.id == case_id)
        .values(updated_at=func.now(), **values)
        .returning(*_CASE_COLUMNS)
    )
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


async def get_case(session: AsyncSession, case_id: str) -> dict[str, Any] | None:
    row = (await session.execute(select(*_CASE_COLUMNS).where(cases.c.id == case_id))).first()
    return _row(row) if row else None


async def open_report_for_source(
    session: AsyncSession, kind: str, ref: str
) -> tuple[str, dict[str, Any]] | None:
    """The open report of an automatic source (an alarm, a camera) and its case."""
    stmt = (
        select(case_reports.c.id.label("report_id"), *_CASE_COLUMNS)
        .join(cases, cases.c.id == case_reports.c.case_id)
        .where(
            case_reports.c.source_kind == kind,
            case_reports.c.source_ref == ref,
            case_reports.c.closed_at.is_(None),
            cases.c.status != "closed",
        )
        .order_by(case_reports.c.reported_at.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    data = _row(row)
    return data.pop("report_id"), data


async def add_report(
    session: AsyncSession,
    *,
    report_id: str,
    case_id: str,
    source_kind: str,
    source_ref: str,
    description: str | None,
    location: GeoPoint,
) -> None:
    await session.execute(
        insert(case_reports).values(
            id=report_id,
            case_id=case_id,
            source_kind=source_kind,
            source_ref=source_ref,
            description=description,
            location=func.ST_GeomFromEWKT(location.to_wkt()),
        )
    )


async def nearby_open_case(
    session: AsyncSession,
    *,
    category: str,
    location: GeoPoint,
    radius_m: float,
    reported_since: datetime,
    finished: Collection[str],
) -> dict[str, Any] | None:
    """The nearest unfinished case of ``category`` within ``radius_m`` (geodesic).

    The planar bounding box of the radius lets the GiST index find candidates; the
    geography distance then decides.
    """
    point = func.ST_GeomFromEWKT(location.to_wkt())
    # A degree of latitude is at least 110.5 km, one of longitude 111.3 km × cos(lat):
    # this margin in degrees covers the radius in both directions (a little more).
    margin = radius_m / (110_000.0 * max(math.cos(math.radians(location.lat)), 0.01))
    box = func.ST_Expand(point, margin)
    geodesic = func.ST_Distance(cast(cases.c.location, _GEOGRAPHY), cast(point, _GEOGRAPHY))
    stmt = (
        select(*_CASE_COLUMNS)
        .where(
            cases.c.category == category,
            cases.c.status.not_in(list(finished)),
            cases.c.last_reported_at >= reported_since,
            cases.c.location.intersects(box),
            geodesic <= radius_m,
        )
        .order_by(geodesic, cases.c.opened_at)
        .limit(1)
        .with_for_update(of=cases)
    )
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


async def note_report(session: AsyncSession, case_id: str) -> dict[str, Any] | None:
    """Count one more report on the case; the case as it now is (None: no such case)."""
    stmt = (
        update(cases)
        .where(cases.c.id == case_id)
        .values(
            report_count=cases.c.report_count + 1,
            last_reported_at=func.now(),
            updated_at=func.now(),
        )
        .returning(*_CASE_COLUMNS)
    )
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


async def close_report(session: AsyncSession, report_id: str) -> None:
    await session.execute(
        update(case_reports).where(case_reports.c.id == report_id).values(closed_at=func.now())
    )


async def open_reports_from(session: AsyncSession, case_id: str, kinds: Collection[str]) -> int:
    """How many reports of these source kinds on the case are still open."""
    count = await session.scalar(
        select(func.count())
        .select_from(case_reports)
        .where(
            case_reports.c.case_id == case_id,
            case_reports.c.source_kind.in_(list(kinds)),
            case_reports.c.closed_at.is_(None),
        )
    )
    return int(count or 0)


async def reports_of(session: AsyncSession, case_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            case_reports.c.id,
            case_reports.c.source_kind,
            case_reports.c.source_ref,
            case_reports.c.description,
            case_reports.c.reported_at,
            case_reports.c.closed_at,
            func.ST_AsGeoJSON(case_reports.c.location).label("location"),
        )
        .where(case_reports.c.case_id == case_id)
        .order_by(case_reports.c.reported_at, case_reports.c.id)
    )
    return [_row(r) for r in rows]


async def set_status(session: AsyncSession, case_id: str, status: str) -> None:
    await session.execute(
        update(cases).where(cases.c.id == case_id).values(status=status, updated_at=func.now())
    )


async def list_cases(
    session: AsyncSession,
    *,
    status: str | None,
    category: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if status:
        conditions.append(cases.c.status == status)
    if category:
        conditions.append(cases.c.category == category)
    total = await session.scalar(select(func.count()).select_from(cases).where(*conditions))
    rows = await session.execute(
        select(*_CASE_COLUMNS)
        .where(*conditions)
        .order_by(cases.c.opened_at.desc(), cases.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)
