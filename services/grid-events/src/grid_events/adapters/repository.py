"""SQL for cells and cases; returns plain dicts ready for the API schemas."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPoint, GeoPolygon
from grid_events.adapters.orm import cases, grid_cells

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
    func.ST_AsGeoJSON(cases.c.location).label("location"),
)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["location"] = json.loads(data["location"])
    return data


async def cell_at(session: AsyncSession, point: GeoPoint) -> str | None:
    """The finest cell containing the point (cells nest district > town > village > cell)."""
    geom = func.ST_GeomFromEWKT(point.to_wkt())
    stmt = (
        select(grid_cells.c.id)
        .where(func.ST_Covers(grid_cells.c.geom, geom))
        .order_by(func.ST_Area(grid_cells.c.geom))
        .limit(1)
    )
    return await session.scalar(stmt)


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


async def add_case(session: AsyncSession, *, location: GeoPoint, **values: Any) -> None:
    await session.execute(
        cases.insert().values(location=func.ST_GeomFromEWKT(location.to_wkt()), **values)
    )


async def get_case(session: AsyncSession, case_id: str) -> dict[str, Any] | None:
    row = (await session.execute(select(*_CASE_COLUMNS).where(cases.c.id == case_id))).first()
    return _row(row) if row else None


async def open_case_for_source(session: AsyncSession, kind: str, ref: str) -> dict[str, Any] | None:
    stmt = (
        select(*_CASE_COLUMNS)
        .where(cases.c.source_kind == kind, cases.c.source_ref == ref, cases.c.status != "closed")
        .order_by(cases.c.opened_at.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


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
