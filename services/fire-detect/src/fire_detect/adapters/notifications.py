"""SQL for notification subscriptions and deliveries; returns plain dicts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, any_, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPolygon
from fire_detect.adapters.orm import (
    fire_alarms,
    notification_deliveries,
    notification_subscriptions,
)
from fire_detect.domain.notify import OPEN_STATUSES, DeliveryStatus

_SUBSCRIPTION_COLUMNS = (
    notification_subscriptions.c.id,
    notification_subscriptions.c.person,
    notification_subscriptions.c.role,
    notification_subscriptions.c.channel,
    notification_subscriptions.c.target,
    notification_subscriptions.c.active,
    notification_subscriptions.c.min_danger_level,
    notification_subscriptions.c.alarm_statuses,
    notification_subscriptions.c.created_at,
    notification_subscriptions.c.updated_at,
    func.ST_AsGeoJSON(notification_subscriptions.c.area).label("area"),
)

_DELIVERY_COLUMNS = tuple(notification_deliveries.c)

_OPEN = [s.value for s in sorted(OPEN_STATUSES)]


def _subscription(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["area"] = json.loads(data["area"])
    return data


# --- subscriptions -----------------------------------------------------------------


async def area_problem(session: AsyncSession, area: GeoPolygon) -> str | None:
    """Why PostGIS finds the polygon invalid (a ring crossing itself...), or None."""
    geometry = func.ST_GeomFromEWKT(area.to_wkt())
    valid, reason = (
        await session.execute(select(func.ST_IsValid(geometry), func.ST_IsValidReason(geometry)))
    ).one()
    return None if valid else str(reason)


async def add_subscription(session: AsyncSession, *, area: GeoPolygon, **values: Any) -> bool:
    """Insert the subscription; False when the id is already taken."""
    stmt = (
        pg_insert(notification_subscriptions)
        .values(area=func.ST_GeomFromEWKT(area.to_wkt()), **values)
        .on_conflict_do_nothing(index_elements=[notification_subscriptions.c.id])
        .returning(notification_subscriptions.c.id)
    )
    return (await session.scalar(stmt)) is not None


async def get_subscription(
    session: AsyncSession, subscription_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    stmt = select(*_SUBSCRIPTION_COLUMNS).where(notification_subscriptions.c.id == subscription_id)
    if for_update:
        stmt = stmt.with_for_update(of=notification_subscriptions)
    row = (await session.execute(stmt)).first()
    return _subscription(row) if row is not None else None


async def update_subscription(
    session: AsyncSession, subscription_id: str, *, area: GeoPolygon | None, **values: Any
) -> None:
    if area is not None:
        values["area"] = func.ST_GeomFromEWKT(area.to_wkt())
    await session.execute(
        update(notification_subscriptions)
        .where(notification_subscriptions.c.id == subscription_id)
        .values(**values)
    )


async def delete_subscription(session: AsyncSession, subscription_id: str) -> bool:
    deleted = await session.execute(
        delete(notification_subscriptions)
        .where(notification_subscriptions.c.id == subscription_id)
        .returning(notification_subscriptions.c.id)
    )
    return deleted.first() is not None


async def list_subscriptions(
    session: AsyncSession,
    *,
    role: str | None,
    channel: str | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if role is not None:
        conditions.append(notification_subscriptions.c.role == role)
    if channel is not None:
        conditions.append(notification_subscriptions.c.channel == channel)
    if active is not None:
        conditions.append(notification_subscriptions.c.active == active)
    where = and_(literal(True), *conditions)
    total = await session.scalar(
        select(func.count()).select_from(notification_subscriptions).where(where)
    )
    rows = await session.execute(
        select(*_SUBSCRIPTION_COLUMNS)
        .where(where)
        .order_by(notification_subscriptions.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_subscription(r) for r in rows], int(total or 0)


# --- matching ------------------------------------------------------------------------


async def alarm_for_notice(session: AsyncSession, alarm_id: str) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(
                fire_alarms.c.id,
                fire_alarms.c.kind,
                fire_alarms.c.uncertainty_m,
                fire_alarms.c.danger_level,
                func.ST_X(fire_alarms.c.location).label("lon"),
                func.ST_Y(fire_alarms.c.location).label("lat"),
            ).where(fire_alarms.c.id == alarm_id)
        )
    ).first()
    return dict(row._mapping) if row is not None else None


async def subscriptions_reached(
    session: AsyncSession, alarm_id: str, *, status: str
) -> list[dict[str, Any]]:
    """Active subscriptions to ``status`` whose area meets where the fire may be, and
    whose minimum danger level the alarm reaches.

    Where the fire may be: the alarm's area when it has one (a camera's bearing wedge,
    or where two bearings crossed), else the circle of its uncertainty around the
    reported point. ST_Intersects, not ST_Contains of the point: a fire that may be in
    someone's area concerns them, even when its best-guess point lies just outside.
    """
    subs, alarms = notification_subscriptions, fire_alarms
    # Geography for the circle: metres on the spheroid, whatever the latitude.
    possible = func.coalesce(
        alarms.c.area,
        func.geometry(
            func.ST_Buffer(
                func.geography(alarms.c.location), func.greatest(alarms.c.uncertainty_m, 1.0)
            )
        ),
    )
    rows = await session.execute(
        select(subs.c.id, subs.c.channel, subs.c.target)
        .select_from(subs.join(alarms, alarms.c.id == alarm_id))
        .where(
            subs.c.active.is_(True),
            literal(status) == any_(subs.c.alarm_statuses),
            or_(
                subs.c.min_danger_level.is_(None),
                subs.c.min_danger_level <= alarms.c.danger_level,
            ),
            func.ST_Intersects(subs.c.area, possible),
        )
        .order_by(subs.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert deliveries; one per (alarm, subscription, alarm status) whatever is retried."""
    if not rows:
        return 0
    inserted = await session.execute(
        pg_insert(notification_deliveries)
        .values(list(rows))
        .on_conflict_do_nothing(constraint="uq_notification_deliveries_alarm_subscription_status")
        .returning(notification_deliveries.c.id)
    )
    return len(inserted.all())


