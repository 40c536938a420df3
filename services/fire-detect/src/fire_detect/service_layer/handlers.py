"""Use cases of fire-detect: each takes a unit of work and commits or not at all."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.events.envelope import EnvelopeError
from city_common.events.registry import EventSpec, spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging.consumer import Delivery
from city_common.web.problems import conflict, not_found
from fire_detect.adapters import repository as repo
from fire_detect.config import Settings
from fire_detect.domain.danger import (
    STARTUP_CODES,
    MoistureCodes,
    NoonWeather,
    fire_weather_day,
)
from fire_detect.domain.detection import FireAlert, SequenceTracker, TrackerState
from fire_detect.domain.location import (
    Bearing,
    bearing_area,
    bearing_of_box,
    crossing_area,
    intersect,
)
from fire_detect.domain.model import (
    ForestResourceKind,
    FrameSeen,
    InvalidTransition,
    tally,
    transition,
)
from fire_detect.domain.sequence_times import SequenceClock
from fire_detect.service_layer import notifications, response
from fire_detect.service_layer.detection import AnalysedFrame, FrameDetector

log = logging.getLogger(__name__)

ALARM_RAISED = spec_for_type("city.fire.alarm.raised.v1")
DETECTOR_ACTOR = "fire-detect"


def _announcement(status: s.FireAlarmStatus) -> EventSpec | None:
    """The event that announces an alarm reaching ``status``, if the contract has one."""
    try:
        spec = spec_for_type(f"city.fire.alarm.{status.value}.v1")
    except EnvelopeError:
        return None
    return spec if spec.model is s.FireAlarmStatusChanged else None


# --- forest resources ------------------------------------------------------


async def register_resource(
    uow: UnitOfWork,
    *,
    resource_id: str,
    kind: ForestResourceKind,
    name: str,
    location: GeoPoint,
) -> dict[str, Any]:
    """Add a water source, access road, hazard, ranger station or village to the map."""
    added = await repo.add_resource(
        uow.session, resource_id=resource_id, kind=kind.value, name=name, location=location
    )
    if not added:
        raise conflict(f"forest resource {resource_id!r} already exists")
    resource = await repo.get_resource(uow.session, resource_id)
    assert resource is not None  # noqa: S101 - inserted just above
    await uow.commit()
    return resource


async def get_resource(uow: UnitOfWork, resource_id: str) -> dict[str, Any]:
    resource = await repo.get_resource(uow.session, resource_id)
    if resource is None:
        raise not_found("forest resource", resource_id)
    return resource


# --- fire alarms -----------------------------------------------------------


async def report_alarm(
    uow: UnitOfWork,
    *,
    location: GeoPoint,
    danger_level: int,
    confidence: float,
    uncertainty_m: float,
    reporter: str,
) -> dict[str, Any]:
    """A ranger reports a fire: the alarm is raised and announced at once."""
    alarm_id = f"fa-{uuid.uuid4().hex[:16]}"
    raised_at = datetime.now(UTC)
    actor = reporter[:128]
    await repo.add_alarm(
        uow.session,
        id=alarm_id,
        kind="reported",
        status=s.FireAlarmStatus.RAISED.value,
        location=location,
        uncertainty_m=uncertainty_m,
        confidence=confidence,
        danger_level=danger_level,
        camera_id=None,
        reported_by=actor,
        raised_at=raised_at,
        updated_at=raised_at,
    )
    await repo.add_transition(
        uow.session,
        alarm_id=alarm_id,
        status=s.FireAlarmStatus.RAISED.value,
        at=raised_at,
        actor=actor,
        note=None,
    )
    await response.prepare_response(uow, alarm_id, location=location, danger_level=danger_level)
    uow.emit(
        ALARM_RAISED,
        s.FireAlarmRaised(
            alarm_id=alarm_id,
            raised_at=raised_at,
            location=location,
            uncertainty_m=uncertainty_m,
            confidence=confidence,
            danger_level=danger_level,
            kind="reported",
        ),
    )
    # In this transaction: the alarm is never committed without its notifications.
    await notifications.notify_alarm_step(
        uow, alarm_id, status=s.FireAlarmStatus.RAISED, at=raised_at
    )
    alarm = await get_alarm(uow, alarm_id)
    await uow.commit()
    return alarm


async def move_alarm(
    uow: UnitOfWork,
    alarm_id: str,
    *,
    target: s.FireAlarmStatus,
    actor: str,
    note: str | None,
) -> dict[str, Any]:
    """Move an alarm along its lifecycle, record who did it and announce it."""
    # The row lock keeps two people from moving the same alarm from the same status.
    alarm = await repo.get_alarm(uow.session, alarm_id, for_update=True)
    if alarm is None:
        raise not_found("fire alarm", alarm_id)
    try:
        status = transition(s.FireAlarmStatus(alarm["status"]), target)
    except InvalidTransition as exc:
        raise conflict(str(exc)) from exc
    at = datetime.now(UTC)
    actor = actor[:128]
    await repo.set_alarm_status(uow.session, alarm_id, status=status.value, at=at)
    await repo.add_transition(
        uow.session, alarm_id=alarm_id, status=status.value, at=at, actor=actor, note=note
    )
    spec = _announcement(status)
    if spec is not None:
        uow.emit(
            spec,
            s.FireAlarmStatusChanged(
                alarm_id=alarm_id,
                status=status,
                at=at,
                actor=actor,
                note=note,
                location=GeoPoint.model_validate(alarm["location"]),
            ),
        )
    await notifications.notify_alarm_step(uow, alarm_id, status=status, at=at)
    moved = await get_alarm(uow, alarm_id)
    await uow.commit()
    return moved


async def get_alarm(uow: UnitOfWork, alarm_id: str) -> dict[str, Any]:
    """The alarm with its timeline, oldest step first."""
    alarm = await repo.get_alarm(uow.session, alarm_id)
    if alarm is None:
        raise not_found("fire alarm", alarm_id)
    alarm = {**alarm, "timeline": await repo.timeline(uow.session, alarm_id)}
    return await response.with_response(uow, alarm)


# --- camera frames ---------------------------------------------------------


def _seen(delivery: Delivery) -> FrameSeen:
    payload = delivery.payload
    assert isinstance(payload, s.FrameCaptured)  # noqa: S101 - registry guarantees it
    return FrameSeen(
        camera_id=payload.camera_id,
        camera_kind=payload.camera_kind.value,
        captured_at=payload.captured_at,
        pan_deg=payload.pan_azimuth_deg,
        content_type=delivery.event.datacontenttype,
    )


def is_forest_frame(payload: s.EventPayload) -> bool:
    """The frames fire-detect acts on. The others (traffic and public-safety cameras,
    nine in ten of the frames) are passed over before the inbox and the database."""
    return isinstance(payload, s.FrameCaptured) and payload.camera_kind is s.CameraKind.FOREST


async def on_frames(
    deliveries: Sequence[Delivery],
    uow: UnitOfWork,
    *,
    detector: FrameDetector | None = None,
    settings: Settings | None = None,
) -> None:
    """A batch of forest cameras' frames: one stats upsert per camera, then flame and
    smoke detection, their poses' trackers, and the alarms they raise."""
    await repo.add_frames(uow.session, tally(_seen(d) for d in deliveries))
    if detector is None or settings is None:
        return
    # The subscription passes over other cameras' frames (and the registry refuses
    # a frame that is not JPEG or PNG); this guards a caller that did not.
    forest = [d for d in deliveries if is_forest_frame(d.payload)]
    if not forest:
        return
    # Decoding and detection are CPU work (about 2 ms a frame): off the event loop.
    frames = await asyncio.to_thread(detector.analyse, forest)
    await track_frames(uow, frames, settings=settings)


