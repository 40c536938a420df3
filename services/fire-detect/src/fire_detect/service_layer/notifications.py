"""Notifications of fire alarms: subscriptions, deliveries made with each alarm step,
and the worker that sends them.

``notify_alarm_step`` runs inside the unit of work that raises or moves an alarm, so
an alarm step is never committed without its deliveries (and none are made for a
step that rolls back). ``deliver_due`` is one pass of the worker: claim the due
deliveries, send them through their channels, record each attempt.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter

from city_common.db.uow import UnitOfWork
from city_common.events.schemas import FireAlarmStatus
from city_common.geo import GeoPolygon
from city_common.runtime import Runtime
from city_common.web.problems import conflict, not_found, validation_failed
from fire_detect.adapters import notifications as repo
from fire_detect.adapters.channels import (
    ChannelError,
    NotificationChannel,
    SmsGatewayChannel,
    WebhookChannel,
)
from fire_detect.config import Settings
from fire_detect.domain.notify import (
    DEFAULT_ALARM_STATUSES,
    AlarmNotice,
    Channel,
    DeliveryStatus,
    InvalidTarget,
    RetryPolicy,
    SubscriberRole,
    normalise_target,
)

log = logging.getLogger(__name__)


# --- subscriptions -------------------------------------------------------------------


async def _checked_area(uow: UnitOfWork, area: GeoPolygon) -> None:
    reason = await repo.area_problem(uow.session, area)
    if reason is not None:
        raise validation_failed("body.area", f"not a valid polygon: {reason}")


def _checked_target(channel: Channel, target: str) -> str:
    try:
        return normalise_target(channel, target)
    except InvalidTarget as exc:
        raise validation_failed("body.target", str(exc)) from exc


def _statuses(statuses: Sequence[FireAlarmStatus]) -> list[str]:
    # Lifecycle order, each once: the stored list reads the way an alarm runs.
    order = list(FireAlarmStatus)
    return [s.value for s in sorted(set(statuses), key=order.index)]


async def create_subscription(
    uow: UnitOfWork,
    *,
    subscription_id: str | None,
    person: str,
    role: SubscriberRole,
    area: GeoPolygon,
    channel: Channel,
    target: str,
    active: bool,
    min_danger_level: int | None,
    alarm_statuses: Sequence[FireAlarmStatus] | None,
) -> dict[str, Any]:
    """Subscribe a person to the alarms of an area."""
    normalised = _checked_target(channel, target)
    await _checked_area(uow, area)
    ident = subscription_id or f"sub-{uuid.uuid4().hex[:16]}"
    now = datetime.now(UTC)
    added = await repo.add_subscription(
        uow.session,
        id=ident,
        person=person,
        role=role.value,
        area=area,
        channel=channel.value,
        target=normalised,
        active=active,
        min_danger_level=min_danger_level,
        alarm_statuses=_statuses(alarm_statuses or DEFAULT_ALARM_STATUSES),
        created_at=now,
        updated_at=now,
    )
    if not added:
        raise conflict(f"subscription {ident!r} already exists")
    made = await repo.get_subscription(uow.session, ident)
    assert made is not None  # noqa: S101 - inserted just above
    await uow.commit()
    return made


async def get_subscription(uow: UnitOfWork, subscription_id: str) -> dict[str, Any]:
    found = await repo.get_subscription(uow.session, subscription_id)
    if found is None:
        raise not_found("subscription", subscription_id)
    return found


async def update_subscription(
    uow: UnitOfWork, subscription_id: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Change some fields of a subscription; the target is checked against the channel
    it will have. Switching a subscription off stops its deliveries not yet sent."""
    current = await repo.get_subscription(uow.session, subscription_id, for_update=True)
    if current is None:
        raise not_found("subscription", subscription_id)
    values: dict[str, Any] = {}
    for name in ("person", "active", "min_danger_level"):
        if name in changes:
            values[name] = changes[name]
    if "role" in changes:
        values["role"] = SubscriberRole(changes["role"]).value
    if "alarm_statuses" in changes:
        values["alarm_statuses"] = _statuses(changes["alarm_statuses"])
    channel = Channel(changes.get("channel", current["channel"]))
    if "channel" in changes or "target" in changes:
        if "channel" in changes and "target" not in changes and channel.value != current["channel"]:
            raise validation_failed("body.target", "a new channel needs a new target")
        values["channel"] = channel.value
        values["target"] = _checked_target(channel, changes.get("target", current["target"]))
    area: GeoPolygon | None = changes.get("area")
    if area is not None:
        await _checked_area(uow, area)
    now = datetime.now(UTC)
    await repo.update_subscription(
        uow.session, subscription_id, area=area, updated_at=now, **values
    )
    if values.get("active") is False:
        await repo.give_up_open(
            uow.session, subscription_id, now=now, reason="the subscription was switched off"
        )
    updated = await repo.get_subscription(uow.session, subscription_id)
    assert updated is not None  # noqa: S101 - locked above
    await uow.commit()
    return updated


