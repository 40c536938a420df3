"""SQL for cameras, their latest frames and alarms; returns plain dicts for the API schemas."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPoint
from video_ingest.adapters.orm import camera_alarms, camera_frames, cameras
from video_ingest.domain.area import BoundingBox
from video_ingest.domain.cruise import NextPoll

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
    cameras.c.expected_interval_s,
    cameras.c.cruise_interval_s,
    cameras.c.frame_due_by,
    cameras.c.next_poll_at,
    cameras.c.next_preset,
    cameras.c.poll_failures,
    cameras.c.last_polled_at,
    cameras.c.last_poll_error,
    cameras.c.last_poll_error_at,
    cameras.c.cell_id,
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


async def update_camera(
    session: AsyncSession, camera_id: str, *, location: GeoPoint | None, **values: Any
) -> None:
    """Write the given columns of the camera (and its place, when given)."""
    if location is not None:
        values["location"] = func.ST_GeomFromEWKT(location.to_wkt())
    if values:
        await session.execute(update(cameras).where(cameras.c.id == camera_id).values(**values))


# Frame intake reads, and locks, only what it needs, for any number of frames in one
# fixed statement; in id order, so that two batches locking the same cameras (two
# replicas) cannot deadlock.
_CAMERAS_FOR_FRAMES = text(
    """
    SELECT id, kind, status, heading_deg, expected_interval_s, cruise_interval_s,
        snapshot_url IS NOT NULL AS has_snapshot_url
    FROM cameras WHERE id = ANY(CAST(:ids AS varchar[])) ORDER BY id FOR UPDATE
    """
)


async def cameras_for_frames(session: AsyncSession, ids: list[str]) -> dict[str, dict[str, Any]]:
    """What taking frames needs of their cameras, by id, the rows locked so that a
    camera coming back online is announced once."""
    rows = await session.execute(_CAMERAS_FOR_FRAMES, {"ids": ids})
    return {row.id: dict(row._mapping) for row in rows}


async def camera_locations(session: AsyncSession, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The cameras' positions as GeoJSON, by id."""
    stmt = select(cameras.c.id, func.ST_AsGeoJSON(cameras.c.location)).where(cameras.c.id.in_(ids))
    return {row[0]: json.loads(row[1]) for row in await session.execute(stmt)}


async def camera_ids_of_kinds(session: AsyncSession, kinds: list[str]) -> list[str]:
    rows = await session.execute(select(cameras.c.id).where(cameras.c.kind.in_(kinds)))
    return [row[0] for row in rows]


async def camera_exists(session: AsyncSession, camera_id: str) -> bool:
    return (await session.scalar(select(cameras.c.id).where(cameras.c.id == camera_id))) is not None