async def on_frame(
    delivery: Delivery,
    uow: UnitOfWork,
    *,
    detector: FrameDetector | None = None,
    settings: Settings | None = None,
) -> None:
    """One frame, when its batch failed and the frames are retried one by one."""
    await on_frames([delivery], uow, detector=detector, settings=settings)


async def track_frames(
    uow: UnitOfWork, frames: Sequence[AnalysedFrame], *, settings: Settings
) -> list[str]:
    """Feed analysed frames to their poses' trackers, in order; raise what they alarm.
    Returns the ids of the alarms raised."""
    if not frames:
        return []
    keys = sorted({(f.camera_id, f.pose) for f in frames})
    # Locked: two replicas never interleave one pose's frames (the partitioning by
    # camera id makes that rare; this makes it harmless).
    stored = await repo.lock_pose_states(uow.session, keys)
    states = {key: TrackerState.from_json(state) for key, state in stored.items()}
    clock = SequenceClock.from_states(stored)
    last_at: dict[tuple[str, str], datetime] = {}
    level = await current_danger_level(uow, settings=settings)
    views = await repo.get_views(uow.session, sorted({f.camera_id for f in frames}))
    tracker = SequenceTracker()
    raised: list[str] = []
    for frame in frames:
        key = (frame.camera_id, frame.pose)
        before = states.get(key, TrackerState())
        state, alerts = tracker.update(before, frame.detections, danger_level=level)
        states[key] = state
        last_at[key] = frame.captured_at
        clock.saw(key, state.frame, frame.captured_at)
        first_seen = clock.first_sighting(key, before, state) if alerts else None
        for alert in alerts:
            alarm_id = await _raise_from_camera(
                uow, frame, alert, views.get(frame.camera_id), level, settings, first_seen
            )
            if alarm_id is not None:
                raised.append(alarm_id)
    await repo.save_pose_states(
        uow.session,
        [
            (c, p, clock.stamped((c, p), states[(c, p)].to_json()), last_at[(c, p)])
            for c, p in last_at
        ],
    )
    return raised


