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
from grid_events.domain.model import (
    AUTOMATIC_SOURCES,
    FINISHED,
    DedupRule,
    classify,
    department_for,
)


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


async def open_case(
    uow: UnitOfWork,
    *,
    category: str,
    description: str,
    location: GeoPoint,
    source_kind: str,
    source_ref: str,
    cell_id: str | None = None,
) -> dict[str, Any]:
    """A new case, located to its cell and announced on grid.cases (on commit)."""
    case_id = f"case-{uuid.uuid4().hex[:16]}"
    await repo.add_case(
        uow.session,
        id=case_id,
        category=category,
        status="opened",
        department=department_for(category),
        cell_id=cell_id if cell_id is not None else await repo.cell_at(uow.session, location),
        source_kind=source_kind,
        source_ref=source_ref[:64],
        description=description[:2000],
        location=location,
    )
    await repo.add_report(
        uow.session,
        report_id=_report_id(),
        case_id=case_id,
        source_kind=source_kind,
        source_ref=source_ref[:64],
        description=description[:2000],
        location=location,
    )
    case = await repo.get_case(uow.session, case_id)
    assert case is not None  # noqa: S101 - inserted just above
    _emit_case(uow, case, s.GridCaseStatus.OPENED)
    return case


def _report_id() -> str:
    return f"rep-{uuid.uuid4().hex[:16]}"


async def take_report(
    uow: UnitOfWork,
    rule: DedupRule,
    *,
    category: str,
    description: str,
    location: GeoPoint,
    source_kind: str,
    source_ref: str,
    cell_id: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """File a report: into an open case of its category nearby, else as a new case.

    Returns the case and whether the report joined an existing one. Joining emits
    no event: the case's status has not changed.
    """
    if rule.merges(category):
        existing = await repo.nearby_open_case(
            uow.session,
            category=category,
            location=location,
            radius_m=rule.radius_m,
            reported_since=datetime.now(UTC) - rule.window,
            finished=FINISHED,
        )
        if existing is not None:
            await repo.add_report(
                uow.session,
                report_id=_report_id(),
                case_id=existing["id"],
                source_kind=source_kind,
                source_ref=source_ref[:64],
                description=description[:2000],
                location=location,
            )
            await repo.note_report(uow.session, existing["id"])
            case = await repo.get_case(uow.session, existing["id"])
            assert case is not None  # noqa: S101 - locked above
            return case, True
    case = await open_case(
        uow,
        category=category,
        description=description,
        location=location,
        source_kind=source_kind,
        source_ref=source_ref,
        cell_id=cell_id,
    )
    return case, False


async def report_case(
    uow: UnitOfWork,
    rule: DedupRule,
    *,
    category: str,
    description: str,
    location: GeoPoint,
    reporter: str,
) -> dict[str, Any]:
    """A grid worker reports an incident from the field."""
    case, _ = await take_report(
        uow,
        rule,
        category=category,
        description=description,
        location=location,
        source_kind="grid_worker",
        source_ref=reporter,
    )
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
    rule: DedupRule,
    *,
    source: s.GridCaseSource,
    location: GeoPoint,
    description: str,
    medium: str | None = None,
) -> None:
    if await repo.open_report_for_source(uow.session, source.kind, source.ref) is not None:
        return  # this incident is already on a case
    await take_report(
        uow,
        rule,
        category=classify(source, medium=medium).category,
        description=description,
        location=location,
        source_kind=source.kind,
        source_ref=source.ref,
    )


async def _close_from_source(uow: UnitOfWork, kind: str, ref: str) -> None:
    """The source's incident cleared: its report ends, and the case with its last one."""
    found = await repo.open_report_for_source(uow.session, kind, ref)
    if found is None:
        return
    report_id, case = found
    await repo.close_report(uow.session, report_id)
    if case["status"] in FINISHED:
        return
    # Two cameras may have raised one fire: the case closes when both alarms have.
    if await repo.open_reports_from(uow.session, case["id"], AUTOMATIC_SOURCES):
        return
    await repo.set_status(uow.session, case["id"], "closed")
    _emit_case(uow, case, s.GridCaseStatus.CLOSED)


async def on_fire_alarm(delivery: Delivery, uow: UnitOfWork, *, rule: DedupRule) -> None:
    payload = delivery.payload
    if isinstance(payload, s.FireAlarmRaised):
        await _open_from_source(
            uow,
            rule,
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


async def on_camera_status(delivery: Delivery, uow: UnitOfWork, *, rule: DedupRule) -> None:
    payload = delivery.payload
    assert isinstance(payload, s.CameraStatusChanged)  # noqa: S101 - registry guarantees it
    if payload.status == "offline":
        await _open_from_source(
            uow,
            rule,
            source=s.GridCaseSource(kind="camera", ref=payload.camera_id),
            location=payload.location,
            description=f"Camera {payload.camera_id} offline since {payload.since.isoformat()}",
        )
    else:
        await _close_from_source(uow, "camera", payload.camera_id)


async def on_exceedance(delivery: Delivery, uow: UnitOfWork, *, rule: DedupRule) -> None:
    payload = delivery.payload
    if isinstance(payload, s.ExceedanceDetected):
        await _open_from_source(
            uow,
            rule,
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


async def on_traffic_incident(delivery: Delivery, uow: UnitOfWork, *, rule: DedupRule) -> None:
    payload = delivery.payload
    if isinstance(payload, s.TrafficIncidentDetected):
        await _open_from_source(
            uow,
            rule,
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


async def case_reports(uow: UnitOfWork, case_id: str) -> list[dict[str, Any]]:
    """Every report filed into a case, oldest first."""
    await get_case(uow, case_id)
    return await repo.reports_of(uow.session, case_id)
