from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from city_common.auth import Role, require_roles
from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging.consumer import Delivery, Subscription
from city_common.runtime import Runtime, ServiceDefinition, UowDep
from city_common.web.pagination import Page, PageDep
from city_common.web.problems import not_found

metadata = MetaData()
ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("incident_id", String(64), nullable=False),
    Column("severity", Integer, nullable=False),
)

DETECTED = spec_for_type("city.traffic.incident.detected.v1")
# Severity 5 marks a poison event in these tests: its handler always fails.
POISON_SEVERITY = 5

router = APIRouter()


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    kind: s.TrafficIncidentKind
    severity: int = Field(strict=True, ge=1, le=5)
    location: GeoPoint


class LedgerRow(BaseModel):
    event_id: str
    incident_id: str
    severity: int


@router.post("/incidents", status_code=202)
async def report(
    body: IncidentIn,
    uow: UowDep,
    _: Annotated[object, Depends(require_roles(Role.OPERATOR))],
) -> dict[str, str]:
    event = uow.emit(
        DETECTED,
        s.TrafficIncidentDetected(
            incident_id=body.incident_id,
            kind=body.kind,
            detected_at=datetime.now(UTC),
            location=body.location,
            severity=body.severity,
        ),
    )
    await uow.commit()
    return {"event_id": event.id}


@router.get("/ledger", response_model=Page[LedgerRow])
async def read_ledger(uow: UowDep, page: PageDep) -> Page[LedgerRow]:
    total = await uow.session.scalar(select(func.count()).select_from(ledger))
    rows = await uow.session.execute(
        select(ledger.c.event_id, ledger.c.incident_id, ledger.c.severity)
        .order_by(ledger.c.id)
        .limit(page.limit)
        .offset(page.offset)
    )
    return Page.of(LedgerRow, (r._mapping for r in rows), total=int(total or 0), page=page)


@router.get("/ledger/{incident_id}", response_model=LedgerRow)
async def ledger_entry(incident_id: str, uow: UowDep) -> LedgerRow:
    row = (
        await uow.session.execute(
            select(ledger.c.event_id, ledger.c.incident_id, ledger.c.severity).where(
                ledger.c.incident_id == incident_id
            )
        )
    ).first()
    if row is None:
        raise not_found("incident", incident_id)
    return LedgerRow.model_validate(dict(row._mapping))


async def record(delivery: Delivery, uow: UnitOfWork) -> None:
    payload = delivery.payload
    assert isinstance(payload, s.TrafficIncidentDetected)
    if payload.severity == POISON_SEVERITY:
        raise ValueError(f"poison incident {payload.incident_id}")
    await uow.session.execute(
        insert(ledger).values(
            event_id=delivery.event.id, incident_id=payload.incident_id, severity=payload.severity
        )
    )


async def record_batch(deliveries: Sequence[Delivery], uow: UnitOfWork) -> None:
    for d in deliveries:
        await record(d, uow)


def subscriptions_for(*, batch: bool) -> Callable[[Runtime], Sequence[Subscription]]:
    def subscriptions(_: Runtime) -> Sequence[Subscription]:
        return (
            Subscription(
                "traffic.incidents",
                record,
                batch_handler=record_batch if batch else None,
                event_types=frozenset({DETECTED.type}),
            ),
        )

    return subscriptions


DEFINITION = ServiceDefinition(
    name="sample-svc",
    package="sample_svc",
    title="Sample service",
    description="Exercises the platform foundation.",
    routers=(router,),
    subscriptions=subscriptions_for(batch=False),
    produces=("traffic.incidents",),
)