async def _raise_from_camera(
    uow: UnitOfWork,
    frame: AnalysedFrame,
    alert: FireAlert,
    view: dict[str, Any] | None,
    level: int,
    settings: Settings,
    first_seen: datetime | None = None,
) -> str | None:
    if view is None:
        # Without the camera's place and field of view the fire cannot be located;
        # the view must be registered (PUT /cameras/{id}/view).
        log.error(
            "fire seen by a camera with no registered view; no alarm raised",
            extra={"camera_id": frame.camera_id, "kind": alert.kind},
        )
        return None
    camera = GeoPoint.model_validate(view["location"])
    bearing = bearing_of_box(
        lon=camera.lon,
        lat=camera.lat,
        pan_azimuth_deg=frame.pan_azimuth_deg,
        hfov_deg=view["hfov_deg"],
        image_width=frame.image_width,
        box_x=alert.box.x,
        box_w=alert.box.w,
    )
    now = datetime.now(UTC)
    if await _crosses_another_camera(uow, frame, bearing, now=now, settings=settings):
        return None
    area = bearing_area(bearing, near_m=settings.fire_view_near_m, far_m=settings.fire_view_far_m)
    alarm_id = f"fa-{uuid.uuid4().hex[:16]}"
    await repo.add_camera_alarm(
        uow.session,
        id=alarm_id,
        kind=alert.kind,
        status=s.FireAlarmStatus.RAISED.value,
        location=area.location,
        uncertainty_m=area.uncertainty_m,
        confidence=alert.confidence,
        danger_level=level,
        camera_id=frame.camera_id,
        reported_by=None,
        raised_at=now,
        updated_at=now,
        bearing_deg=round(bearing.azimuth_deg, 3),
        bearing_half_width_deg=round(bearing.half_width_deg, 3),
        camera_location=camera,
        area=area.wedge,
        evidence={
            "captured_at": frame.captured_at.isoformat(),
            "pose": frame.pose,
            "box": list(alert.box.as_tuple()),
            "image": [frame.image_width, frame.image_height],
            "frames_seen": alert.frames_seen,
            # When the sequence was first seen: the detection-to-alarm KPI starts here.
            "first_detected_at": first_seen.isoformat() if first_seen else None,
        },
    )
    await repo.add_transition(
        uow.session,
        alarm_id=alarm_id,
        status=s.FireAlarmStatus.RAISED.value,
        at=now,
        actor=DETECTOR_ACTOR,
        note=f"{alert.kind} seen by camera {frame.camera_id} in {alert.frames_seen} frames",
    )
    await response.prepare_response(uow, alarm_id, location=area.location, danger_level=level)
    await response.keep_frame(
        uow,
        alarm_id,
        content_type=frame.content_type,
        image=frame.image,
        captured_at=frame.captured_at,
    )
    uow.emit(
        ALARM_RAISED,
        s.FireAlarmRaised(
            alarm_id=alarm_id,
            camera_id=frame.camera_id,
            raised_at=now,
            location=area.location,
            uncertainty_m=area.uncertainty_m,
            confidence=alert.confidence,
            danger_level=level,
            kind=alert.kind,
        ),
    )
    await notifications.notify_alarm_step(uow, alarm_id, status=s.FireAlarmStatus.RAISED, at=now)
    log.info(
        "fire alarm raised from frames",
        extra={"alarm_id": alarm_id, "camera_id": frame.camera_id, "kind": alert.kind},
    )
    return alarm_id


