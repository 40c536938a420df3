"""Alarm notifications against the real PostgreSQL/PostGIS and Kafka, with real HTTP
receivers: an alarm reaches exactly the subscribers whose area it falls in, each
delivery is recorded, retried with backoff, and given up after the last attempt."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import cycle
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from city_common.events.schemas import FireAlarmStatus
from city_common.runtime import Runtime
from city_common.testing import (
    assert_problem,
    bearer,
    execute_sql,
    metric_value,
    migrated_database,
    running_app,
    served,
    settings_for_test,
    unique,
    wait_until,
)
from fire_detect.adapters import notifications as notify_repo
from fire_detect.bootstrap import create_app
from fire_detect.config import Settings
from fire_detect.domain.notify import RetryPolicy, SubscriberRole
from fire_detect.service_layer import notifications

pytestmark = pytest.mark.integration

# Where the fire is reported in the main test; the CRUD test keeps well away from it.
FIRE = (105.93, 29.35)
MAX_ATTEMPTS = 4


@dataclass
class Receiver:
    """Webhook receivers and an SMS gateway on one real HTTP server. ``plan`` says how
    many requests a hook refuses before it accepts one; None: it never accepts."""

    plan: dict[str, int | None] = field(default_factory=dict)
    hooks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sms: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> Response:
            body = await request.json()
            body["idempotency_key"] = request.headers.get("idempotency-key")
            calls = self.hooks.setdefault(name, [])
            calls.append(body)
            refusals = self.plan.get(name, 0)
            if refusals is None:
                return Response("broken", status_code=500)
            if len(calls) <= refusals:
                return Response("try later", status_code=503)
            return Response(status_code=204)

        @app.post("/sms")
        async def sms(request: Request) -> dict[str, str]:
            self.sms.append(await request.json())
            return {"status": "queued"}

        return app


@dataclass
class Service:
    client: httpx.AsyncClient
    settings: Settings
    receiver: Receiver
    runtime: Runtime

    def auth(self, *roles: str, subject: str = "tester") -> dict[str, str]:
        return bearer(self.settings, *roles, subject=subject)


async def _service(receiver: Receiver, **overrides: object) -> AsyncIterator[Service]:
    url = await migrated_database("fire_detect", f"test_fire_notify_{uuid.uuid4().hex[:8]}")
    async with served(receiver.app()) as base:
        receiver.url = base
        settings = settings_for_test(
            Settings,
            url,
            topic_prefix=unique("fdn") + ".",
            fire_sms_gateway_url=f"{base}/sms",
            fire_notify_poll_interval_s=0.05,
            fire_notify_backoff_base_s=0.1,
            fire_notify_backoff_max_s=0.4,
            fire_notify_max_attempts=MAX_ATTEMPTS,
            **overrides,
        )
        app = create_app(settings)
        async with running_app(app) as client:
            yield Service(client, settings, receiver, app.state.runtime)


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[Service]:
    receiver = Receiver(plan={"flaky": 2, "broken": None})
    async for running in _service(receiver):
        yield running


def square(lon: float, lat: float, half: float) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


async def subscribe(service: Service, **body: Any) -> dict[str, Any]:
    made = await service.client.post("/subscriptions", json=body, headers=service.auth("operator"))
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def attempts_metric(text: str, channel: str, outcome: str) -> float:
    return metric_value(text, "fire_notification_attempts_total", channel=channel, outcome=outcome)


async def test_an_alarm_reaches_exactly_the_subscribers_of_its_area(service: Service) -> None:
    hooks = service.receiver
    lon, lat = FIRE
    roles = cycle(r.value for r in SubscriberRole)
    inside: dict[str, str] = {}  # subscription id -> hook name ("sms" for the SMS ones)

    # 20 webhook subscribers whose areas contain the fire, of different sizes; the
    # first two also want to hear when the alarm is verified.
    for n in range(20):
        name = f"in-{n}"
        sub = await subscribe(
            service,
            person=f"Responder {n}",
            role=next(roles),
            area=square(lon + 0.001 * (n % 5), lat - 0.001 * (n % 3), 0.01 + 0.002 * n),
            channel="webhook",
            target=f"{hooks.url}/hooks/{name}",
            alarm_statuses=["raised", "verified"] if n < 2 else ["raised"],
        )
        inside[sub["id"]] = name
    for name in ("flaky", "broken"):
        sub = await subscribe(
            service,
            person=name,
            role="fire_brigade",
            area=square(lon, lat, 0.05),
            channel="webhook",
            target=f"{hooks.url}/hooks/{name}",
        )
        inside[sub["id"]] = name
    # The area ends 55 m north of the reported point, within its 100 m uncertainty.
    edge = await subscribe(
        service,
        person="Edge",
        role="village_head",
        area=box(lon - 0.01, lat + 0.0005, lon + 0.01, lat + 0.01),
        channel="webhook",
        target=f"{hooks.url}/hooks/edge",
        min_danger_level=4,
    )
    inside[edge["id"]] = "edge"
    for n, phone in enumerate(("13800000001", "+86 139 0000 0002")):
        sub = await subscribe(
            service,
            person=f"林业站长{n}",
            role="forestry_chief",
            area=square(lon, lat, 0.03),
            channel="sms",
            target=phone,
        )
        inside[sub["id"]] = "sms"
        assert sub["target"] in ("138****0001", "139****0002")

    outside: list[dict[str, Any]] = []
    for n in range(3):  # 10 km and more away
        outside.append(
            await subscribe(
                service,
                person=f"Far {n}",
                role="ranger",
                area=square(lon + 0.1 * (n + 1), lat, 0.02),
                channel="webhook",
                target=f"{hooks.url}/hooks/far-{n}",
            )
        )
    near_miss = box(lon - 0.01, lat + 0.003, lon + 0.01, lat + 0.01)  # 330 m north
    quiet = dict(person="x", role="ranger", channel="webhook")
    outside += [
        await subscribe(service, **quiet, area=near_miss, target=f"{hooks.url}/hooks/near-miss"),
        await subscribe(
            service,
            **quiet,
            area=square(lon, lat, 0.05),
            target=f"{hooks.url}/hooks/off",
            active=False,
        ),
        await subscribe(
            service,
            **quiet,
            area=square(lon, lat, 0.05),
            target=f"{hooks.url}/hooks/extreme-only",
            min_danger_level=5,
        ),
    ]
    verified_only = await subscribe(
        service,
        **quiet,
        area=square(lon, lat, 0.05),
        target=f"{hooks.url}/hooks/verified-only",
        alarm_statuses=["verified"],
    )
    assert len(inside) == 25

    reported = await service.client.post(
        "/alarms",
        json={"location": {"type": "Point", "coordinates": [lon, lat]}, "danger_level": 4},
        headers=service.auth("ranger", subject="ranger-li"),
    )
    assert reported.status_code == 201, reported.text
    alarm_id = reported.json()["id"]
    reader = service.auth("dispatcher")

    async def deliveries() -> list[dict[str, Any]]:
        got = await service.client.get(f"/alarms/{alarm_id}/deliveries", headers=reader)
        assert got.status_code == 200, got.text
        found: list[dict[str, Any]] = got.json()
        return found

    # Written with the alarm, before any was sent: one per subscriber inside.
    made = await deliveries()
    assert {d["subscription_id"] for d in made} == set(inside)
    assert len(made) == len(inside)

    async def settled() -> bool:
        return all(d["status"] in ("sent", "gave_up") for d in await deliveries())

    await wait_until(settled, timeout_s=20)
    final = {d["subscription_id"]: d for d in await deliveries()}
    by_hook = {name: final[sub_id] for sub_id, name in inside.items() if name != "sms"}
    for name, record in by_hook.items():
        if name in ("flaky", "broken"):
            continue
        assert (record["status"], record["attempts"]) == ("sent", 1), record
        assert len(hooks.hooks[name]) == 1
        assert record["sent_at"] is not None and record["last_error"] is None
    flaky = by_hook["flaky"]
    assert (flaky["status"], flaky["attempts"]) == ("sent", 3), flaky
    assert len(hooks.hooks["flaky"]) == 3
    # The retries carry the same key, so the receiver can tell a resend.
    assert len({call["idempotency_key"] for call in hooks.hooks["flaky"]}) == 1
    broken = by_hook["broken"]
    assert (broken["status"], broken["attempts"]) == ("gave_up", MAX_ATTEMPTS), broken
    assert broken["last_error"].startswith("HTTP 500") and broken["next_attempt_at"] is None
    assert len(hooks.hooks["broken"]) == MAX_ATTEMPTS
    assert all(sub["target"].endswith("/***") for sub in [*outside, verified_only])

    notice = hooks.hooks["in-0"][0]
    assert notice["alarm_id"] == alarm_id and notice["status"] == "raised"
    assert notice["location"] == {"type": "Point", "coordinates": [lon, lat]}
    assert notice["danger_level"] == 4 and notice["link"].endswith(alarm_id)
    assert sorted(m["to"] for m in hooks.sms) == ["13800000001", "13900000002"]
    assert all(alarm_id in m["text"] and len(m["text"]) <= 70 for m in hooks.sms)
    assert set(hooks.hooks) == {n for n in inside.values() if n != "sms"}

    # Verification reaches those who asked for it, and only them.
    moved = await service.client.post(
        f"/alarms/{alarm_id}/transitions", json={"status": "verified"}, headers=reader
    )
    assert moved.status_code == 201, moved.text
    verified = [d for d in await deliveries() if d["alarm_status"] == "verified"]
    first_two = {sid for sid, name in inside.items() if name in ("in-0", "in-1")}
    assert {d["subscription_id"] for d in verified} == first_two | {verified_only["id"]}
    await wait_until(settled, timeout_s=10)
    assert [c["status"] for c in hooks.hooks["in-0"]] == ["raised", "verified"]

    given_up = await service.client.get("/deliveries?status=gave_up", headers=reader)
    assert given_up.status_code == 200
    assert [d["id"] for d in given_up.json()["items"]] == [broken["id"]]
    paged = (await service.client.get("/deliveries?limit=5&offset=0", headers=reader)).json()
    assert paged["total"] == len(inside) + 3 and len(paged["items"]) == 5
    sms_only = (await service.client.get("/deliveries?channel=sms", headers=reader)).json()
    assert sms_only["total"] == 2 and all(d["target"].count("*") == 4 for d in sms_only["items"])

    metrics = (await service.client.get("/metrics")).text
    # Sent by webhook: 22 raised (all but the broken one and the 2 SMS), 3 verified.
    assert attempts_metric(metrics, "webhook", "sent") == 22 + 3
    assert attempts_metric(metrics, "webhook", "failed") == 2 + MAX_ATTEMPTS - 1
    assert attempts_metric(metrics, "webhook", "gave_up") == 1
    assert attempts_metric(metrics, "sms", "sent") == 2


async def test_subscriptions_are_validated_filtered_paged_changed_and_removed(
    service: Service,
) -> None:
    op = service.auth("operator")
    area = square(104.0, 31.0, 0.01)
    base = {"person": "张三", "role": "village_head", "area": area}
    phone = {**base, "channel": "sms", "target": "13712345678"}
    for bad, where in (
        ({**phone, "target": "12345"}, "body.target"),
        ({**base, "channel": "webhook", "target": "13712345678"}, "body.target"),
        ({**base, "channel": "webhook", "target": "https://u:p@example.cn/h"}, "body.target"),
        ({**phone, "channel": "pager"}, "body.channel"),
        ({**phone, "role": "emperor"}, "body.role"),
        ({**phone, "min_danger_level": 6}, "body.min_danger_level"),
        ({**phone, "alarm_statuses": []}, "body.alarm_statuses"),
        ({**phone, "alarm_statuses": ["burning"]}, "body.alarm_statuses.0"),
        ({**phone, "area": box(104.0, 31.0, 104.1, 31.1) | {"type": "Point"}}, "body.area.type"),
        ({**phone, "active": "yes"}, "body.active"),
        ({**phone, "unknown": 1}, "body.unknown"),
    ):
        refused = await service.client.post("/subscriptions", json=bad, headers=op)
        assert_problem(refused, 422, where)
    # A ring that crosses itself is a bow tie, not an area: PostGIS says why.
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[104, 31], [104.1, 31.1], [104.1, 31], [104, 31.1], [104, 31]]],
    }
    crossed = await service.client.post(
        "/subscriptions", json={**phone, "area": bow_tie}, headers=op
    )
    assert "Self-intersection" in str(assert_problem(crossed, 422, "body.area"))
    unclosed = {"type": "Polygon", "coordinates": [[[104, 31], [104.1, 31], [104.1, 31.1]]]}
    assert_problem(
        await service.client.post("/subscriptions", json={**phone, "area": unclosed}, headers=op),
        422,
    )
    forbidden = await service.client.post(
        "/subscriptions", json=phone, headers=service.auth("ranger")
    )
    assert_problem(forbidden, 403)

    made = await subscribe(service, id="crud-sms", **{**phone, "target": "+86 137-1234-5678"})
    assert made["target"] == "137****5678" and made["alarm_statuses"] == ["raised"]
    assert made["active"] is True and made["area"] == area
    again = await service.client.post(
        "/subscriptions", json={**phone, "id": "crud-sms"}, headers=op
    )
    assert_problem(again, 409)
    hook = await subscribe(
        service,
        id="crud-hook",
        **{**base, "role": "fire_brigade"},
        channel="webhook",
        target="https://brigade.example.cn/alarm/SECRET",
        alarm_statuses=["dispatched", "raised", "raised"],
    )
    assert hook["alarm_statuses"] == ["raised", "dispatched"]
    assert hook["target"] == "https://brigade.example.cn/***"

    by_role = await service.client.get("/subscriptions?role=fire_brigade", headers=op)
    assert "crud-hook" in [s["id"] for s in by_role.json()["items"]]
    assert all(s["role"] == "fire_brigade" for s in by_role.json()["items"])
    by_channel = (await service.client.get("/subscriptions?channel=sms", headers=op)).json()
    assert all(s["channel"] == "sms" for s in by_channel["items"])
    assert "crud-sms" in [s["id"] for s in by_channel["items"]]
    total = (await service.client.get("/subscriptions?limit=1", headers=op)).json()["total"]
    last = (
        await service.client.get(f"/subscriptions?limit=1&offset={total - 1}", headers=op)
    ).json()
    assert len(last["items"]) == 1 and last["total"] == total
    assert_problem(await service.client.get("/subscriptions?channel=fax", headers=op), 422)

    changed = await service.client.patch(
        "/subscriptions/crud-sms",
        json={"active": False, "min_danger_level": 3, "target": "13912345678"},
        headers=op,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["active"] is False and changed.json()["target"] == "139****5678"
    assert changed.json()["min_danger_level"] == 3
    # Off to webhook without a URL: refused, naming the target.
    to_hook = await service.client.patch(
        "/subscriptions/crud-sms", json={"channel": "webhook"}, headers=op
    )
    assert_problem(to_hook, 422, "body.target")
    assert_problem(
        await service.client.patch("/subscriptions/crud-sms", json={"person": None}, headers=op),
        422,
    )
    assert_problem(
        await service.client.patch("/subscriptions/none", json={"active": True}, headers=op), 404
    )
    read = await service.client.get("/subscriptions/crud-sms", headers=op)
    assert read.json()["min_danger_level"] == 3

    gone = await service.client.delete("/subscriptions/crud-sms", headers=op)
    assert gone.status_code == 204
    assert_problem(await service.client.get("/subscriptions/crud-sms", headers=op), 404)
    assert_problem(await service.client.delete("/subscriptions/crud-sms", headers=op), 404)
    reader = service.auth("ranger")
    assert_problem(await service.client.get("/alarms/none/deliveries", headers=reader), 404)
    assert_problem(await service.client.get("/deliveries?status=lost", headers=reader), 422)


@pytest.fixture(scope="module")
async def manual() -> AsyncIterator[Service]:
    """A service whose delivery worker is off: the test drives ``deliver_due`` itself."""
    receiver = Receiver(plan={"once-refused": 1})
    async for running in _service(receiver, fire_notify_enabled=False):
        yield running


async def test_deliver_due_steps_through_leases_backoff_and_success(manual: Service) -> None:
    lon, lat = FIRE
    sub = await subscribe(
        manual,
        person="Chief Wang",
        role="forestry_chief",
        area=square(lon, lat, 0.02),
        channel="webhook",
        target=f"{manual.receiver.url}/hooks/once-refused",
        alarm_statuses=["raised", "verified"],
    )
    reported = await manual.client.post(
        "/alarms",
        json={"location": {"type": "Point", "coordinates": [lon, lat]}, "danger_level": 2},
        headers=manual.auth("ranger"),
    )
    assert reported.status_code == 201, reported.text
    alarm_id = reported.json()["id"]
    runtime = manual.runtime

    # Deliveries belong to the alarm step's transaction: rolled back, none remain.
    async with runtime.uow() as uow:
        made = await notifications.notify_alarm_step(
            uow, alarm_id, status=FireAlarmStatus.VERIFIED, at=datetime.now(UTC)
        )
        assert made == 1
    async with runtime.uow() as uow:
        [only] = await notify_repo.alarm_deliveries(uow.session, alarm_id)
    assert (only["subscription_id"], only["status"], only["attempts"]) == (sub["id"], "pending", 0)

    # No jitter: the steps below are timed to the exact backoff.
    policy = RetryPolicy(
        max_attempts=5, base_delay=timedelta(seconds=30), max_delay=timedelta(minutes=5), jitter=0
    )
    lease = timedelta(seconds=60)
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    async with httpx.AsyncClient(timeout=5) as client:
        channels = notifications.build_channels(client, manual.settings)

        async def step(at: datetime) -> list[notifications.Attempt]:
            return await notifications.deliver_due(
                runtime.uow, channels, now=at, policy=policy, lease=lease
            )

        # A worker claims the delivery and dies before sending: the lease holds it...
        async with runtime.uow() as uow:
            claimed = await notify_repo.claim_due(
                uow.session, now=t0, lease_until=t0 + lease, limit=10
            )
            await uow.commit()
        assert [c["attempts"] for c in claimed] == [1]
        assert await step(t0 + timedelta(seconds=59)) == []
        # ...until it runs out; then it is tried again, refused, and backs off 2 x 30 s.
        [refused] = await step(t0 + timedelta(seconds=61))
        assert (refused.status.value, refused.attempts) == ("failed", 2)
        assert refused.error is not None and refused.error.startswith("HTTP 503")
        async with runtime.uow() as uow:
            [row] = await notify_repo.alarm_deliveries(uow.session, alarm_id)
        waited = row["next_attempt_at"] - (t0 + timedelta(seconds=61))
        assert timedelta(seconds=60) <= waited < timedelta(seconds=62)
        assert await step(t0 + timedelta(seconds=100)) == []
        [sent] = await step(t0 + timedelta(seconds=125))
        assert (sent.status.value, sent.attempts) == ("sent", 3)
        assert await step(t0 + timedelta(hours=1)) == []

    records = await manual.client.get(
        f"/alarms/{alarm_id}/deliveries", headers=manual.auth("operator")
    )
    [record] = records.json()
    assert (record["status"], record["attempts"], record["last_error"]) == ("sent", 3, None)
    assert len(manual.receiver.hooks["once-refused"]) == 2


async def test_a_camera_alarm_reaches_the_areas_its_bearing_wedge_crosses(
    manual: Service,
) -> None:
    """A single camera knows the bearing, not the distance: everyone whose area the
    wedge crosses may have the fire, even where the best-guess point (and its 100 m
    circle, 700 m from the village's area) is not theirs."""
    crossed = await subscribe(
        manual,
        person="Village head Zhou",
        role="village_head",
        area=box(106.205, 29.605, 106.22, 29.62),
        channel="webhook",
        target=f"{manual.receiver.url}/hooks/wedge",
    )
    await subscribe(
        manual,
        person="Beyond the wedge",
        role="ranger",
        area=box(106.23, 29.55, 106.25, 29.57),
        channel="webhook",
        target=f"{manual.receiver.url}/hooks/beyond",
    )
    alarm_id = f"fa-{uuid.uuid4().hex[:16]}"
    await execute_sql(
        manual.settings.database_url,
        "INSERT INTO fire_alarms (id, kind, status, location, uncertainty_m, confidence,"
        " danger_level, raised_at, updated_at, area) VALUES ($1, 'smoke', 'raised',"
        " ST_GeomFromText('POINT(106.2 29.6)', 4326), 100, 0.8, 3, now(), now(),"
        " ST_GeomFromText('POLYGON((106.19 29.59, 106.21 29.59, 106.21 29.61,"
        " 106.19 29.61, 106.19 29.59))', 4326))",
        alarm_id,
    )
    async with manual.runtime.uow() as uow:
        made = await notifications.notify_alarm_step(
            uow, alarm_id, status=FireAlarmStatus.RAISED, at=datetime.now(UTC)
        )
        await uow.commit()
    assert made == 1
    async with manual.runtime.uow() as uow:
        [only] = await notify_repo.alarm_deliveries(uow.session, alarm_id)
        # Made once per step: the same step again adds nothing.
        again = await notifications.notify_alarm_step(
            uow, alarm_id, status=FireAlarmStatus.RAISED, at=datetime.now(UTC)
        )
    assert only["subscription_id"] == crossed["id"] and again == 0
    assert only["message"]["lon"] == 106.2 and only["message"]["kind"] == "smoke"