async def list_cameras(
    session: AsyncSession,
    *,
    kind: str | None,
    status: str | None,
    bbox: BoundingBox | None,
    near: GeoPoint | None,
    radius_m: float | None,
    limit: int,
    offset: int,
    cell_id: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of cameras, by id; nearest first when ``near`` is given."""
    conditions: list[ColumnElement[bool]] = []
    if kind is not None:
        conditions.append(cameras.c.kind == kind)
    if status is not None:
        conditions.append(cameras.c.status == status)
    if cell_id is not None:
        conditions.append(cameras.c.cell_id == cell_id)
    if bbox is not None:
        envelope = func.ST_MakeEnvelope(bbox.west, bbox.south, bbox.east, bbox.north, 4326)
        conditions.append(func.ST_Intersects(cameras.c.location, envelope))
    order: list[ColumnElement[Any]] = [cameras.c.id]
    if near is not None:
        # Metres on the spheroid: geography, not the degrees of the stored geometry.
        here = func.geography(func.ST_GeomFromEWKT(near.to_wkt()))
        there = func.geography(cameras.c.location)
        if radius_m is not None:
            conditions.append(func.ST_DWithin(there, here, radius_m))
        order.insert(0, func.ST_Distance(there, here))
    total = await session.scalar(select(func.count()).select_from(cameras).where(*conditions))
    rows = await session.execute(
        select(*_CAMERA_COLUMNS).where(*conditions).order_by(*order).limit(limit).offset(offset)
    )
    return [_camera(r) for r in rows], int(total or 0)


async def delete_camera(session: AsyncSession, camera_id: str) -> bool:
    """Remove the camera with its snapshot and alarms; False when there was none."""
    stmt = delete(cameras).where(cameras.c.id == camera_id).returning(cameras.c.id)
    return (await session.scalar(stmt)) is not None


async def set_status(session: AsyncSession, camera_id: str, status: str) -> None:
    await session.execute(update(cameras).where(cameras.c.id == camera_id).values(status=status))


@dataclass(frozen=True, slots=True)
class LatestFrame:
    camera_id: str
    content_type: str
    width: int
    height: int
    pan_deg: float
    captured_at: datetime
    image: bytes
    frame_due_by: datetime | None


async def store_latest_frames(session: AsyncSession, frames: list[LatestFrame]) -> None:
    """Keep each frame (at most one a camera) as its camera's snapshot unless a
    later-captured one is already kept, and note when the camera owes its next frame."""
    await session.execute(
        _STORE_FRAMES,
        {
            "camera_ids": [f.camera_id for f in frames],
            "content_types": [f.content_type for f in frames],
            "widths": [f.width for f in frames],
            "heights": [f.height for f in frames],
            "pans": [f.pan_deg for f in frames],
            "captured": [f.captured_at for f in frames],
            "images": [f.image for f in frames],
            "due": [f.frame_due_by for f in frames],
        },
    )


# Every frame of every camera passes here (776 a second in Yongchuan): one statement
# and one round trip for a whole batch, of a text fixed at import: nothing to build,
# hash or compile per frame. GREATEST ignores NULL, so the first frame sets
# last_frame_at.
_STORE_FRAMES = text(
    """
    WITH incoming AS (
        SELECT * FROM unnest(
            CAST(:camera_ids AS varchar[]), CAST(:content_types AS varchar[]),
            CAST(:widths AS integer[]), CAST(:heights AS integer[]),
            CAST(:pans AS double precision[]), CAST(:captured AS timestamptz[]),
            CAST(:images AS bytea[]), CAST(:due AS timestamptz[])
        ) AS f(camera_id, content_type, width, height, pan_deg, captured_at, image, due)
    ), kept AS (
        INSERT INTO camera_frames
            (camera_id, content_type, width, height, pan_deg, captured_at, image)
        SELECT camera_id, content_type, width, height, pan_deg, captured_at, image
        FROM incoming
        ON CONFLICT (camera_id) DO UPDATE SET
            content_type = EXCLUDED.content_type, width = EXCLUDED.width,
            height = EXCLUDED.height, pan_deg = EXCLUDED.pan_deg,
            captured_at = EXCLUDED.captured_at, image = EXCLUDED.image, received_at = now()
        WHERE camera_frames.captured_at <= EXCLUDED.captured_at
    )
    UPDATE cameras SET
        last_frame_at = GREATEST(cameras.last_frame_at, incoming.captured_at),
        frame_due_by = incoming.due
    FROM incoming WHERE cameras.id = incoming.camera_id
    """
)


async def set_statuses(session: AsyncSession, ids: list[str], status: str) -> None:
    await session.execute(update(cameras).where(cameras.c.id.in_(ids)).values(status=status))


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


async def claim_due_polls(
    session: AsyncSession,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    busy: Iterable[str],
) -> list[dict[str, Any]]:
    """Cameras whose snapshot poll is due, each leased until ``lease_until``.

    SKIP LOCKED lets several replicas claim at once without taking the same camera;
    the lease (a later next_poll_at, committed with the claim) keeps it from being
    claimed again while its poll runs. ``busy`` are polls this process still runs.
    """
    if limit <= 0:
        return []
    stmt = (
        select(
            cameras.c.id,
            cameras.c.snapshot_url,
            cameras.c.presets,
            cameras.c.next_preset,
            cameras.c.next_poll_at,
            cameras.c.cruise_interval_s,
            cameras.c.poll_failures,
        )
        .where(
            cameras.c.next_poll_at <= now,
            cameras.c.snapshot_url.is_not(None),
            cameras.c.id.not_in(list(busy)),
        )
        .order_by(cameras.c.next_poll_at, cameras.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = [dict(row._mapping) for row in await session.execute(stmt)]
    if claimed:
        await session.execute(
            update(cameras)
            .where(cameras.c.id.in_([c["id"] for c in claimed]))
            .values(next_poll_at=lease_until)
        )
    return claimed


async def record_poll(
    session: AsyncSession,
    camera_id: str,
    *,
    polled_at: datetime,
    following: NextPoll,
    error: str | None,
) -> None:
    """The outcome of a poll and the camera's schedule after it."""
    values: dict[str, Any] = {
        "next_poll_at": following.due_at,
        "next_preset": following.preset_index,
        "poll_failures": following.failures,
        "last_polled_at": polled_at,
    }
    if error is not None:
        values |= {"last_poll_error": error[:500], "last_poll_error_at": polled_at}
    # A camera whose snapshot URL went away meanwhile stops cruising.
    await session.execute(
        update(cameras)
        .where(cameras.c.id == camera_id, cameras.c.snapshot_url.is_not(None))
        .values(**values)
    )


async def overdue_cameras(
    session: AsyncSession, *, now: datetime, limit: int
) -> list[dict[str, Any]]:
    """Online cameras that owed a frame before ``now``, locked; others' are skipped."""
    stmt = (
        select(*_CAMERA_COLUMNS)
        .where(cameras.c.status == "online", cameras.c.frame_due_by <= now)
        .order_by(cameras.c.frame_due_by, cameras.c.id)
        .limit(limit)
        .with_for_update(of=cameras, skip_locked=True)
    )
    return [_camera(row) for row in await session.execute(stmt)]
