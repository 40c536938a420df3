"""SQL for stations, observations and exceedances; returns plain dicts for the API schemas."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from air_water.adapters.orm import exceedances, observations, stations
from city_common.geo import GeoPoint

_STATION_COLUMNS = (
    stations.c.id,
    stations.c.medium,
    stations.c.name,
    stations.c.cell_id,
    stations.c.created_at,
    func.ST_AsGeoJSON(stations.c.location).label("location"),
)

_OBSERVATION_COLUMNS = (
    observations.c.id,
    observations.c.station_id,
    observations.c.pollutant,
    observations.c.value,
    observations.c.unit,
    observations.c.averaging,
    observations.c.observed_at,
    observations.c.received_at,
)

_EXCEEDANCE_COLUMNS = (
    exceedances.c.id,
    exceedances.c.station_id,
    exceedances.c.observation_id,
    exceedances.c.cell_id,
    exceedances.c.medium,
    exceedances.c.pollutant,
    exceedances.c.concentration,
    exceedances.c.limit,
    exceedances.c.unit,
    exceedances.c.averaging,
    exceedances.c.standard,
    exceedances.c.observed_at,
    exceedances.c.status,
    exceedances.c.detected_at,
    exceedances.c.closed_at,
    exceedances.c.resolution,
    exceedances.c.closed_by_case,
    func.ST_AsGeoJSON(exceedances.c.location).label("location"),
)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    if "location" in data:
        data["location"] = json.loads(data["location"])
    return data


async def add_station(
    session: AsyncSession,
    *,
    station_id: str,
    medium: str,
    name: str,
    cell_id: str,
    location: GeoPoint,
) -> bool:
    """Insert a station; False when the id is taken (decided by the database, race-free)."""
    stmt = (
        pg_insert(stations)
        .values(
            id=station_id,
            medium=medium,
            name=name,
            cell_id=cell_id,
            location=func.ST_GeomFromEWKT(location.to_wkt()),
        )
        .on_conflict_do_nothing(index_elements=[stations.c.id])
        .returning(stations.c.id)
    )
    return (await session.scalar(stmt)) is not None


async def get_station(session: AsyncSession, station_id: str) -> dict[str, Any] | None:
    stmt = select(*_STATION_COLUMNS).where(stations.c.id == station_id)
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


async def list_stations(
    session: AsyncSession,
    *,
    medium: str | None,
    cell_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if medium:
        conditions.append(stations.c.medium == medium)
    if cell_id:
        conditions.append(stations.c.cell_id == cell_id)
    total = await session.scalar(select(func.count()).select_from(stations).where(*conditions))
    rows = await session.execute(
        select(*_STATION_COLUMNS)
        .where(*conditions)
        .order_by(stations.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)


async def add_observation(
    session: AsyncSession,
    *,
    station_id: str,
    pollutant: str,
    value: float,
    unit: str,
    averaging: str,
    observed_at: datetime,
) -> dict[str, Any] | None:
    """Insert a reading; None when the station already reported this pollutant and period."""
    stmt = (
        pg_insert(observations)
        .values(
            station_id=station_id,
            pollutant=pollutant,
            value=value,
            unit=unit,
            averaging=averaging,
            observed_at=observed_at,
        )
        .on_conflict_do_nothing(constraint="uq_observations_reading")
        .returning(*_OBSERVATION_COLUMNS)
    )
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


async def list_observations(
    session: AsyncSession,
    *,
    station_id: str,
    pollutant: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = [observations.c.station_id == station_id]
    if pollutant:
        conditions.append(observations.c.pollutant == pollutant)
    total = await session.scalar(select(func.count()).select_from(observations).where(*conditions))
    rows = await session.execute(
        select(*_OBSERVATION_COLUMNS)
        .where(*conditions)
        .order_by(observations.c.observed_at.desc(), observations.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)


async def add_exceedance(session: AsyncSession, *, location: GeoPoint, **values: Any) -> None:
    await session.execute(
        exceedances.insert().values(location=func.ST_GeomFromEWKT(location.to_wkt()), **values)
    )


async def get_exceedance(session: AsyncSession, exceedance_id: str) -> dict[str, Any] | None:
    stmt = select(*_EXCEEDANCE_COLUMNS).where(exceedances.c.id == exceedance_id)
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


async def close_exceedance(
    session: AsyncSession,
    exceedance_id: str,
    *,
    closed_at: datetime,
    resolution: str,
    case_id: str,
) -> dict[str, Any] | None:
    """Close an open exceedance; None when it is unknown or already closed."""
    stmt = (
        update(exceedances)
        .where(exceedances.c.id == exceedance_id, exceedances.c.status == "open")
        .values(status="closed", closed_at=closed_at, resolution=resolution, closed_by_case=case_id)
        .returning(*_EXCEEDANCE_COLUMNS)
    )
    row = (await session.execute(stmt)).first()
    return _row(row) if row else None


async def list_exceedances(
    session: AsyncSession,
    *,
    status: str | None,
    cell_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if status:
        conditions.append(exceedances.c.status == status)
    if cell_id:
        conditions.append(exceedances.c.cell_id == cell_id)
    total = await session.scalar(select(func.count()).select_from(exceedances).where(*conditions))
    rows = await session.execute(
        select(*_EXCEEDANCE_COLUMNS)
        .where(*conditions)
        .order_by(exceedances.c.detected_at.desc(), exceedances.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)
