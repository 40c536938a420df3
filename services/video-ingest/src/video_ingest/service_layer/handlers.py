"""Use cases of video-ingest: each takes a unit of work and commits or not at all."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging.consumer import Delivery
from city_common.observability.tracing import current_traceparent
from city_common.web.problems import Problem, conflict, not_found
from video_ingest.adapters import repository as repo
from video_ingest.domain.area import BoundingBox
from video_ingest.domain.changes import (
    VIEW_FIELDS,
    changed_fields,
    rescheduled,
    schedule_of,
    terms_of,
)
from video_ingest.domain.health import HealthPolicy
from video_ingest.domain.images import ImageHeader, UndecodableImage, read_frame
from video_ingest.domain.model import (
    ACTIVE_ALARM_STATUSES,
    CameraStatus,
    CaptureTimeOutOfRange,
    check_capture_time,
    comes_back_online,
)

FRAME_CAPTURED = spec_for_type("city.camera.frame.captured.v1")
CAMERA_ONLINE = spec_for_type("city.camera.online.v1")
CAMERA_REGISTERED = spec_for_type("city.camera.registered.v1")
CAMERA_OFFLINE = spec_for_type("city.camera.offline.v1")


def _invalid(field: str, detail: str, code: str) -> Problem:
    return Problem(
        422,
        "Validation failed",
        detail,
        errors=[{"field": field, "reason": detail, "code": code}],
    )


async def _with_active_alarms(
    uow: UnitOfWork, found: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    alarms = await repo.alarms_in(
        uow.session,
        (c["id"] for c in found),
        statuses=(status.value for status in ACTIVE_ALARM_STATUSES),
    )
    return [{**c, "active_alarm_ids": alarms[c["id"]]} for c in found]


async def register_camera(
    uow: UnitOfWork,
    *,
    camera_id: str,
    kind: s.CameraKind,
    location: GeoPoint,
    elevation_m: float,
    heading_deg: float,
    hfov_deg: float,
    presets: Sequence[float],
    snapshot_url: str | None,
    status: CameraStatus,
    expected_interval_s: float | None,
    cruise_interval_s: float | None,
    health: HealthPolicy,
    now: datetime,
    cell_id: str | None = None,
) -> dict[str, Any]:
    """Add a camera to the registry; one with a snapshot URL is cruised from now on."""
    added = await repo.add_camera(
        uow.session,
        id=camera_id,
        kind=kind.value,
        location=location,
        elevation_m=elevation_m,
        heading_deg=heading_deg,
        hfov_deg=hfov_deg,
        presets=list(presets),
        snapshot_url=snapshot_url,
        status=status.value,
        expected_interval_s=expected_interval_s,
        cruise_interval_s=cruise_interval_s,
        cell_id=cell_id,
        # The time its registration event carries, and carries again after a change.
        registered_at=now,
        next_poll_at=now if snapshot_url is not None else None,
        # A camera that never delivers its first frame goes offline like any other.
        frame_due_by=health.frame_due_by(
            now,
            declared_s=expected_interval_s,
            has_snapshot_url=snapshot_url is not None,
            cruise_interval_s=cruise_interval_s,
        ),
    )
    if not added:
        raise conflict(f"camera {camera_id!r} already exists")
    # Fire detection locates a fire from the camera's place and field of view: it
    # learns them from this event rather than from a registration of its own.
    uow.emit(
        CAMERA_REGISTERED,
        s.CameraRegistered(
            camera_id=camera_id,
            camera_kind=kind,
            location=location,
            elevation_m=elevation_m,
            heading_deg=heading_deg,
            hfov_deg=hfov_deg,
            presets=list(presets),
            registered_at=now,
        ),
    )
    camera = await get_camera(uow, camera_id)
    await uow.commit()
    return camera


async def update_camera(
    uow: UnitOfWork,
    camera_id: str,
    *,
    changes: Mapping[str, Any],
    health: HealthPolicy,
    now: datetime,
) -> dict[str, Any]:
    """Change a registered camera's place, view, presets, snapshot URL, intervals or cell.

    ``changes`` holds only the fields to change (None clears a nullable one). The
    cruise and health schedule follow the new terms; a changed view is announced
    again as a registration, which moves the camera's view in fire detection.
    """
    # Locked so that a poll or a frame committing meanwhile cannot interleave with
    # the schedule computed here.
    current = await repo.get_camera(uow.session, camera_id, for_update=True)
    if current is None:
        raise not_found("camera", camera_id)
    stored = {**current, "location": GeoPoint.model_validate(current["location"])}
    proposed: dict[str, Any] = {
        name: list(value) if name == "presets" else value for name, value in changes.items()
    }
    changed = changed_fields(stored, proposed)
    if not changed:
        return await _committed(uow, camera_id)
    after = {**stored, **proposed}
    schedule = rescheduled(
        terms_of(stored), terms_of(after), schedule_of(stored), health=health, now=now
    )
    location: GeoPoint | None = proposed["location"] if "location" in changed else None
    await repo.update_camera(
        uow.session,
        camera_id,
        location=location,
        **{name: proposed[name] for name in changed if name != "location"},
        next_poll_at=schedule.next_poll_at,
        next_preset=schedule.next_preset,
        poll_failures=schedule.poll_failures,
        frame_due_by=schedule.frame_due_by,
    )
    if changed & VIEW_FIELDS:
        uow.emit(
            CAMERA_REGISTERED,
            s.CameraRegistered(
                camera_id=camera_id,
                camera_kind=s.CameraKind(after["kind"]),
                location=after["location"],
                elevation_m=after["elevation_m"],
                heading_deg=after["heading_deg"],
                hfov_deg=after["hfov_deg"],
                presets=list(after["presets"]),
                # When it joined the registry: a change does not make it a new camera.
                registered_at=after["registered_at"],
            ),
        )
    return await _committed(uow, camera_id)


async def _committed(uow: UnitOfWork, camera_id: str) -> dict[str, Any]:
    camera = await get_camera(uow, camera_id)
    await uow.commit()
    return camera


async def get_camera(uow: UnitOfWork, camera_id: str) -> dict[str, Any]:
    camera = await repo.get_camera(uow.session, camera_id)
    if camera is None:
        raise not_found("camera", camera_id)
    (with_alarms,) = await _with_active_alarms(uow, [camera])
    return with_alarms


async def list_cameras(
    uow: UnitOfWork,
    *,
    kind: str | None,
    status: str | None,
    bbox: BoundingBox | None = None,
    near: GeoPoint | None = None,
    radius_m: float | None = None,
    cell_id: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of cameras, filtered by kind, status, grid cell and place."""
    found, total = await repo.list_cameras(
        uow.session,
        kind=kind,
        status=status,
        cell_id=cell_id,
        bbox=bbox,
        near=near,
        radius_m=radius_m,
        limit=limit,
        offset=offset,
    )
    return await _with_active_alarms(uow, found), total


