"""Use cases of traffic-signal: each takes a unit of work and commits or not at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging.consumer import Delivery
from city_common.web.problems import Problem, conflict, not_found
from traffic_signal.adapters import repository as repo
from traffic_signal.domain.model import (
    IncidentAlreadyCleared,
    IncidentStatus,
    clear,
    incident_of_case,
    is_newer_case_state,
)

INCIDENT_DETECTED = spec_for_type("city.traffic.incident.detected.v1")
INCIDENT_CLEARED = spec_for_type("city.traffic.incident.cleared.v1")


async def register_intersection(
    uow: UnitOfWork,
    *,
    intersection_id: str,
    name: str,
    location: GeoPoint,
    signal_groups: int,
    corridor_id: str | None,
) -> dict[str, Any]:
    """Add a signalised intersection to the network."""
    added = await repo.add_intersection(
        uow.session,
        intersection_id=intersection_id,
        name=name,
        location=location,
        signal_groups=signal_groups,
        corridor_id=corridor_id,
    )
    if not added:
        raise conflict(f"intersection {intersection_id!r} already exists")
    intersection = await repo.get_intersection(uow.session, intersection_id)
    assert intersection is not None  # noqa: S101 - inserted just above
    await uow.commit()
    return intersection


async def get_intersection(uow: UnitOfWork, intersection_id: str) -> dict[str, Any]:
    intersection = await repo.get_intersection(uow.session, intersection_id)
    if intersection is None:
        raise not_found("intersection", intersection_id)
    return intersection


async def report_incident(
    uow: UnitOfWork,
    *,
    kind: s.TrafficIncidentKind,
    severity: int,
    location: GeoPoint,
    intersection_id: str | None,
    reporter: str,
) -> dict[str, Any]:
    """Record a traffic incident and announce it, so grid-events opens a case."""
    if intersection_id is not None and not await repo.intersection_exists(
        uow.session, intersection_id
    ):
        raise Problem(
            422,
            "Validation failed",
            f"intersection {intersection_id!r} does not exist",
            errors=[
                {
                    "field": "body.intersection_id",
                    "reason": "unknown intersection",
                    "code": "unknown_reference",
                }
            ],
        )
    incident_id = f"ti-{uuid.uuid4().hex[:16]}"
    detected_at = datetime.now(UTC)
    await repo.add_incident(
        uow.session,
        id=incident_id,
        kind=kind.value,
        severity=severity,
        status=IncidentStatus.ACTIVE.value,
        location=location,
        intersection_id=intersection_id,
        reported_by=reporter[:128],
        detected_at=detected_at,
    )
    uow.emit(
        INCIDENT_DETECTED,
        s.TrafficIncidentDetected(
            incident_id=incident_id,
            kind=kind,
            detected_at=detected_at,
            location=location,
            severity=severity,
            intersection_id=intersection_id,
        ),
    )
    incident = await repo.get_incident(uow.session, incident_id)
    assert incident is not None  # noqa: S101 - inserted just above
    await uow.commit()
    return incident


async def clear_incident(uow: UnitOfWork, incident_id: str, *, actor: str) -> dict[str, Any]:
    """The road is clear again; announced so the incident's grid case can close."""
    # The row lock makes two simultaneous clears one success and one conflict.
    incident = await repo.get_incident(uow.session, incident_id, for_update=True)
    if incident is None:
        raise not_found("incident", incident_id)
    try:
        status = clear(IncidentStatus(incident["status"]))
    except IncidentAlreadyCleared as exc:
        raise conflict(f"incident {incident_id!r} is already cleared") from exc
    cleared_at = datetime.now(UTC)
    await repo.mark_cleared(
        uow.session, incident_id, status=status.value, at=cleared_at, by=actor[:128]
    )
    uow.emit(
        INCIDENT_CLEARED, s.TrafficIncidentCleared(incident_id=incident_id, cleared_at=cleared_at)
    )
    cleared = await repo.get_incident(uow.session, incident_id)
    assert cleared is not None  # noqa: S101 - locked above
    await uow.commit()
    return cleared


async def get_incident(uow: UnitOfWork, incident_id: str) -> dict[str, Any]:
    incident = await repo.get_incident(uow.session, incident_id)
    if incident is None:
        raise not_found("incident", incident_id)
    return incident


async def on_grid_case(delivery: Delivery, uow: UnitOfWork) -> None:
    """Follow the grid case of one of our incidents, so the loop shows as closed here."""
    payload = delivery.payload
    assert isinstance(payload, s.GridCaseChanged)  # noqa: S101 - registry guarantees it
    incident_id = incident_of_case(payload.source)
    if incident_id is None:
        return
    incident = await repo.get_incident(uow.session, incident_id, for_update=True)
    if incident is None:
        return  # a case about an incident another deployment reported
    recorded = incident["grid_case"]
    if not is_newer_case_state(recorded["updated_at"] if recorded else None, payload.at):
        return
    await repo.record_case(
        uow.session,
        incident_id,
        case_id=payload.case_id,
        status=payload.status.value,
        at=payload.at,
    )