# --- the worker's queue ---------------------------------------------------------------


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[dict[str, Any]]:
    """Take up to ``limit`` open deliveries due by ``now``: each attempt is counted and
    the delivery leased until ``lease_until`` before it is tried, so that a worker that
    dies mid-send leaves it to be tried again once the lease runs out. SKIP LOCKED lets
    several workers claim side by side without waiting for each other."""
    d = notification_deliveries
    due = (
        select(d.c.id)
        .where(d.c.status.in_(_OPEN), d.c.next_attempt_at <= now)
        .order_by(d.c.next_attempt_at, d.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await session.execute(
        update(d)
        .where(d.c.id.in_(due))
        .values(attempts=d.c.attempts + 1, next_attempt_at=lease_until, updated_at=now)
        .returning(*_DELIVERY_COLUMNS)
    )
    return sorted((dict(r._mapping) for r in rows), key=lambda r: int(r["id"]))


async def record_attempt(
    session: AsyncSession, delivery_id: int, *, attempts: int, **values: Any
) -> bool:
    """Write an attempt's outcome, unless another worker has claimed the delivery since
    (its lease ran out): the attempt count tells, and the later claim wins."""
    d = notification_deliveries
    done = await session.execute(
        update(d)
        .where(d.c.id == delivery_id, d.c.attempts == attempts, d.c.status.in_(_OPEN))
        .values(**values)
        .returning(d.c.id)
    )
    return done.first() is not None


async def give_up_open(
    session: AsyncSession, subscription_id: str, *, now: datetime, reason: str
) -> int:
    """Stop the open deliveries of a subscription (deleted, or switched off)."""
    d = notification_deliveries
    stopped = await session.execute(
        update(d)
        .where(d.c.subscription_id == subscription_id, d.c.status.in_(_OPEN))
        .values(
            status=DeliveryStatus.GAVE_UP.value,
            next_attempt_at=None,
            last_error=reason[:500],
            updated_at=now,
        )
        .returning(d.c.id)
    )
    return len(stopped.all())


# --- delivery records ---------------------------------------------------------------------


async def alarm_deliveries(session: AsyncSession, alarm_id: str) -> list[dict[str, Any]]:
    d = notification_deliveries
    rows = await session.execute(
        select(*_DELIVERY_COLUMNS).where(d.c.alarm_id == alarm_id).order_by(d.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def list_deliveries(
    session: AsyncSession,
    *,
    status: str | None,
    channel: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    d = notification_deliveries
    conditions = []
    if status is not None:
        conditions.append(d.c.status == status)
    if channel is not None:
        conditions.append(d.c.channel == channel)
    where = and_(literal(True), *conditions)
    total = await session.scalar(select(func.count()).select_from(d).where(where))
    rows = await session.execute(
        select(*_DELIVERY_COLUMNS).where(where).order_by(d.c.id.desc()).limit(limit).offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total or 0)