async def remove_camera(uow: UnitOfWork, camera_id: str) -> None:
    """Take a camera out of the registry, with its snapshot and alarm records."""
    if not await repo.delete_camera(uow.session, camera_id):
        raise not_found("camera", camera_id)
    await uow.commit()


@dataclass(frozen=True, slots=True)
class IncomingFrame:
    """A frame that passed the checks needing no database (capture time, image)."""

    camera_id: str
    image: bytes
    header: ImageHeader
    captured_at: datetime
    pan_deg: float | None
    received_at: datetime
    # The trace of the request that brought it: its events continue that trace even
    # when written in a batch with other requests' frames.
    traceparent: str | None = None


def check_frame(
    *,
    camera_id: str,
    image: bytes,
    declared_type: str,
    captured_at: datetime,
    pan_deg: float | None,
    received_at: datetime,
) -> IncomingFrame:
    """The checks of a frame that need no database; a 422 problem when one fails."""
    try:
        check_capture_time(captured_at, now=received_at)
    except CaptureTimeOutOfRange as exc:
        raise _invalid("query.captured_at", str(exc), "capture_time_out_of_range") from exc
    try:
        header = read_frame(image, declared_type)
    except UndecodableImage as exc:
        raise _invalid("body", str(exc), "undecodable_image") from exc
    return IncomingFrame(
        camera_id, image, header, captured_at, pan_deg, received_at, current_traceparent.get()
    )


@contextmanager
def _trace_of(frame: IncomingFrame) -> Iterator[None]:
    token = current_traceparent.set(frame.traceparent)
    try:
        yield
    finally:
        current_traceparent.reset(token)


