"""Use cases of fire-detect: each takes a unit of work and commits or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.events.envelope import EnvelopeError
from city_common.events.registry import EventSpec, spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging.consumer import Delivery
from city_common.web.problems import conflict, not_found
from fire_detect.adapters import repository as repo
from fire_detect.domain.model import (
    ForestResourceKind,
    FrameSeen,
    InvalidTransition,
    tally,
    transition,
)

ALARM_RAISED = spec_for_type("city.fire.alarm.raised.v1")


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
    moved = await get_alarm(uow, alarm_id)
    await uow.commit()
    return moved


async def get_alarm(uow: UnitOfWork, alarm_id: str) -> dict[str, Any]:
    """The alarm with its timeline, oldest step first."""
    alarm = await repo.get_alarm(uow.session, alarm_id)
    if alarm is None:
        raise not_found("fire alarm", alarm_id)
    return {**alarm, "timeline": await repo.timeline(uow.session, alarm_id)}


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


async def on_frames(deliveries: Sequence[Delivery], uow: UnitOfWork) -> None:
    """A batch of frames: one stats upsert per camera, not one per frame."""
    await repo.add_frames(uow.session, tally(_seen(d) for d in deliveries))


async def on_frame(delivery: Delivery, uow: UnitOfWork) -> None:
    """One frame, when its batch failed and the frames are retried one by one."""
    await on_frames([delivery], uow)


async def frame_stats(uow: UnitOfWork, camera_id: str) -> dict[str, Any]:
    stats = await repo.get_frame_stats(uow.session, camera_id)
    if stats is None:
        raise not_found("frame stats of camera", camera_id)
    return stats
