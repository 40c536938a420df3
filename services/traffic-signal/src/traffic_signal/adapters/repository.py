"""SQL for intersections and incidents; returns plain dicts ready for the API schemas."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPoint
from traffic_signal.adapters.orm import incidents, intersections

_INTERSECTION_COLUMNS = (
    intersections.c.id,
    intersections.c.name,
    intersections.c.signal_groups,
    intersections.c.corridor_id,
    intersections.c.registered_at,
    func.ST_AsGeoJSON(intersections.c.location).label("location"),
)

_INCIDENT_COLUMNS = (
    incidents.c.id,
    incidents.c.kind,
    incidents.c.severity,
    incidents.c.status,
    incidents.c.intersection_id,
    incidents.c.reported_by,
    incidents.c.detected_at,
    incidents.c.cleared_at,
    incidents.c.cleared_by,
    incidents.c.case_id,
    incidents.c.case_status,
    incidents.c.case_updated_at,
    func.ST_AsGeoJSON(incidents.c.location).label("location"),
)


def _intersection(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["location"] = json.loads(data["location"])
    return data


def _incident(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["location"] = json.loads(data["location"])
    case_id = data.pop("case_id")
    case_status = data.pop("case_status")
    case_updated_at = data.pop("case_updated_at")
    data["grid_case"] = (
        {"id": case_id, "status": case_status, "updated_at": case_updated_at}
        if case_id is not None
        else None
    )
    return data


async def add_intersection(
    session: AsyncSession,
    *,
    intersection_id: str,
    name: str,
    location: GeoPoint,
    signal_groups: int,
    corridor_id: str | None,
) -> bool:
    """Insert the intersection; False when the id is already taken."""
    stmt = (
        pg_insert(intersections)
        .values(
            id=intersection_id,
            name=name,
            location=func.ST_GeomFromEWKT(location.to_wkt()),
            signal_groups=signal_groups,
            corridor_id=corridor_id,
        )
        .on_conflict_do_nothing(index_elements=[intersections.c.id])
        .returning(intersections.c.id)
    )
    return (await session.scalar(stmt)) is not None


async def get_intersection(session: AsyncSession, intersection_id: str) -> dict[str, Any] | None:
    stmt = select(*_INTERSECTION_COLUMNS).where(intersections.c.id == intersection_id)
    row = (await session.execute(stmt)).first()
    return _intersection(row) if row else None


async def intersection_exists(session: AsyncSession, intersection_id: str) -> bool:
    stmt = select(intersections.c.id).where(intersections.c.id == intersection_id)
    return (await session.scalar(stmt)) is not None


async def list_intersections(
    session: AsyncSession, *, corridor_id: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if corridor_id is not None:
        conditions.append(intersections.c.corridor_id == corridor_id)
    total = await session.scalar(select(func.count()).select_from(intersections).where(*conditions))
    rows = await session.execute(
        select(*_INTERSECTION_COLUMNS)
        .where(*conditions)
        .order_by(intersections.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_intersection(r) for r in rows], int(total or 0)


async def add_incident(session: AsyncSession, *, location: GeoPoint, **values: Any) -> None:
    await session.execute(
        incidents.insert().values(location=func.ST_GeomFromEWKT(location.to_wkt()), **values)
    )


async def get_incident(
    session: AsyncSession, incident_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    stmt = select(*_INCIDENT_COLUMNS).where(incidents.c.id == incident_id)
    if for_update:
        stmt = stmt.with_for_update(of=incidents)
    row = (await session.execute(stmt)).first()
    return _incident(row) if row else None


async def mark_cleared(
    session: AsyncSession, incident_id: str, *, status: str, at: datetime, by: str
) -> None:
    await session.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(status=status, cleared_at=at, cleared_by=by)
    )


async def record_case(
    session: AsyncSession, incident_id: str, *, case_id: str, status: str, at: datetime
) -> None:
    await session.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(case_id=case_id, case_status=status, case_updated_at=at)
    )


async def list_incidents(
    session: AsyncSession,
    *,
    status: str | None,
    kind: str | None,
    intersection_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if status is not None:
        conditions.append(incidents.c.status == status)
    if kind is not None:
        conditions.append(incidents.c.kind == kind)
    if intersection_id is not None:
        conditions.append(incidents.c.intersection_id == intersection_id)
    total = await session.scalar(select(func.count()).select_from(incidents).where(*conditions))
    rows = await session.execute(
        select(*_INCIDENT_COLUMNS)
        .where(*conditions)
        .order_by(incidents.c.detected_at.desc(), incidents.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_incident(r) for r in rows], int(total or 0)