async def delete_subscription(uow: UnitOfWork, subscription_id: str) -> None:
    """Remove a subscription; its delivery records stay, the unsent ones given up."""
    now = datetime.now(UTC)
    await repo.give_up_open(
        uow.session, subscription_id, now=now, reason="the subscription was deleted"
    )
    if not await repo.delete_subscription(uow.session, subscription_id):
        raise not_found("subscription", subscription_id)
    await uow.commit()


# --- deliveries made with each alarm step ------------------------------------------------


async def notify_alarm_step(
    uow: UnitOfWork, alarm_id: str, *, status: FireAlarmStatus, at: datetime
) -> int:
    """Make a delivery for every subscription the alarm's step reaches, in the caller's
    transaction (it does not commit). Returns how many were made."""
    alarm = await repo.alarm_for_notice(uow.session, alarm_id)
    if alarm is None:
        raise not_found("fire alarm", alarm_id)
    notice = AlarmNotice(
        alarm_id=alarm_id,
        status=status,
        kind=str(alarm["kind"]),
        lon=round(float(alarm["lon"]), 6),
        lat=round(float(alarm["lat"]), 6),
        uncertainty_m=round(float(alarm["uncertainty_m"]), 1),
        danger_level=int(alarm["danger_level"]),
        at=at,
    ).to_json()
    reached = await repo.subscriptions_reached(uow.session, alarm_id, status=status.value)
    made = await repo.add_deliveries(
        uow.session,
        [
            {
                "alarm_id": alarm_id,
                "subscription_id": sub["id"],
                "alarm_status": status.value,
                "channel": sub["channel"],
                "target": sub["target"],
                "message": notice,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
                "updated_at": at,
            }
            for sub in reached
        ],
    )
    if made:
        log.info(
            "alarm notifications queued",
            extra={"alarm_id": alarm_id, "status": status.value, "deliveries": made},
        )
    return made


async def alarm_deliveries(uow: UnitOfWork, alarm_id: str) -> list[dict[str, Any]]:
    if await repo.alarm_for_notice(uow.session, alarm_id) is None:
        raise not_found("fire alarm", alarm_id)
    return await repo.alarm_deliveries(uow.session, alarm_id)


# --- sending ------------------------------------------------------------------------------


class DeliveryMetrics:
    """Counters of delivery attempts by channel and outcome, in the service's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "fire_notification_attempts_total",
            "Attempts to deliver an alarm notice, by channel and outcome "
            "(sent, failed: to be retried, gave_up: the last attempt failed)",
            ["channel", "outcome"],
            registry=registry,
        )

    def count(self, channel: str, outcome: DeliveryStatus) -> None:
        self.attempts.labels(channel=channel, outcome=outcome.value).inc()


def delivery_metrics(runtime: Runtime) -> DeliveryMetrics:
    """The runtime's delivery counters, registered once however often asked for."""
    metrics = runtime.state.get("delivery_metrics")
    if not isinstance(metrics, DeliveryMetrics):
        metrics = DeliveryMetrics(runtime.metrics.registry)
        runtime.state["delivery_metrics"] = metrics
    return metrics


@dataclass(frozen=True, slots=True)
class Attempt:
    """What became of one claimed delivery."""

    delivery_id: int
    channel: str
    attempts: int
    status: DeliveryStatus
    error: str | None


async def _attempt(
    delivery: Mapping[str, Any], channels: Mapping[str, NotificationChannel]
) -> str | None:
    """Send one delivery; the error text when it was not accepted."""
    channel = channels.get(str(delivery["channel"]))
    if channel is None:
        return f"no channel adapter for {delivery['channel']!r}"
    try:
        await channel.send(
            str(delivery["target"]),
            AlarmNotice.from_json(delivery["message"]),
            delivery_id=int(delivery["id"]),
        )
    except ChannelError as exc:
        return str(exc) or type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - one broken delivery must not stop the others
        log.exception("channel raised unexpectedly", extra={"delivery_id": delivery["id"]})
        return f"{type(exc).__name__}: {exc}"
    return None


