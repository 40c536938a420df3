"""Use cases of grid-events: each takes a unit of work and commits or not at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint, GeoPolygon
from city_common.messaging.consumer import Delivery
from city_common.web.problems import conflict, not_found, validation_failed
from grid_events.adapters import repository as repo
from grid_events.domain.model import classify, department_for


def _emit_case(uow: UnitOfWork, case: dict[str, Any], status: s.GridCaseStatus) -> None:
    uow.emit(
        spec_for_type(f"city.grid.case.{status.value}.v1"),
        s.GridCaseChanged(
            case_id=case["id"],
            status=status,
            category=case["category"],
            at=datetime.now(UTC),
            cell_id=case["cell_id"],
            department=case["department"],
            source=s.GridCaseSource(kind=case["source_kind"], ref=case["source_ref"]),
            location=GeoPoint.model_validate(case["location"]),
        ),
    )


async def report_case(
    uow: UnitOfWork,
    *,
    category: str,
    description: str,
    location: GeoPoint,
    reporter: str,
) -> dict[str, Any]:
    """A grid worker reports an incident from the field."""
    case_id = f"case-{uuid.uuid4().hex[:16]}"
    cell_id = await repo.cell_at(uow.session, location)
    await repo.add_case(
        uow.session,
        id=case_id,
        category=category,
        status="opened",
        department=department_for(category),
        cell_id=cell_id,
        source_kind="grid_worker",
        source_ref=reporter[:64],
        description=description,
        location=location,
    )
    case = await repo.get_case(uow.session, case_id)
    assert case is not None  # noqa: S101 - inserted just above
    _emit_case(uow, case, s.GridCaseStatus.OPENED)
    await uow.commit()
    return case


async def add_cell(
    uow: UnitOfWork,
    *,
    cell_id: str,
    name: str,
    level: str,
    parent_id: str | None,
    polygon: GeoPolygon,
) -> None:
    if await repo.cell_exists(uow.session, cell_id):
        raise conflict(f"grid cell {cell_id!r} already exists")
    if parent_id is not None and not await repo.cell_exists(uow.session, parent_id):
        raise validation_failed(
            "body.parent_id", f"grid cell {parent_id!r} does not exist", code="unknown_reference"
        )
    await repo.add_cell(
        uow.session, cell_id=cell_id, name=name, level=level, parent_id=parent_id, polygon=polygon
    )
    await uow.commit()


async def _open_from_source(
    uow: UnitOfWork,
    *,
    source: s.GridCaseSource,
    location: GeoPoint,
    description: str,
    medium: str | None = None,
) -> None:
    if await repo.open_case_for_source(uow.session, source.kind, source.ref) is not None:
        return  # the same incident already has an open case
    intake = classify(source, medium=medium)
    case_id = f"case-{uuid.uuid4().hex[:16]}"
    await repo.add_case(
        uow.session,
        id=case_id,
        category=intake.category,
        status="opened",
        department=intake.department,
        cell_id=await repo.cell_at(uow.session, location),
        source_kind=source.kind,
        source_ref=source.ref,
        description=description,
        location=location,
    )
    case = await repo.get_case(uow.session, case_id)
    assert case is not None  # noqa: S101
    _emit_case(uow, case, s.GridCaseStatus.OPENED)


async def _close_from_source(uow: UnitOfWork, kind: str, ref: str) -> None:
    case = await repo.open_case_for_source(uow.session, kind, ref)
    if case is None:
        return
    await repo.set_status(uow.session, case["id"], "closed")
    _emit_case(uow, case, s.GridCaseStatus.CLOSED)


async def on_fire_alarm(delivery: Delivery, uow: UnitOfWork) -> None:
    payload = delivery.payload
    if isinstance(payload, s.FireAlarmRaised):
        await _open_from_source(
            uow,
            source=s.GridCaseSource(kind="fire_alarm", ref=payload.alarm_id),
            location=payload.location,
            description=(
                f"Forest fire alarm {payload.alarm_id} (danger level {payload.danger_level})"
            ),
        )
    elif isinstance(payload, s.FireAlarmStatusChanged) and payload.status in (
        s.FireAlarmStatus.EXTINGUISHED,
        s.FireAlarmStatus.DISMISSED,
    ):
        await _close_from_source(uow, "fire_alarm", payload.alarm_id)


async def on_camera_status(delivery: Delivery, uow: UnitOfWork) -> None:
    payload = delivery.payload
    assert isinstance(payload, s.CameraStatusChanged)  # noqa: S101 - registry guarantees it
    if payload.status == "offline":
        await _open_from_source(
            uow,
            source=s.GridCaseSource(kind="camera", ref=payload.camera_id),
            location=payload.location,
            description=f"Camera {payload.camera_id} offline since {payload.since.isoformat()}",
        )
    else:
        await _close_from_source(uow, "camera", payload.camera_id)


async def on_exceedance(delivery: Delivery, uow: UnitOfWork) -> None:
    payload = delivery.payload
    if isinstance(payload, s.ExceedanceDetected):
        await _open_from_source(
            uow,
            source=s.GridCaseSource(kind="exceedance", ref=payload.exceedance_id),
            location=payload.location,
            medium=payload.medium.value,
            description=(
                f"{payload.pollutant} {payload.concentration} {payload.unit} "
                f"over limit {payload.limit} in cell {payload.cell_id}"
            ),
        )
    elif isinstance(payload, s.ExceedanceClosed):
        await _close_from_source(uow, "exceedance", payload.exceedance_id)


async def on_traffic_incident(delivery: Delivery, uow: UnitOfWork) -> None:
    payload = delivery.payload
    if isinstance(payload, s.TrafficIncidentDetected):
        await _open_from_source(
            uow,
            source=s.GridCaseSource(kind="traffic_incident", ref=payload.incident_id),
            location=payload.location,
            description=f"Traffic {payload.kind.value} (severity {payload.severity})",
        )
    elif isinstance(payload, s.TrafficIncidentCleared):
        await _close_from_source(uow, "traffic_incident", payload.incident_id)


async def get_case(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    case = await repo.get_case(uow.session, case_id)
    if case is None:
        raise not_found("case", case_id)
    return case
