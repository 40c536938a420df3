"""SQL for facilities, readiness notices and the access audit; returns plain dicts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPoint
from health_record.adapters.orm import access_audit, facilities, readiness_notices
from health_record.domain.model import Accessor, Candidate

_FACILITY_COLUMNS = (
    facilities.c.id,
    facilities.c.name,
    facilities.c.level,
    facilities.c.emergency_beds,
    facilities.c.created_at,
    func.ST_AsGeoJSON(facilities.c.location).label("location"),
)

_NOTICE_COLUMNS = (
    readiness_notices.c.id,
    readiness_notices.c.alarm_id,
    readiness_notices.c.facility_id,
    facilities.c.name.label("facility_name"),
    readiness_notices.c.distance_m,
    readiness_notices.c.danger_level,
    readiness_notices.c.raised_at,
    readiness_notices.c.status,
    readiness_notices.c.opened_at,
    readiness_notices.c.closed_at,
    readiness_notices.c.closed_because,
    func.ST_AsGeoJSON(readiness_notices.c.alarm_location).label("alarm_location"),
)

_AUDIT_COLUMNS = (
    access_audit.c.id,
    access_audit.c.at,
    access_audit.c.subject,
    access_audit.c.roles,
    access_audit.c.action,
    access_audit.c.resource,
    access_audit.c.resource_id,
    access_audit.c.trace_id,
)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for key in ("location", "alarm_location"):
        if key in data:
            data[key] = json.loads(data[key])
    return data


def _geography(point: GeoPoint) -> ColumnElement[Any]:
    return func.geography(func.ST_GeomFromEWKT(point.to_wkt()))


async def add_facility(
    session: AsyncSession,
    *,
    facility_id: str,
    name: str,
    level: str,
    emergency_beds: int,
    location: GeoPoint,
) -> bool:
    """Insert a facility; False when the id is taken (decided by the database, race-free)."""
    stmt = (
        pg_insert(facilities)
        .values(
            id=facility_id,
            name=name,
            level=level,
            emergency_beds=emergency_beds,
            location=func.ST_GeomFromEWKT(location.to_wkt()),
        )
        .on_conflict_do_nothing(index_elements=[facilities.c.id])
        .returning(facilities.c.id)
    )
    return (await session.scalar(stmt)) is not None


async def get_facility(session: AsyncSession, facility_id: str) -> dict[str, Any] | None:
    stmt = select(*_FACILITY_COLUMNS).where(facilities.c.id == facility_id)
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


async def list_facilities(
    session: AsyncSession, *, level: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if level:
        conditions.append(facilities.c.level == level)
    total = await session.scalar(select(func.count()).select_from(facilities).where(*conditions))
    rows = await session.execute(
        select(*_FACILITY_COLUMNS)
        .where(*conditions)
        .order_by(facilities.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)


async def nearest_facilities(
    session: AsyncSession, point: GeoPoint, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Facilities by geodesic distance from ``point``, nearest first, with ``distance_m``."""
    distance = func.ST_Distance(func.geography(facilities.c.location), _geography(point))
    total = await session.scalar(select(func.count()).select_from(facilities))
    rows = await session.execute(
        select(*_FACILITY_COLUMNS, distance.label("distance_m"))
        .order_by(distance, facilities.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)


async def facilities_within(
    session: AsyncSession, point: GeoPoint, radius_m: float
) -> list[Candidate]:
    here = _geography(point)
    location = func.geography(facilities.c.location)
    rows = await session.execute(
        select(
            facilities.c.id,
            facilities.c.emergency_beds,
            func.ST_Distance(location, here).label("distance_m"),
        ).where(func.ST_DWithin(location, here, radius_m))
    )
    return [Candidate(r.id, r.emergency_beds, float(r.distance_m)) for r in rows]


async def add_readiness_notice(
    session: AsyncSession, *, alarm_location: GeoPoint, **values: Any
) -> bool:
    """Insert a notice; False when this alarm already readied this facility."""
    stmt = (
        pg_insert(readiness_notices)
        .values(alarm_location=func.ST_GeomFromEWKT(alarm_location.to_wkt()), **values)
        .on_conflict_do_nothing(constraint="uq_readiness_notices_alarm_facility")
        .returning(readiness_notices.c.id)
    )
    return (await session.scalar(stmt)) is not None


async def close_readiness_notices(
    session: AsyncSession, alarm_id: str, *, closed_at: datetime, because: str
) -> int:
    """Close the open notices of an alarm; the number closed."""
    result = await session.execute(
        update(readiness_notices)
        .where(readiness_notices.c.alarm_id == alarm_id, readiness_notices.c.status == "open")
        .values(status="closed", closed_at=closed_at, closed_because=because)
        .returning(readiness_notices.c.id)
    )
    return len(result.all())


async def list_readiness_notices(
    session: AsyncSession,
    *,
    status: str | None,
    facility_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if status:
        conditions.append(readiness_notices.c.status == status)
    if facility_id:
        conditions.append(readiness_notices.c.facility_id == facility_id)
    total = await session.scalar(
        select(func.count()).select_from(readiness_notices).where(*conditions)
    )
    rows = await session.execute(
        select(*_NOTICE_COLUMNS)
        .join_from(readiness_notices, facilities)
        .where(*conditions)
        .order_by(readiness_notices.c.opened_at.desc(), readiness_notices.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)


async def record_access(
    session: AsyncSession,
    accessor: Accessor,
    *,
    action: str,
    resource: str,
    resource_id: str | None,
) -> None:
    await session.execute(
        access_audit.insert().values(
            subject=accessor.subject,
            roles=list(accessor.roles),
            action=action,
            resource=resource,
            resource_id=resource_id,
            trace_id=accessor.trace_id,
        )
    )


async def list_access(
    session: AsyncSession, *, subject: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if subject:
        conditions.append(access_audit.c.subject == subject)
    total = await session.scalar(select(func.count()).select_from(access_audit).where(*conditions))
    rows = await session.execute(
        select(*_AUDIT_COLUMNS)
        .where(*conditions)
        .order_by(access_audit.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)
