"""SQL for forest resources, fire alarms and frame stats; returns plain dicts for the API."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPoint, GeoPolygon
from fire_detect.adapters.orm import (
    alarm_transitions,
    camera_views,
    fire_alarms,
    fire_weather_days,
    forest_resources,
    frame_stats,
    pose_tracks,
)
from fire_detect.domain.model import FrameTally

_RESOURCE_COLUMNS = (
    forest_resources.c.id,
    forest_resources.c.kind,
    forest_resources.c.name,
    forest_resources.c.registered_at,
    forest_resources.c.subtype,
    forest_resources.c.properties,
    func.ST_AsGeoJSON(forest_resources.c.location).label("location"),
)

_ALARM_COLUMNS = (
    fire_alarms.c.id,
    fire_alarms.c.kind,
    fire_alarms.c.status,
    fire_alarms.c.uncertainty_m,
    fire_alarms.c.confidence,
    fire_alarms.c.danger_level,
    fire_alarms.c.camera_id,
    fire_alarms.c.reported_by,
    fire_alarms.c.raised_at,
    fire_alarms.c.updated_at,
    fire_alarms.c.bearing_deg,
    fire_alarms.c.evidence,
    fire_alarms.c.crossed_by_camera_id,
    fire_alarms.c.resources,
    fire_alarms.c.plan,
    func.ST_AsGeoJSON(fire_alarms.c.location).label("location"),
    func.ST_AsGeoJSON(fire_alarms.c.area).label("area"),
)


def _located(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["location"] = json.loads(data["location"])
    if data.get("area") is not None:
        data["area"] = json.loads(data["area"])
    return data


# --- forest resources ------------------------------------------------------


async def add_resource(
    session: AsyncSession, *, resource_id: str, kind: str, name: str, location: GeoPoint
) -> bool:
    """Insert the resource; False when the id is already taken."""
    stmt = (
        pg_insert(forest_resources)
        .values(
            id=resource_id,
            kind=kind,
            name=name,
            location=func.ST_GeogFromText(location.to_wkt()),
        )
        .on_conflict_do_nothing(index_elements=[forest_resources.c.id])
        .returning(forest_resources.c.id)
    )
    return (await session.scalar(stmt)) is not None


async def get_resource(session: AsyncSession, resource_id: str) -> dict[str, Any] | None:
    stmt = select(*_RESOURCE_COLUMNS).where(forest_resources.c.id == resource_id)
    row = (await session.execute(stmt)).first()
    return _located(row) if row else None


async def list_resources(
    session: AsyncSession, *, kind: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if kind is not None:
        conditions.append(forest_resources.c.kind == kind)
    total = await session.scalar(
        select(func.count()).select_from(forest_resources).where(*conditions)
    )
    rows = await session.execute(
        select(*_RESOURCE_COLUMNS)
        .where(*conditions)
        .order_by(forest_resources.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_located(r) for r in rows], int(total or 0)


async def nearest_resources(
    session: AsyncSession, *, point: GeoPoint, kind: str | None, limit: int
) -> list[dict[str, Any]]:
    """Resources nearest first, with their distance in metres on the spheroid.

    ``<->`` on geography walks the GiST index nearest first (sphere distance);
    ``ST_Distance`` then gives the exact spheroid metres shown to the crews.
    """
    here = func.ST_GeogFromText(point.to_wkt())
    conditions = []
    if kind is not None:
        conditions.append(forest_resources.c.kind == kind)
    rows = await session.execute(
        select(
            *_RESOURCE_COLUMNS,
            func.ST_Distance(forest_resources.c.location, here).label("distance_m"),
        )
        .where(*conditions)
        # Ordered by the distance alone: any second sort key stops the index walk.
        .order_by(forest_resources.c.location.op("<->")(here))
        .limit(limit)
    )
    return [_located(r) for r in rows]


# --- fire alarms -----------------------------------------------------------


async def add_alarm(session: AsyncSession, *, location: GeoPoint, **values: Any) -> None:
    await session.execute(
        fire_alarms.insert().values(location=func.ST_GeomFromEWKT(location.to_wkt()), **values)
    )


async def get_alarm(
    session: AsyncSession, alarm_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    stmt = select(*_ALARM_COLUMNS).where(fire_alarms.c.id == alarm_id)
    if for_update:
        stmt = stmt.with_for_update(of=fire_alarms)
    row = (await session.execute(stmt)).first()
    return _located(row) if row else None


async def set_alarm_status(
    session: AsyncSession, alarm_id: str, *, status: str, at: datetime
) -> None:
    await session.execute(
        update(fire_alarms).where(fire_alarms.c.id == alarm_id).values(status=status, updated_at=at)
    )


async def add_transition(
    session: AsyncSession,
    *,
    alarm_id: str,
    status: str,
    at: datetime,
    actor: str,
    note: str | None,
) -> None:
    await session.execute(
        alarm_transitions.insert().values(
            alarm_id=alarm_id, status=status, at=at, actor=actor, note=note
        )
    )


async def timeline(session: AsyncSession, alarm_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            alarm_transitions.c.status,
            alarm_transitions.c.at,
            alarm_transitions.c.actor,
            alarm_transitions.c.note,
        )
        .where(alarm_transitions.c.alarm_id == alarm_id)
        .order_by(alarm_transitions.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def list_alarms(
    session: AsyncSession,
    *,
    status: str | None,
    limit: int,
    offset: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[dict[str, Any]], int]:
    conditions = list(where)
    if status is not None:
        conditions.append(fire_alarms.c.status == status)
    total = await session.scalar(select(func.count()).select_from(fire_alarms).where(*conditions))
    rows = await session.execute(
        select(*_ALARM_COLUMNS)
        .where(*conditions)
        .order_by(fire_alarms.c.raised_at.desc(), fire_alarms.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_located(r) for r in rows], int(total or 0)


# --- frame stats -----------------------------------------------------------


async def add_frames(session: AsyncSession, tallies: Sequence[FrameTally]) -> None:
    """One upsert for all cameras of a batch; the 'last' values follow the latest capture."""
    if not tallies:
        return
    await session.execute(
        _ADD_FRAMES,
        {
            "camera_ids": [t.camera_id for t in tallies],
            "kinds": [t.camera_kind for t in tallies],
            "counts": [t.frames for t in tallies],
            "last_at": [t.last_frame_at for t in tallies],
            "pans": [t.last_pan_deg for t in tallies],
            "types": [t.last_content_type for t in tallies],
        },
    )


# Run for every batch of frames: a text fixed at import, one prepared statement for
# any number of cameras (a multi-row VALUES was compiled, and planned, per batch size).
_ADD_FRAMES = text(
    """
    INSERT INTO frame_stats AS s
        (camera_id, camera_kind, frames_seen, last_frame_at, last_pan_deg, last_content_type)
    SELECT * FROM unnest(
        CAST(:camera_ids AS varchar[]), CAST(:kinds AS varchar[]), CAST(:counts AS bigint[]),
        CAST(:last_at AS timestamptz[]), CAST(:pans AS double precision[]),
        CAST(:types AS varchar[])
    )
    ON CONFLICT (camera_id) DO UPDATE SET
        frames_seen = s.frames_seen + EXCLUDED.frames_seen,
        last_frame_at = GREATEST(s.last_frame_at, EXCLUDED.last_frame_at),
        last_pan_deg = CASE WHEN EXCLUDED.last_frame_at >= s.last_frame_at
            THEN EXCLUDED.last_pan_deg ELSE s.last_pan_deg END,
        last_content_type = CASE WHEN EXCLUDED.last_frame_at >= s.last_frame_at
            THEN EXCLUDED.last_content_type ELSE s.last_content_type END,
        camera_kind = EXCLUDED.camera_kind,
        updated_at = now()
    """
)


async def get_frame_stats(session: AsyncSession, camera_id: str) -> dict[str, Any] | None:
    stmt = select(frame_stats).where(frame_stats.c.camera_id == camera_id)
    row = (await session.execute(stmt)).first()
    return dict(row._mapping) if row else None


# --- detection from frames ---------------------------------------------------


async def put_view(
    session: AsyncSession, *, camera_id: str, location: GeoPoint, hfov_deg: float
) -> None:
    stmt = pg_insert(camera_views).values(
        camera_id=camera_id, location=func.ST_GeomFromEWKT(location.to_wkt()), hfov_deg=hfov_deg
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[camera_views.c.camera_id],
        set_={
            "location": stmt.excluded.location,
            "hfov_deg": stmt.excluded.hfov_deg,
            "updated_at": func.now(),
        },
    )
    await session.execute(stmt)


async def get_views(session: AsyncSession, camera_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Camera id -> {camera_id, location (GeoJSON), hfov_deg, updated_at}."""
    if not camera_ids:
        return {}
    rows = await session.execute(
        select(
            camera_views.c.camera_id,
            camera_views.c.hfov_deg,
            camera_views.c.updated_at,
            func.ST_AsGeoJSON(camera_views.c.location).label("location"),
        ).where(camera_views.c.camera_id.in_(list(camera_ids)))
    )
    return {r.camera_id: _located(r) for r in rows}


