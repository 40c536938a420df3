"""SQL for enterprises, policies and compliance notices; returns plain dicts."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPoint
from enterprise_hub.adapters.orm import compliance_notices, enterprises, policies

_ENTERPRISE_COLUMNS = (
    enterprises.c.id,
    enterprises.c.name,
    enterprises.c.credit_code,
    enterprises.c.industry,
    enterprises.c.size,
    enterprises.c.created_at,
    func.ST_AsGeoJSON(enterprises.c.location).label("location"),
)

_POLICY_COLUMNS = (
    policies.c.id,
    policies.c.title,
    policies.c.department,
    policies.c.industries,
    policies.c.summary,
    policies.c.published_at,
)

_NOTICE_COLUMNS = (
    compliance_notices.c.id,
    compliance_notices.c.enterprise_id,
    enterprises.c.name.label("enterprise_name"),
    compliance_notices.c.exceedance_id,
    compliance_notices.c.cell_id,
    compliance_notices.c.medium,
    compliance_notices.c.pollutant,
    compliance_notices.c.concentration,
    compliance_notices.c.limit,
    compliance_notices.c.unit,
    compliance_notices.c.observed_hour,
    compliance_notices.c.distance_m,
    compliance_notices.c.issued_at,
)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    if "location" in data:
        data["location"] = json.loads(data["location"])
    return data


def _geography(point: GeoPoint) -> ColumnElement[Any]:
    return func.geography(func.ST_GeomFromEWKT(point.to_wkt()))


async def add_enterprise(
    session: AsyncSession,
    *,
    enterprise_id: str,
    name: str,
    credit_code: str,
    industry: str,
    size: str,
    location: GeoPoint,
) -> bool:
    """Insert an enterprise; False when its credit code is registered already (race-free)."""
    stmt = (
        pg_insert(enterprises)
        .values(
            id=enterprise_id,
            name=name,
            credit_code=credit_code,
            industry=industry,
            size=size,
            location=func.ST_GeomFromEWKT(location.to_wkt()),
        )
        .on_conflict_do_nothing(index_elements=[enterprises.c.credit_code])
        .returning(enterprises.c.id)
    )
    return (await session.scalar(stmt)) is not None


async def get_enterprise(session: AsyncSession, enterprise_id: str) -> dict[str, Any] | None:
    stmt = select(*_ENTERPRISE_COLUMNS).where(enterprises.c.id == enterprise_id)
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


async def list_enterprises(
    session: AsyncSession, *, industry: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if industry:
        conditions.append(enterprises.c.industry == industry)
    total = await session.scalar(select(func.count()).select_from(enterprises).where(*conditions))
    rows = await session.execute(
        select(*_ENTERPRISE_COLUMNS)
        .where(*conditions)
        .order_by(enterprises.c.name, enterprises.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)


async def add_policy(session: AsyncSession, **values: Any) -> dict[str, Any]:
    row = (
        await session.execute(policies.insert().values(**values).returning(*_POLICY_COLUMNS))
    ).one()
    return _row(row)


async def list_policies(
    session: AsyncSession,
    *,
    applying_to: str | None,
    department: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions: list[ColumnElement[bool]] = []
    if applying_to:
        # domain.model.policy_applies in SQL, so that the page is cut in the database.
        conditions.append(
            or_(
                func.cardinality(policies.c.industries) == 0,
                policies.c.industries.contains([applying_to]),
            )
        )
    if department:
        conditions.append(policies.c.department == department)
    total = await session.scalar(select(func.count()).select_from(policies).where(*conditions))
    rows = await session.execute(
        select(*_POLICY_COLUMNS)
        .where(*conditions)
        .order_by(policies.c.published_at.desc(), policies.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)


async def enterprises_within(
    session: AsyncSession, point: GeoPoint, radius_m: float
) -> list[tuple[str, float]]:
    """(id, geodesic distance in metres) of the enterprises within ``radius_m`` of ``point``."""
    here = _geography(point)
    location = func.geography(enterprises.c.location)
    distance = func.ST_Distance(location, here)
    rows = await session.execute(
        select(enterprises.c.id, distance.label("distance_m"))
        .where(func.ST_DWithin(location, here, radius_m))
        .order_by(distance, enterprises.c.id)
    )
    return [(r.id, float(r.distance_m)) for r in rows]


async def add_compliance_notices(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert notices, skipping an enterprise already told of the same exceedance."""
    if not rows:
        return 0
    stmt = (
        pg_insert(compliance_notices)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_compliance_notices_exceedance")
        .returning(compliance_notices.c.id)
    )
    return len((await session.execute(stmt)).all())


async def list_compliance_notices(
    session: AsyncSession,
    *,
    enterprise_id: str | None,
    exceedance_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if enterprise_id:
        conditions.append(compliance_notices.c.enterprise_id == enterprise_id)
    if exceedance_id:
        conditions.append(compliance_notices.c.exceedance_id == exceedance_id)
    total = await session.scalar(
        select(func.count()).select_from(compliance_notices).where(*conditions)
    )
    rows = await session.execute(
        select(*_NOTICE_COLUMNS)
        .join_from(compliance_notices, enterprises)
        .where(*conditions)
        .order_by(
            compliance_notices.c.issued_at.desc(),
            compliance_notices.c.distance_m,
            compliance_notices.c.id,
        )
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)