async def store_frames(
    uow: UnitOfWork, frames: Sequence[IncomingFrame], *, health: HealthPolicy
) -> list[dict[str, Any] | Problem]:
    """Keep checked frames as their cameras' snapshots and pass them on to fire
    detection, whatever their number, in a constant number of statements; a camera
    that was offline is back. One receipt per frame, or a 404 problem for a frame of
    an unknown camera (the others are kept). The caller commits."""
    cameras = await repo.cameras_for_frames(uow.session, sorted({f.camera_id for f in frames}))
    outcomes: list[dict[str, Any] | Problem] = []
    # Per camera: the latest-captured frame of the batch is the snapshot candidate,
    # and the latest received sets when the next one is due.
    kept: dict[str, tuple[IncomingFrame, float]] = {}
    due_by: dict[str, datetime | None] = {}
    for frame in frames:
        camera = cameras.get(frame.camera_id)
        if camera is None:
            outcomes.append(not_found("camera", frame.camera_id))
            continue
        kind = s.CameraKind(camera["kind"])
        pan = frame.pan_deg if frame.pan_deg is not None else camera["heading_deg"]
        best = kept.get(frame.camera_id)
        if best is None or frame.captured_at >= best[0].captured_at:
            kept[frame.camera_id] = (frame, pan)
        due_by[frame.camera_id] = health.frame_due_by(
            frame.received_at,
            declared_s=camera["expected_interval_s"],
            has_snapshot_url=camera["has_snapshot_url"],
            cruise_interval_s=camera["cruise_interval_s"],
        )
        with _trace_of(frame):
            uow.emit(
                FRAME_CAPTURED,
                s.FrameCaptured(
                    camera_id=frame.camera_id,
                    camera_kind=kind,
                    captured_at=frame.captured_at,
                    pan_azimuth_deg=pan,
                ),
                data=frame.image,
                content_type=frame.header.content_type,
            )
        outcomes.append(
            {
                "camera_id": frame.camera_id,
                "camera_kind": kind,
                "content_type": frame.header.content_type,
                "width": frame.header.width,
                "height": frame.header.height,
                "bytes": len(frame.image),
                "captured_at": frame.captured_at,
                "pan_deg": pan,
            }
        )
    if not kept:
        return outcomes
    await repo.store_latest_frames(
        uow.session,
        [
            repo.LatestFrame(
                camera_id=camera_id,
                content_type=frame.header.content_type,
                width=frame.header.width,
                height=frame.header.height,
                pan_deg=pan,
                captured_at=frame.captured_at,
                image=frame.image,
                frame_due_by=due_by[camera_id],
            )
            for camera_id, (frame, pan) in kept.items()
        ],
    )
    back = [
        camera_id
        for camera_id in kept
        if comes_back_online(CameraStatus(cameras[camera_id]["status"]))
    ]
    if back:
        await repo.set_statuses(uow.session, back, CameraStatus.ONLINE.value)
        places = await repo.camera_locations(uow.session, back)
        for camera_id in back:
            frame, _ = kept[camera_id]
            with _trace_of(frame):
                uow.emit(
                    CAMERA_ONLINE,
                    s.CameraStatusChanged(
                        camera_id=camera_id,
                        camera_kind=s.CameraKind(cameras[camera_id]["kind"]),
                        status="online",
                        since=frame.received_at,
                        last_frame_at=frame.captured_at,
                        location=GeoPoint.model_validate(places[camera_id]),
                    ),
                )
    return outcomes


async def accept_frame(
    uow: UnitOfWork,
    *,
    camera_id: str,
    image: bytes,
    declared_type: str,
    captured_at: datetime,
    pan_deg: float | None,
    received_at: datetime,
    health: HealthPolicy,
) -> dict[str, Any]:
    """Accept one camera frame, pushed or polled: keep it as the snapshot and pass it
    on to fire detection; a camera that was offline is back. The caller commits."""
    frame = check_frame(
        camera_id=camera_id,
        image=image,
        declared_type=declared_type,
        captured_at=captured_at,
        pan_deg=pan_deg,
        received_at=received_at,
    )
    (outcome,) = await store_frames(uow, [frame], health=health)
    if isinstance(outcome, Problem):
        raise outcome
    return outcome


async def sweep_camera_health(uow: UnitOfWork, *, now: datetime, limit: int = 500) -> list[str]:
    """Take cameras that owe a frame offline, one event each; returns their ids.

    Safe with several replicas: overdue cameras are claimed with SKIP LOCKED, and a
    camera already offline is no longer a candidate, so each outage is announced once.
    """
    overdue = await repo.overdue_cameras(uow.session, now=now, limit=limit)
    for camera in overdue:
        await repo.set_status(uow.session, camera["id"], CameraStatus.OFFLINE.value)
        uow.emit(
            CAMERA_OFFLINE,
            s.CameraStatusChanged(
                camera_id=camera["id"],
                camera_kind=s.CameraKind(camera["kind"]),
                status="offline",
                # Offline from the moment the frame it owed did not come.
                since=camera["frame_due_by"],
                last_frame_at=camera["last_frame_at"],
                location=GeoPoint.model_validate(camera["location"]),
            ),
        )
    await uow.commit()
    return [camera["id"] for camera in overdue]


async def snapshot(uow: UnitOfWork, camera_id: str) -> dict[str, Any]:
    """The camera's latest frame."""
    frame = await repo.latest_frame(uow.session, camera_id)
    if frame is not None:
        return frame
    if not await repo.camera_exists(uow.session, camera_id):
        raise not_found("camera", camera_id)
    raise Problem(404, "Not found", f"camera {camera_id!r} has delivered no frame yet")


async def on_fire_alarm(delivery: Delivery, uow: UnitOfWork) -> None:
    """Keep track of the alarms raised on our cameras' views."""
    payload = delivery.payload
    if isinstance(payload, s.FireAlarmRaised):
        # A ranger's report has no camera; an unknown camera is not ours to track.
        if payload.camera_id is None or not await repo.camera_exists(
            uow.session, payload.camera_id
        ):
            return
        await repo.add_alarm(
            uow.session,
            alarm_id=payload.alarm_id,
            camera_id=payload.camera_id,
            status=s.FireAlarmStatus.RAISED.value,
            danger_level=payload.danger_level,
            raised_at=payload.raised_at,
        )
    elif isinstance(payload, s.FireAlarmStatusChanged):
        await repo.update_alarm(
            uow.session, payload.alarm_id, status=payload.status.value, at=payload.at
        )
