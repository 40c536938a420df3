"""REST API of fire-detect's notifications: subscriptions and delivery records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from city_common.auth import Principal, Role, require_roles
from city_common.events.schemas import FireAlarmStatus
from city_common.geo import GeoPolygon
from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep
from fire_detect.adapters import notifications as repo
from fire_detect.domain.notify import (
    DEFAULT_ALARM_STATUSES,
    Channel,
    DeliveryStatus,
    SubscriberRole,
    mask_target,
)
from fire_detect.service_layer import notifications

router = APIRouter(prefix="")

# Subscriptions hold people's phone numbers: the command centre manages them.
Manager = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.ADMIN))]
Reader = Annotated[
    Principal, Depends(require_roles(Role.RANGER, Role.DISPATCHER, Role.OPERATOR, Role.SERVICE))
]

Identifier = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]
Person = Annotated[str, Field(strict=True, min_length=1, max_length=128)]
Target = Annotated[
    str,
    Field(
        strict=True,
        min_length=1,
        max_length=2000,
        description="For sms: a mainland mobile number; for webhook: an http(s) URL",
    ),
]
DangerLevel = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=5,
        description="Only alarms at this fire-danger level or above reach the subscriber",
    ),
]
AlarmStatuses = Annotated[
    list[FireAlarmStatus],
    Field(
        min_length=1,
        max_length=len(FireAlarmStatus),
        description="The alarm steps to hear about (default: raised only)",
    ),
]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Identifier | None = Field(default=None, description="Chosen by the server if left out")
    person: Person
    role: SubscriberRole
    area: GeoPolygon = Field(description="The area the person answers for (WGS 84)")
    channel: Channel
    target: Target
    active: bool = Field(default=True, strict=True)
    min_danger_level: DangerLevel | None = None
    alarm_statuses: AlarmStatuses = Field(default_factory=lambda: list(DEFAULT_ALARM_STATUSES))


class SubscriptionUpdate(BaseModel):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    person: Person | None = None
    role: SubscriberRole | None = None
    area: GeoPolygon | None = None
    channel: Channel | None = None
    target: Target | None = None
    active: bool | None = Field(default=None, strict=True)
    min_danger_level: DangerLevel | None = None
    alarm_statuses: AlarmStatuses | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> SubscriptionUpdate:
        # Only min_danger_level may be cleared (null: every level); the rest must have values.
        for name in self.model_fields_set - {"min_danger_level"}:
            if getattr(self, name) is None:
                raise ValueError(f"'{name}' cannot be null; leave it out to keep it")
        return self


class SubscriptionRead(BaseModel):
    id: str
    person: str
    role: SubscriberRole
    area: GeoPolygon
    channel: Channel
    target: str = Field(description="Masked: a phone's middle digits, a URL's path")
    active: bool
    min_danger_level: int | None
    alarm_statuses: list[FireAlarmStatus]
    created_at: datetime
    updated_at: datetime


class DeliveryRead(BaseModel):
    id: int
    alarm_id: str
    alarm_status: FireAlarmStatus
    subscription_id: str | None = Field(description="Null once the subscription was deleted")
    channel: Channel
    target: str = Field(description="Masked, as in subscriptions")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "target": mask_target(row["channel"], row["target"])}


@router.post(
    "/subscriptions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionRead,
    tags=["notifications"],
)
async def create_subscription(
    body: SubscriptionCreate, uow: UowDep, _: Manager
) -> SubscriptionRead:
    """Subscribe a person to the fire alarms of an area, by webhook or SMS."""
    made = await notifications.create_subscription(
        uow,
        subscription_id=body.id,
        person=body.person,
        role=body.role,
        area=body.area,
        channel=body.channel,
        target=body.target,
        active=body.active,
        min_danger_level=body.min_danger_level,
        alarm_statuses=body.alarm_statuses,
    )
    return SubscriptionRead.model_validate(_masked(made))


@router.get("/subscriptions", response_model=Page[SubscriptionRead], tags=["notifications"])
async def list_subscriptions(
    uow: UowDep,
    page: PageDep,
    _: Manager,
    role: SubscriberRole | None = None,
    channel: Channel | None = None,
    active: bool | None = None,
) -> Page[SubscriptionRead]:
    items, total = await repo.list_subscriptions(
        uow.session,
        role=role.value if role else None,
        channel=channel.value if channel else None,
        active=active,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(SubscriptionRead, [_masked(i) for i in items], total=total, page=page)


@router.get(
    "/subscriptions/{subscription_id}", response_model=SubscriptionRead, tags=["notifications"]
)
async def get_subscription(subscription_id: str, uow: UowDep, _: Manager) -> SubscriptionRead:
    found = await notifications.get_subscription(uow, subscription_id)
    return SubscriptionRead.model_validate(_masked(found))


@router.patch(
    "/subscriptions/{subscription_id}", response_model=SubscriptionRead, tags=["notifications"]
)
async def update_subscription(
    subscription_id: str, body: SubscriptionUpdate, uow: UowDep, _: Manager
) -> SubscriptionRead:
    """Change some fields; switching a subscription off gives up its unsent deliveries."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    updated = await notifications.update_subscription(uow, subscription_id, changes)
    return SubscriptionRead.model_validate(_masked(updated))


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["notifications"],
)
async def delete_subscription(subscription_id: str, uow: UowDep, _: Manager) -> Response:
    """Remove a subscription; the records of what was sent to it stay."""
    await notifications.delete_subscription(uow, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/alarms/{alarm_id}/deliveries", response_model=list[DeliveryRead], tags=["notifications"]
)
async def alarm_deliveries(alarm_id: str, uow: UowDep, _: Reader) -> list[DeliveryRead]:
    """Who was told of this alarm, at which step, and whether it reached them."""
    found = await notifications.alarm_deliveries(uow, alarm_id)
    return [DeliveryRead.model_validate(_masked(d)) for d in found]


@router.get("/deliveries", response_model=Page[DeliveryRead], tags=["notifications"])
async def list_deliveries(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    channel: Channel | None = None,
) -> Page[DeliveryRead]:
    """Delivery records, newest first; ``status=gave_up`` is the list to act on."""
    items, total = await repo.list_deliveries(
        uow.session,
        status=status_.value if status_ else None,
        channel=channel.value if channel else None,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(DeliveryRead, [_masked(i) for i in items], total=total, page=page)
