"""SQL for imported forest resources, what is near an alarm, its plan, evidence frame,
filters and KPIs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    cast,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from city_common.geo import GeoPoint, GeoPolygon
from fire_detect.adapters.orm import alarm_frames, alarm_transitions, fire_alarms, forest_resources
from fire_detect.domain.model import ForestResourceKind
from fire_detect.domain.resource_import import ResourceFeature
from fire_detect.domain.response import CANDIDATES_PER_KIND, NearbyResource

# --- import and export -----------------------------------------------------


async def invalid_shapes(
    session: AsyncSession, features: Sequence[ResourceFeature]
) -> dict[int, str]:
    """Feature index -> why PostGIS finds its (polygonal) geometry invalid."""
    out: dict[int, str] = {}
    for f in features:
        if not f.polygonal:
            continue
        reason = await session.scalar(
            select(func.ST_IsValidReason(func.ST_GeomFromGeoJSON(json.dumps(f.geometry))))
        )
        if reason != "Valid Geometry":
            out[f.index] = str(reason)
    return out


async def upsert_features(session: AsyncSession, features: Sequence[ResourceFeature]) -> int:
    """Insert or update each feature by id; returns how many were new."""
    if not features:
        return 0
    created = 0
    # One statement per feature: an import is a few thousand rows at most, and each
    # row's own ON CONFLICT tells whether it was new.
    for f in features:
        geojson = json.dumps(f.geometry)
        geom = func.ST_SetSRID(func.ST_GeomFromGeoJSON(geojson), 4326)
        stmt = pg_insert(forest_resources).values(
            id=f.id,
            kind=f.kind.value,
            name=f.name,
            subtype=f.subtype,
            properties=dict(f.properties),
            # A point on the shape (inside an area, on a line) keeps the point
            # queries (/resources/nearest) answering for every kind.
            location=cast(func.ST_PointOnSurface(geom), forest_resources.c.location.type),
            shape=cast(geom, forest_resources.c.shape.type),
        )
        upsert: ReturningInsert[Any] = stmt.on_conflict_do_update(
            index_elements=[forest_resources.c.id],
            set_={
                "kind": stmt.excluded.kind,
                "name": stmt.excluded.name,
                "subtype": stmt.excluded.subtype,
                "properties": stmt.excluded.properties,
                "location": stmt.excluded.location,
                "shape": stmt.excluded.shape,
                "updated_at": func.now(),
            },
        ).returning(literal_column("xmax = 0").label("inserted"))
        inserted = await session.scalar(upsert)
        created += int(bool(inserted))
    return created


async def export_resources(
    session: AsyncSession, *, kind: ForestResourceKind | None
) -> list[dict[str, Any]]:
    conditions = [forest_resources.c.kind == kind.value] if kind is not None else []
    rows = await session.execute(
        select(
            forest_resources.c.id,
            forest_resources.c.kind,
            forest_resources.c.name,
            forest_resources.c.subtype,
            forest_resources.c.properties,
            func.ST_AsGeoJSON(
                func.coalesce(forest_resources.c.shape, forest_resources.c.location)
            ).label("geometry"),
        )
        .where(*conditions)
        .order_by(forest_resources.c.id)
    )
    return [{**r._mapping, "geometry": json.loads(r.geometry)} for r in rows]


# --- around an alarm ---------------------------------------------------------


async def nearby_resources(session: AsyncSession, point: GeoPoint) -> list[NearbyResource]:
    """The nearest few of each kind (and of each hazard subtype), with distances in
    metres on the spheroid to the resource's shape (0 when an area holds the point)."""
    here = func.ST_GeogFromText(point.to_wkt())
    shape = func.coalesce(forest_resources.c.shape, forest_resources.c.location)
    # The distance once per row (it is the costly part: polygons), then ranked.
    measured = select(
        forest_resources.c.id,
        forest_resources.c.kind,
        forest_resources.c.name,
        forest_resources.c.subtype,
        func.ST_Distance(shape, here).label("distance_m"),
    ).subquery()
    ranked = select(
        measured,
        func.row_number()
        .over(
            partition_by=(measured.c.kind, measured.c.subtype),
            order_by=(measured.c.distance_m, measured.c.id),
        )
        .label("rank"),
    ).subquery()
    rows = await session.execute(
        select(ranked)
        .where(ranked.c.rank <= cast(CANDIDATES_PER_KIND, Integer))
        .order_by(ranked.c.distance_m, ranked.c.id)
    )
    out: list[NearbyResource] = []
    for r in rows:
        try:
            kind = ForestResourceKind(r.kind)
        except ValueError:
            continue
        out.append(
            NearbyResource(
                id=r.id,
                kind=kind,
                name=r.name,
                distance_m=float(r.distance_m),
                subtype=r.subtype,
                # No distance to an area is the fire being in it (or on its edge).
                contains_fire=kind is ForestResourceKind.FOREST_COMPARTMENT
                and float(r.distance_m) == 0.0,
            )
        )
    return out


