"""Use cases of health-record: each takes a unit of work and commits or not at all.

Every use case behind the API records its access in the audit inside its own
transaction, so an access and its record are committed together or not at all.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.geo import GeoPoint
from city_common.messaging.consumer import Delivery
from city_common.web.problems import conflict, not_found
from health_record.adapters import repository as repo
from health_record.domain.model import (
    READINESS_RADIUS_M,
    AccessAction,
    Accessor,
    FacilityLevel,
    receiving_facility,
    stands_down,
)

log = logging.getLogger(__name__)

Listing = tuple[list[dict[str, Any]], int]


async def _audited(
    uow: UnitOfWork,
    accessor: Accessor,
    action: AccessAction,
    resource: str,
    resource_id: str | None = None,
) -> None:
    await repo.record_access(
        uow.session, accessor, action=action.value, resource=resource, resource_id=resource_id
    )
    await uow.commit()


async def register_facility(
    uow: UnitOfWork,
    accessor: Accessor,
    *,
    facility_id: str,
    name: str,
    level: FacilityLevel,
    emergency_beds: int,
    location: GeoPoint,
) -> dict[str, Any]:
    """Add a hospital, clinic or health kiosk."""
    added = await repo.add_facility(
        uow.session,
        facility_id=facility_id,
        name=name,
        level=level.value,
        emergency_beds=emergency_beds,
        location=location,
    )
    if not added:
        raise conflict(f"health facility {facility_id!r} already exists")
    facility = await repo.get_facility(uow.session, facility_id)
    assert facility is not None  # noqa: S101 - inserted just above
    await _audited(uow, accessor, AccessAction.CREATE, "facility", facility_id)
    return facility


async def get_facility(uow: UnitOfWork, accessor: Accessor, facility_id: str) -> dict[str, Any]:
    facility = await repo.get_facility(uow.session, facility_id)
    if facility is None:
        raise not_found("health facility", facility_id)
    await _audited(uow, accessor, AccessAction.READ, "facility", facility_id)
    return facility


async def list_facilities(
    uow: UnitOfWork, accessor: Accessor, *, level: FacilityLevel | None, limit: int, offset: int
) -> Listing:
    listing = await repo.list_facilities(
        uow.session, level=level.value if level else None, limit=limit, offset=offset
    )
    await _audited(uow, accessor, AccessAction.LIST, "facility")
    return listing


async def nearest_facilities(
    uow: UnitOfWork, accessor: Accessor, point: GeoPoint, *, limit: int, offset: int
) -> Listing:
    listing = await repo.nearest_facilities(uow.session, point, limit=limit, offset=offset)
    await _audited(uow, accessor, AccessAction.SEARCH, "facility")
    return listing


async def list_readiness_notices(
    uow: UnitOfWork,
    accessor: Accessor,
    *,
    status: str | None,
    facility_id: str | None,
    limit: int,
    offset: int,
) -> Listing:
    listing = await repo.list_readiness_notices(
        uow.session, status=status, facility_id=facility_id, limit=limit, offset=offset
    )
    await _audited(uow, accessor, AccessAction.LIST, "readiness_notice")
    return listing


async def list_access(
    uow: UnitOfWork, accessor: Accessor, *, subject: str | None, limit: int, offset: int
) -> Listing:
    """The access audit, newest first; reading it is itself recorded."""
    listing = await repo.list_access(uow.session, subject=subject, limit=limit, offset=offset)
    await _audited(uow, accessor, AccessAction.LIST, "access_audit")
    return listing


async def on_fire_alarm(delivery: Delivery, uow: UnitOfWork) -> None:
    """Ready the nearest able facility for a fire's casualties; stand it down afterwards."""
    payload = delivery.payload
    if isinstance(payload, s.FireAlarmRaised):
        candidates = await repo.facilities_within(uow.session, payload.location, READINESS_RADIUS_M)
        chosen = receiving_facility(candidates)
        if chosen is None:
            log.info(
                "no facility with emergency beds within reach of the fire",
                extra={"alarm_id": payload.alarm_id},
            )
            return
        await repo.add_readiness_notice(
            uow.session,
            id=f"rn-{uuid.uuid4().hex[:16]}",
            alarm_id=payload.alarm_id,
            facility_id=chosen.facility_id,
            distance_m=chosen.distance_m,
            danger_level=payload.danger_level,
            alarm_location=payload.location,
            raised_at=payload.raised_at,
            status="open",
        )
    elif isinstance(payload, s.FireAlarmStatusChanged) and stands_down(payload.status):
        await repo.close_readiness_notices(
            uow.session, payload.alarm_id, closed_at=payload.at, because=payload.status.value
        )