async def _crosses_another_camera(
    uow: UnitOfWork, frame: AnalysedFrame, bearing: Bearing, *, now: datetime, settings: Settings
) -> bool:
    """A second camera sees a fire another one has just reported: it is the same fire,
    and where the two bearings cross is where it burns. The alarm is located there (no
    second alarm), and True is returned."""
    since = now - timedelta(minutes=settings.fire_cross_window_min)
    for other in await repo.recent_camera_alarms(
        uow.session, since=since, other_than=frame.camera_id
    ):
        first = Bearing(
            other["camera_lon"],
            other["camera_lat"],
            other["bearing_deg"],
            other["bearing_half_width_deg"],
        )
        fix = intersect(first, bearing, max_range_m=settings.fire_view_far_m)
        if fix is None:
            continue
        await repo.locate_alarm(
            uow.session,
            other["id"],
            location=fix.location,
            uncertainty_m=fix.uncertainty_m,
            area=crossing_area(first, bearing, max_range_m=settings.fire_view_far_m),
            crossed_by=frame.camera_id,
            at=now,
        )
        await response.relocated(uow, other["id"])
        log.info(
            "fire alarm located by a second camera",
            extra={
                "alarm_id": other["id"],
                "camera_id": frame.camera_id,
                "range_m": fix.range_a_m,
                "uncertainty_m": fix.uncertainty_m,
            },
        )
        return True
    return False


# --- fire danger -------------------------------------------------------------


async def current_danger_level(uow: UnitOfWork, *, settings: Settings) -> int:
    """Today's (or yesterday's) rating from the recorded noon weather, else the default."""
    latest = await repo.latest_fire_weather(uow.session)
    today = datetime.now(UTC).date()
    if latest is not None and (today - latest["day"]).days <= 1:
        return int(latest["danger_level"])
    return settings.fire_default_danger_level


async def record_fire_weather(
    uow: UnitOfWork, *, day: date, weather: NoonWeather, latitude: float
) -> dict[str, Any]:
    """A day's noon weather: the FWI System's components from the day before's codes
    (the start-up codes when that day is missing), and the danger level they give."""
    yesterday = await repo.fire_weather_day(uow.session, day - timedelta(days=1))
    codes = (
        MoistureCodes(ffmc=yesterday["ffmc"], dmc=yesterday["dmc"], dc=yesterday["dc"])
        if yesterday is not None
        else STARTUP_CODES
    )
    components = fire_weather_day(codes, weather, month=day.month, latitude=latitude)
    await repo.put_fire_weather_day(
        uow.session,
        day=day,
        temp_c=weather.temp_c,
        rh_pct=weather.rh_pct,
        wind_kmh=weather.wind_kmh,
        rain_24h_mm=weather.rain_24h_mm,
        ffmc=round(components.ffmc, 3),
        dmc=round(components.dmc, 3),
        dc=round(components.dc, 3),
        isi=round(components.isi, 3),
        bui=round(components.bui, 3),
        fwi=round(components.fwi, 3),
        danger_level=components.danger_level,
    )
    recorded = await repo.fire_weather_day(uow.session, day)
    assert recorded is not None  # noqa: S101 - written just above
    await uow.commit()
    return recorded


async def latest_fire_weather(uow: UnitOfWork) -> dict[str, Any]:
    latest = await repo.latest_fire_weather(uow.session)
    if latest is None:
        raise not_found("fire weather", "latest")
    return latest


# --- camera views ------------------------------------------------------------


async def put_camera_view(
    uow: UnitOfWork, *, camera_id: str, location: GeoPoint, hfov_deg: float
) -> dict[str, Any]:
    await repo.put_view(uow.session, camera_id=camera_id, location=location, hfov_deg=hfov_deg)
    view = (await repo.get_views(uow.session, [camera_id]))[camera_id]
    await uow.commit()
    return view


async def on_camera_registered(delivery: Delivery, uow: UnitOfWork) -> None:
    """A forest camera joined video-ingest's registry: its place and field of view
    become its view here, so its alarms can be located without a second registration.
    A view set through the API later (a surveyed position) replaces it."""
    payload = delivery.payload
    assert isinstance(payload, s.CameraRegistered)  # noqa: S101 - registry guarantees it
    if payload.camera_kind is not s.CameraKind.FOREST:
        return
    if payload.hfov_deg >= 180.0:
        # A bearing needs a field of view under 180 degrees (a panoramic camera has none).
        log.warning(
            "forest camera registered with a field of view of 180 degrees or more; no view kept",
            extra={"camera_id": payload.camera_id},
        )
        return
    await repo.put_view(
        uow.session,
        camera_id=payload.camera_id,
        location=payload.location,
        hfov_deg=payload.hfov_deg,
    )


async def get_camera_view(uow: UnitOfWork, camera_id: str) -> dict[str, Any]:
    view = (await repo.get_views(uow.session, [camera_id])).get(camera_id)
    if view is None:
        raise not_found("view of camera", camera_id)
    return view


async def frame_stats(uow: UnitOfWork, camera_id: str) -> dict[str, Any]:
    stats = await repo.get_frame_stats(uow.session, camera_id)
    if stats is None:
        raise not_found("frame stats of camera", camera_id)
    return stats
