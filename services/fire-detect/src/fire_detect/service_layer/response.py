"""Use cases of the response to a fire: the forest's resources from GeoJSON, what is near
an alarm and the plan drawn from it, the evidence frame, KPIs and the CAP export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.geo import GeoPoint
from city_common.web.problems import Problem, not_found, validation_failed
from fire_detect.adapters import repository as repo
from fire_detect.adapters import resources as res
from fire_detect.domain.cap import cap_alert
from fire_detect.domain.resource_import import (
    NotAFeatureCollection,
    Rejection,
    read_feature_collection,
)
from fire_detect.domain.response import (
    KPI_STATUSES,
    aggregate_kpis,
    alarm_kpis,
    decided_shares,
    first_reached,
    response_plan,
    surroundings,
)

# --- import ------------------------------------------------------------------


async def import_resources(uow: UnitOfWork, document: object) -> dict[str, Any]:
    """Take the features of a FeatureCollection that can be stored, by id (a second
    import of the same id updates it), and say why each of the others was not."""
    try:
        features, rejected = read_feature_collection(document)
    except NotAFeatureCollection as exc:
        raise validation_failed(exc.field, exc.reason) from exc
    invalid = await res.invalid_shapes(uow.session, features)
    rejected += [
        Rejection(f.index, f.id, f"features[{f.index}].geometry", f"invalid geometry: {why}")
        for f in features
        if (why := invalid.get(f.index)) is not None
    ]
    taken = [f for f in features if f.index not in invalid]
    created = await res.upsert_features(uow.session, taken)
    await uow.commit()
    return {
        "imported": len(taken),
        "created": created,
        "updated": len(taken) - created,
        "rejected": [
            {"index": r.index, "id": r.id, "field": r.field, "reason": r.reason}
            for r in sorted(rejected, key=lambda r: r.index)
        ],
    }


# --- around an alarm ---------------------------------------------------------


async def prepare_response(
    uow: UnitOfWork, alarm_id: str, *, location: GeoPoint, danger_level: int
) -> None:
    """Store with the alarm what is near it and the response plan; part of the caller's
    transaction (raising or relocating the alarm), so never committed here."""
    nearby = await res.nearby_resources(uow.session, location)
    plan = response_plan(danger_level, nearby)
    await res.set_response(
        uow.session, alarm_id, resources=surroundings(nearby), plan=plan.as_json()
    )


async def relocated(uow: UnitOfWork, alarm_id: str) -> None:
    """The alarm moved (a second camera crossed its bearing): draw its plan again."""
    found = await res.alarm_location(uow.session, alarm_id)
    if found is not None:
        location, level = found
        await prepare_response(uow, alarm_id, location=location, danger_level=level)


async def keep_frame(
    uow: UnitOfWork, alarm_id: str, *, content_type: str, image: bytes, captured_at: datetime
) -> None:
    if image and content_type in ("image/jpeg", "image/png"):
        await res.add_frame(
            uow.session,
            alarm_id=alarm_id,
            content_type=content_type,
            image=image,
            captured_at=captured_at,
        )


async def with_response(uow: UnitOfWork, alarm: dict[str, Any]) -> dict[str, Any]:
    """The alarm detail completed: its KPIs and links to its evidence frame and CAP."""
    alarm_id = str(alarm["id"])
    reached = first_reached(alarm.get("timeline") or [])
    links = {"cap": f"/alarms/{alarm_id}/cap"}
    if await res.has_frame(uow.session, alarm_id):
        links["evidence"] = f"/alarms/{alarm_id}/evidence"
    first_seen = _first_detected(alarm.get("evidence"))
    kpis = alarm_kpis(alarm["raised_at"], reached, first_detected_at=first_seen)
    return {**alarm, "kpis": kpis, "links": links}


def _first_detected(evidence: object) -> datetime | None:
    """When a camera first saw the sequence that raised the alarm, if it is known."""
    if isinstance(evidence, dict) and isinstance(evidence.get("first_detected_at"), str):
        try:
            return datetime.fromisoformat(evidence["first_detected_at"])
        except ValueError:
            return None
    return None


async def evidence_frame(uow: UnitOfWork, alarm_id: str) -> tuple[str, bytes]:
    frame = await res.get_frame(uow.session, alarm_id)
    if frame is None:
        if await repo.get_alarm(uow.session, alarm_id) is None:
            raise not_found("fire alarm", alarm_id)
        raise Problem(404, "Not found", f"fire alarm {alarm_id!r} has no evidence frame")
    return frame


async def cap_export(uow: UnitOfWork, alarm_id: str, *, sender: str, sender_name: str) -> bytes:
    alarm = await repo.get_alarm(uow.session, alarm_id)
    if alarm is None:
        raise not_found("fire alarm", alarm_id)
    alarm["timeline"] = await repo.timeline(uow.session, alarm_id)
    return cap_alert(alarm, sender=sender, sender_name=sender_name)


# --- KPIs ----------------------------------------------------------------------


async def kpis(
    uow: UnitOfWork, *, raised_from: datetime | None, raised_to: datetime | None
) -> dict[str, Any]:
    """The KPIs of the alarms raised in the period, and how many were confirmed."""
    rows = await res.kpi_rows(uow.session, raised_from=raised_from, raised_to=raised_to)
    per_alarm = [
        alarm_kpis(
            r["raised_at"],
            {s: r[s] for s in KPI_STATUSES.values() if r[s] is not None},
            first_detected_at=_first_detected({"first_detected_at": r["first_detected_at"]}),
        )
        for r in rows
    ]
    verified = sum(1 for r in rows if r["verified"] is not None)
    dismissed = sum(1 for r in rows if r["dismissed"] is not None)
    return {
        "from": raised_from,
        "to": raised_to,
        "alarms": len(rows),
        "verified": verified,
        "dismissed": dismissed,
        "share": decided_shares(verified, dismissed),
        "kpis": aggregate_kpis(per_alarm),
    }