async def deliver_due(
    new_uow: Callable[[], UnitOfWork],
    channels: Mapping[str, NotificationChannel],
    *,
    now: datetime,
    policy: RetryPolicy,
    lease: timedelta = timedelta(seconds=60),
    batch_size: int = 100,
    metrics: DeliveryMetrics | None = None,
) -> list[Attempt]:
    """One pass of the worker at ``now``: claim the deliveries due, send them all at
    once, record every attempt (sent, failed with its next time, or given up)."""
    async with new_uow() as uow:
        claimed = await repo.claim_due(
            uow.session, now=now, lease_until=now + lease, limit=batch_size
        )
        await uow.commit()
    if not claimed:
        return []
    started = time.monotonic()
    errors = await asyncio.gather(*(_attempt(d, channels) for d in claimed))
    # Attempt times on the caller's clock: a test that drives ``now`` sees its own time.
    finished = now + timedelta(seconds=time.monotonic() - started)
    outcomes: list[Attempt] = []
    async with new_uow() as uow:
        for delivery, error in zip(claimed, errors, strict=True):
            attempts = int(delivery["attempts"])
            if error is None:
                status, next_at = DeliveryStatus.SENT, None
            else:
                status, next_at = policy.after_failure(attempts, finished, str(delivery["id"]))
            recorded = await repo.record_attempt(
                uow.session,
                int(delivery["id"]),
                attempts=attempts,
                status=status.value,
                next_attempt_at=next_at,
                last_error=error[:500] if error is not None else None,
                sent_at=finished if error is None else None,
                updated_at=finished,
            )
            if not recorded:
                # Another worker claimed it after our lease ran out; its attempt counts.
                continue
            outcomes.append(
                Attempt(int(delivery["id"]), str(delivery["channel"]), attempts, status, error)
            )
        await uow.commit()
    for outcome in outcomes:
        if metrics is not None:
            metrics.count(outcome.channel, outcome.status)
        if outcome.status is not DeliveryStatus.SENT:
            log.warning(
                "alarm notice not delivered",
                extra={
                    "delivery_id": outcome.delivery_id,
                    "attempts": outcome.attempts,
                    "status": outcome.status.value,
                    "error": outcome.error,
                },
            )
    return outcomes


def build_channels(client: httpx.AsyncClient, settings: Settings) -> dict[str, NotificationChannel]:
    return {
        Channel.WEBHOOK.value: WebhookChannel(client, link_base=settings.fire_alarm_link_base),
        Channel.SMS.value: SmsGatewayChannel(
            client,
            gateway_url=settings.fire_sms_gateway_url,
            token=settings.fire_sms_gateway_token,
        ),
    }


def retry_policy(settings: Settings) -> RetryPolicy:
    base = timedelta(seconds=settings.fire_notify_backoff_base_s)
    return RetryPolicy(
        max_attempts=settings.fire_notify_max_attempts,
        base_delay=base,
        max_delay=max(base, timedelta(seconds=settings.fire_notify_backoff_max_s)),
    )


async def run_delivery_worker(runtime: Runtime) -> None:
    """Background task: deliver what is due, then wait a poll interval when the queue
    ran dry. Errors (the database away) are logged and the loop goes on; everything it
    needs is in the database, so a restart carries on where this one stopped."""
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError("fire-detect runs with fire_detect.config.Settings")
    if not settings.fire_notify_enabled:
        return
    metrics = delivery_metrics(runtime)
    policy = retry_policy(settings)
    # The lease must outlast the slowest send, or a second worker would send it again.
    lease = timedelta(seconds=max(settings.fire_notify_lease_s, 2 * settings.fire_notify_timeout_s))
    timeout = httpx.Timeout(settings.fire_notify_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        channels = build_channels(client, settings)
        while not runtime.stopping.is_set():
            try:
                done = await deliver_due(
                    runtime.uow,
                    channels,
                    now=datetime.now(UTC),
                    policy=policy,
                    lease=lease,
                    batch_size=settings.fire_notify_batch_size,
                    metrics=metrics,
                )
            except Exception:  # noqa: BLE001 - the worker outlives a bad pass
                log.exception("notification delivery pass failed")
                done = []
            if len(done) < settings.fire_notify_batch_size:
                await runtime.pause(settings.fire_notify_poll_interval_s)