async def lock_pose_states(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The tracker states of these camera poses, locked until the transaction ends."""
    if not keys:
        return {}
    rows = await session.execute(
        _LOCK_POSE_STATES,
        {"camera_ids": [camera for camera, _ in keys], "poses": [pose for _, pose in keys]},
    )
    return {(r.camera_id, r.pose): r.state for r in rows}


_LOCK_POSE_STATES = text(
    """
    SELECT t.camera_id, t.pose, t.state FROM pose_tracks t
    JOIN unnest(CAST(:camera_ids AS varchar[]), CAST(:poses AS varchar[])) AS k(camera_id, pose)
        ON t.camera_id = k.camera_id AND t.pose = k.pose
    ORDER BY t.camera_id, t.pose
    FOR UPDATE OF t
    """
).columns(pose_tracks.c.camera_id, pose_tracks.c.pose, pose_tracks.c.state)


async def save_pose_states(
    session: AsyncSession, states: Sequence[tuple[str, str, dict[str, Any], datetime]]
) -> None:
    if not states:
        return
    await session.execute(
        _SAVE_POSE_STATES,
        {
            "camera_ids": [camera for camera, _, _, _ in states],
            "poses": [pose for _, pose, _, _ in states],
            "states": [json.dumps(state) for _, _, state, _ in states],
            "last_at": [at for _, _, _, at in states],
        },
    )


_SAVE_POSE_STATES = text(
    """
    INSERT INTO pose_tracks (camera_id, pose, state, last_frame_at)
    SELECT camera_id, pose, CAST(state AS jsonb), last_frame_at FROM unnest(
        CAST(:camera_ids AS varchar[]), CAST(:poses AS varchar[]), CAST(:states AS text[]),
        CAST(:last_at AS timestamptz[])
    ) AS p(camera_id, pose, state, last_frame_at)
    ON CONFLICT (camera_id, pose) DO UPDATE SET
        state = EXCLUDED.state, last_frame_at = EXCLUDED.last_frame_at, updated_at = now()
    """
)


async def add_camera_alarm(
    session: AsyncSession,
    *,
    location: GeoPoint,
    camera_location: GeoPoint,
    area: GeoPolygon,
    **values: Any,
) -> None:
    await session.execute(
        fire_alarms.insert().values(
            location=func.ST_GeomFromEWKT(location.to_wkt()),
            camera_location=func.ST_GeomFromEWKT(camera_location.to_wkt()),
            area=func.ST_GeomFromEWKT(area.to_wkt()),
            **values,
        )
    )


async def recent_camera_alarms(
    session: AsyncSession, *, since: datetime, other_than: str
) -> list[dict[str, Any]]:
    """Open alarms other cameras raised since ``since`` and no second camera located yet,
    newest first, with the bearing they were seen along."""
    rows = await session.execute(
        select(
            fire_alarms.c.id,
            fire_alarms.c.camera_id,
            fire_alarms.c.bearing_deg,
            fire_alarms.c.bearing_half_width_deg,
            func.ST_X(fire_alarms.c.camera_location).label("camera_lon"),
            func.ST_Y(fire_alarms.c.camera_location).label("camera_lat"),
        )
        .where(
            fire_alarms.c.raised_at >= since,
            fire_alarms.c.camera_id.is_not(None),
            fire_alarms.c.camera_id != other_than,
            fire_alarms.c.bearing_deg.is_not(None),
            fire_alarms.c.crossed_by_camera_id.is_(None),
            fire_alarms.c.status.in_(("raised", "verified", "dispatched", "on_scene")),
        )
        .order_by(fire_alarms.c.raised_at.desc())
        .with_for_update()
    )
    return [dict(r._mapping) for r in rows]


async def locate_alarm(
    session: AsyncSession,
    alarm_id: str,
    *,
    location: GeoPoint,
    uncertainty_m: float,
    area: GeoPolygon | None,
    crossed_by: str,
    at: datetime,
) -> None:
    await session.execute(
        update(fire_alarms)
        .where(fire_alarms.c.id == alarm_id)
        .values(
            location=func.ST_GeomFromEWKT(location.to_wkt()),
            uncertainty_m=uncertainty_m,
            area=func.ST_GeomFromEWKT(area.to_wkt()) if area is not None else None,
            crossed_by_camera_id=crossed_by,
            updated_at=at,
        )
    )


async def fire_weather_day(session: AsyncSession, day: date) -> dict[str, Any] | None:
    row = (
        await session.execute(select(fire_weather_days).where(fire_weather_days.c.day == day))
    ).first()
    return dict(row._mapping) if row else None


async def latest_fire_weather(session: AsyncSession) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(fire_weather_days).order_by(fire_weather_days.c.day.desc()).limit(1)
        )
    ).first()
    return dict(row._mapping) if row else None


async def put_fire_weather_day(session: AsyncSession, **values: Any) -> None:
    stmt = pg_insert(fire_weather_days).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[fire_weather_days.c.day],
        set_={k: stmt.excluded[k] for k in values if k != "day"} | {"recorded_at": func.now()},
    )
    await session.execute(stmt)
