"""Use cases of grid-events: each takes a unit of work and commits or not at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.geo import GeoPoint, GeoPolygon
from city_common.messaging.consumer import Delivery
from city_common.web.problems import conflict, not_found, validation_failed
from grid_events.adapters import repository as repo
from grid_events.adapters import workflow_repo as wrepo
from grid_events.domain.model import (
    AUTOMATIC_SOURCES,
    FINISHED,
    DedupRule,
    classify,
)
from grid_events.domain.workflow import CaseStatus, WorkflowPolicy, system_actor
from grid_events.service_layer import workflow

# Intake without settings at hand (Open311, tests): the defaults of the settings.
DEFAULT_POLICY = WorkflowPolicy()


def _reporter(source_kind: str, source_ref: str) -> str:
    """Who the timeline says reported: a system, a grid worker's login, a citizen's request."""
    if source_kind in AUTOMATIC_SOURCES:
        return system_actor(source_kind)
    return source_ref if source_kind == "grid_worker" else f"{source_kind}:{source_ref}"


async def open_case(
    uow: UnitOfWork,
    *,
    category: str,
    description: str,
    location: GeoPoint,
    source_kind: str,
    source_ref: str,
    cell_id: str | None = None,
    policy: WorkflowPolicy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """A new case, located to its cell, routed by the dispatch rules and announced on
    grid.cases (on commit); an automatic source's case is dispatched at once."""
    case_id = f"case-{uuid.uuid4().hex[:16]}"
    at = datetime.now(UTC)
    if cell_id is None:
        # The cell and its ancestry for the rules in one query.
        ancestry = await repo.cell_and_ancestry(uow.session, location)
        cell_id = ancestry[0] if ancestry else None
    else:
        ancestry = await wrepo.ancestry(uow.session, cell_id)
    # Asked once: the dispatch on intake below follows the same answer.
    routed = await workflow.route_along(uow, category=category, ancestry=ancestry)
    case = await repo.add_case(
        uow.session,
        id=case_id,
        category=category,
        status=CaseStatus.REPORTED.value,
        department=routed.department,
        priority=routed.priority,
        cell_id=cell_id,
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
    await workflow.record_reported(uow, case, actor=_reporter(source_kind, source_ref), at=at)
    workflow.emit_case(uow, case, s.GridCaseStatus.OPENED, at)
    if source_kind in policy.auto_dispatch_sources:
        # Inserted by this transaction: no other one can see it, so no lock to take.
        case = await workflow.dispatch_on_intake(
            uow, policy, case_id, source_kind=source_kind, at=at, held=case, routed=routed
        )
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
    policy: WorkflowPolicy = DEFAULT_POLICY,
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
            case = await repo.note_report(uow.session, existing["id"])
            assert case is not None  # noqa: S101 - locked above
            if (
                source_kind in policy.auto_dispatch_sources
                and existing["status"] == CaseStatus.REPORTED
            ):
                # A person's report confirmed by an alarm or a sensor: no need to wait
                # for the command centre any more. Locked above, so not read again.
                dispatched = await workflow.dispatch_on_intake(
                    uow,
                    policy,
                    existing["id"],
                    source_kind=source_kind,
                    at=datetime.now(UTC),
                    held=case,
                )
                return dispatched, True
            return case, True
    case = await open_case(
        uow,
        category=category,
        description=description,
        location=location,
        source_kind=source_kind,
        source_ref=source_ref,
        cell_id=cell_id,
        policy=policy,
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
    policy: WorkflowPolicy = DEFAULT_POLICY,
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
        policy=policy,
    )


async def _close_from_source(
    uow: UnitOfWork, kind: str, ref: str, policy: WorkflowPolicy = DEFAULT_POLICY
) -> None:
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
    # Through the lifecycle: checked, recorded as system:<source>, announced as closed.
    await workflow.close_for_source(
        uow,
        policy,
        case["id"],
        source_kind=kind,
        at=datetime.now(UTC),
        note=f"{kind} {ref} cleared",
    )


async def on_fire_alarm(
    delivery: Delivery,
    uow: UnitOfWork,
    *,
    rule: DedupRule,
    policy: WorkflowPolicy = DEFAULT_POLICY,
) -> None:
    payload = delivery.payload
    if isinstance(payload, s.FireAlarmRaised):
        await _open_from_source(
            uow,
            rule,
            policy=policy,
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
        await _close_from_source(uow, "fire_alarm", payload.alarm_id, policy)


async def on_camera_status(
    delivery: Delivery,
    uow: UnitOfWork,
    *,
    rule: DedupRule,
    policy: WorkflowPolicy = DEFAULT_POLICY,
) -> None:
    payload = delivery.payload
    assert isinstance(payload, s.CameraStatusChanged)  # noqa: S101 - registry guarantees it
    if payload.status == "offline":
        await _open_from_source(
            uow,
            rule,
            policy=policy,
            source=s.GridCaseSource(kind="camera", ref=payload.camera_id),
            location=payload.location,
            description=f"Camera {payload.camera_id} offline since {payload.since.isoformat()}",
        )
    else:
        await _close_from_source(uow, "camera", payload.camera_id, policy)


async def on_exceedance(
    delivery: Delivery,
    uow: UnitOfWork,
    *,
    rule: DedupRule,
    policy: WorkflowPolicy = DEFAULT_POLICY,
) -> None:
    payload = delivery.payload
    if isinstance(payload, s.ExceedanceDetected):
        await _open_from_source(
            uow,
            rule,
            policy=policy,
            source=s.GridCaseSource(kind="exceedance", ref=payload.exceedance_id),
            location=payload.location,
            medium=payload.medium.value,
            description=(
                f"{payload.pollutant} {payload.concentration} {payload.unit} "
                f"over limit {payload.limit} in cell {payload.cell_id}"
            ),
        )
    elif isinstance(payload, s.ExceedanceClosed):
        await _close_from_source(uow, "exceedance", payload.exceedance_id, policy)


async def on_traffic_incident(
    delivery: Delivery,
    uow: UnitOfWork,
    *,
    rule: DedupRule,
    policy: WorkflowPolicy = DEFAULT_POLICY,
) -> None:
    payload = delivery.payload
    if isinstance(payload, s.TrafficIncidentDetected):
        await _open_from_source(
            uow,
            rule,
            policy=policy,
            source=s.GridCaseSource(kind="traffic_incident", ref=payload.incident_id),
            location=payload.location,
            description=f"Traffic {payload.kind.value} (severity {payload.severity})",
        )
    elif isinstance(payload, s.TrafficIncidentCleared):
        await _close_from_source(uow, "traffic_incident", payload.incident_id, policy)


async def get_case(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    case = await repo.get_case(uow.session, case_id)
    if case is None:
        raise not_found("case", case_id)
    return case


async def case_reports(uow: UnitOfWork, case_id: str) -> list[dict[str, Any]]:
    """Every report filed into a case, oldest first."""
    await get_case(uow, case_id)
    return await repo.reports_of(uow.session, case_id)
