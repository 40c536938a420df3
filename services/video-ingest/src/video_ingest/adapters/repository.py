"""SQL for cameras, their latest frames and alarms; returns plain dicts for the API schemas."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPoint
from video_ingest.adapters.orm import camera_alarms, camera_frames, cameras

_CAMERA_COLUMNS = (
    cameras.c.id,
    cameras.c.kind,
    cameras.c.elevation_m,
    cameras.c.heading_deg,
    cameras.c.hfov_deg,
    cameras.c.presets,
    cameras.c.snapshot_url,
    cameras.c.status,
    cameras.c.registered_at,
    cameras.c.last_frame_at,
    func.ST_AsGeoJSON(cameras.c.location).label("location"),
)


def _camera(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["location"] = json.loads(data["location"])
    return data


async def add_camera(session: AsyncSession, *, location: GeoPoint, **values: Any) -> bool:
    """Insert the camera; False when the id is already taken."""
    stmt = (
        pg_insert(cameras)
        .values(location=func.ST_GeomFromEWKT(location.to_wkt()), **values)
        .on_conflict_do_nothing(index_elements=[cameras.c.id])
        .returning(cameras.c.id)
    )
    return (await session.scalar(stmt)) is not None


async def get_camera(
    session: AsyncSession, camera_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    stmt = select(*_CAMERA_COLUMNS).where(cameras.c.id == camera_id)
    if for_update:
        stmt = stmt.with_for_update(of=cameras)
    row = (await session.execute(stmt)).first()
    return _camera(row) if row else None


async def camera_exists(session: AsyncSession, camera_id: str) -> bool:
    return (await session.scalar(select(cameras.c.id).where(cameras.c.id == camera_id))) is not None


async def list_cameras(
    session: AsyncSession, *, kind: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if kind is not None:
        conditions.append(cameras.c.kind == kind)
    if status is not None:
        conditions.append(cameras.c.status == status)
    total = await session.scalar(select(func.count()).select_from(cameras).where(*conditions))
    rows = await session.execute(
        select(*_CAMERA_COLUMNS)
        .where(*conditions)
        .order_by(cameras.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_camera(r) for r in rows], int(total or 0)


async def delete_camera(session: AsyncSession, camera_id: str) -> bool:
    """Remove the camera with its snapshot and alarms; False when there was none."""
    stmt = delete(cameras).where(cameras.c.id == camera_id).returning(cameras.c.id)
    return (await session.scalar(stmt)) is not None


async def set_status(session: AsyncSession, camera_id: str, status: str) -> None:
    await session.execute(update(cameras).where(cameras.c.id == camera_id).values(status=status))


async def store_latest_frame(
    session: AsyncSession,
    *,
    camera_id: str,
    content_type: str,
    width: int,
    height: int,
    pan_deg: float,
    captured_at: datetime,
    image: bytes,
) -> None:
    """Keep the frame as the camera's snapshot unless a later-captured one is already kept."""
    values = {
        "camera_id": camera_id,
        "content_type": content_type,
        "width": width,
        "height": height,
        "pan_deg": pan_deg,
        "captured_at": captured_at,
        "image": image,
    }
    stmt = pg_insert(camera_frames).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[camera_frames.c.camera_id],
        set_={
            **{name: stmt.excluded[name] for name in values if name != "camera_id"},
            "received_at": func.now(),
        },
        where=camera_frames.c.captured_at <= stmt.excluded.captured_at,
    )
    await session.execute(stmt)
    # GREATEST ignores NULL, so the first frame sets it.
    await session.execute(
        update(cameras)
        .where(cameras.c.id == camera_id)
        .values(last_frame_at=func.greatest(cameras.c.last_frame_at, captured_at))
    )


async def latest_frame(session: AsyncSession, camera_id: str) -> dict[str, Any] | None:
    stmt = select(
        camera_frames.c.content_type,
        camera_frames.c.captured_at,
        camera_frames.c.image,
    ).where(camera_frames.c.camera_id == camera_id)
    row = (await session.execute(stmt)).first()
    return dict(row._mapping) if row else None


async def add_alarm(
    session: AsyncSession,
    *,
    alarm_id: str,
    camera_id: str,
    status: str,
    danger_level: int,
    raised_at: datetime,
) -> None:
    await session.execute(
        pg_insert(camera_alarms)
        .values(
            alarm_id=alarm_id,
            camera_id=camera_id,
            status=status,
            danger_level=danger_level,
            raised_at=raised_at,
            updated_at=raised_at,
        )
        .on_conflict_do_nothing(index_elements=[camera_alarms.c.alarm_id])
    )


async def update_alarm(session: AsyncSession, alarm_id: str, *, status: str, at: datetime) -> None:
    """Move a known alarm to ``status`` unless a later change is already recorded."""
    await session.execute(
        update(camera_alarms)
        .where(camera_alarms.c.alarm_id == alarm_id, camera_alarms.c.updated_at <= at)
        .values(status=status, updated_at=at)
    )


async def alarms_in(
    session: AsyncSession, camera_ids: Iterable[str], *, statuses: Iterable[str]
) -> dict[str, list[str]]:
    """Alarm ids per camera among ``camera_ids`` whose status is one of ``statuses``."""
    ids = list(camera_ids)
    found: dict[str, list[str]] = {camera_id: [] for camera_id in ids}
    if not ids:
        return found
    rows = await session.execute(
        select(camera_alarms.c.camera_id, camera_alarms.c.alarm_id)
        .where(camera_alarms.c.camera_id.in_(ids), camera_alarms.c.status.in_(list(statuses)))
        .order_by(camera_alarms.c.raised_at, camera_alarms.c.alarm_id)
    )
    for camera_id, alarm_id in rows:
        found[camera_id].append(alarm_id)
    return found