async def set_response(
    session: AsyncSession, alarm_id: str, *, resources: dict[str, Any], plan: dict[str, Any]
) -> None:
    await session.execute(
        update(fire_alarms)
        .where(fire_alarms.c.id == alarm_id)
        .values(resources=resources, plan=plan)
    )


async def alarm_location(session: AsyncSession, alarm_id: str) -> tuple[GeoPoint, int] | None:
    row = (
        await session.execute(
            select(
                func.ST_X(fire_alarms.c.location).label("lon"),
                func.ST_Y(fire_alarms.c.location).label("lat"),
                fire_alarms.c.danger_level,
            ).where(fire_alarms.c.id == alarm_id)
        )
    ).first()
    if row is None:
        return None
    return GeoPoint.of(float(row.lon), float(row.lat)), int(row.danger_level)


# --- evidence frame ------------------------------------------------------------


async def add_frame(
    session: AsyncSession, *, alarm_id: str, content_type: str, image: bytes, captured_at: datetime
) -> None:
    await session.execute(
        alarm_frames.insert().values(
            alarm_id=alarm_id, content_type=content_type, image=image, captured_at=captured_at
        )
    )


async def get_frame(session: AsyncSession, alarm_id: str) -> tuple[str, bytes] | None:
    row = (
        await session.execute(
            select(alarm_frames.c.content_type, alarm_frames.c.image).where(
                alarm_frames.c.alarm_id == alarm_id
            )
        )
    ).first()
    return (row.content_type, bytes(row.image)) if row else None


async def has_frame(session: AsyncSession, alarm_id: str) -> bool:
    found = await session.scalar(
        select(alarm_frames.c.alarm_id).where(alarm_frames.c.alarm_id == alarm_id)
    )
    return found is not None


# --- filters and KPIs --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """Alarm list filters; every one given must hold (None: not filtered)."""

    raised_from: datetime | None = None
    raised_to: datetime | None = None
    camera_id: str | None = None
    danger_level: int | None = None
    # west, south, east, north in degrees
    bbox: tuple[float, float, float, float] | None = None
    within: GeoPolygon | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.raised_from is not None:
            out.append(fire_alarms.c.raised_at >= self.raised_from)
        if self.raised_to is not None:
            out.append(fire_alarms.c.raised_at < self.raised_to)
        if self.camera_id is not None:
            out.append(fire_alarms.c.camera_id == self.camera_id)
        if self.danger_level is not None:
            out.append(fire_alarms.c.danger_level == self.danger_level)
        if self.bbox is not None:
            west, south, east, north = self.bbox
            envelope = func.ST_MakeEnvelope(west, south, east, north, 4326)
            out.append(func.ST_Intersects(fire_alarms.c.location, envelope))
        if self.within is not None:
            polygon = func.ST_GeomFromEWKT(self.within.to_wkt())
            out.append(func.ST_Intersects(fire_alarms.c.location, polygon))
        return out


async def kpi_rows(
    session: AsyncSession, *, raised_from: datetime | None, raised_to: datetime | None
) -> list[dict[str, Any]]:
    """Per alarm raised in the period: when it was raised and first reached each status."""
    conditions = AlarmFilter(raised_from=raised_from, raised_to=raised_to).conditions()
    t = alarm_transitions
    firsts = [
        func.min(t.c.at).filter(t.c.status == status).label(status)
        for status in ("verified", "dismissed", "on_scene", "extinguished")
    ]
    rows = await session.execute(
        select(
            fire_alarms.c.id,
            fire_alarms.c.raised_at,
            fire_alarms.c.evidence["first_detected_at"].astext.label("first_detected_at"),
            *firsts,
        )
        .select_from(fire_alarms.outerjoin(t, and_(t.c.alarm_id == fire_alarms.c.id)))
        .where(*conditions)
        .group_by(fire_alarms.c.id)
    )
    return [dict(r._mapping) for r in rows]
