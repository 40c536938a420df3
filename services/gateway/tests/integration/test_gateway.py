"""The gateway in front of a real grid-events, both on real HTTP servers."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.testing import (
    KAFKA_BOOTSTRAP,
    bearer,
    free_port,
    migrated_database,
    read_topic,
    served,
    settings_for_test,
    unique,
)
from gateway.bootstrap import create_app as gateway_app
from gateway.config import Settings as GatewaySettings
from grid_events.bootstrap import create_app as grid_app
from grid_events.config import Settings as GridSettings

pytestmark = pytest.mark.integration

CASE = {
    "category": "public_safety",
    "description": "Street light out",
    "location": {"type": "Point", "coordinates": [105.93, 29.35]},
}


async def test_gateway_routes_authenticates_limits_audits_and_streams() -> None:
    prefix = unique("gw") + "."
    grid_settings = settings_for_test(
        GridSettings,
        await migrated_database("grid_events", f"test_gw_grid_{uuid.uuid4().hex[:8]}"),
        topic_prefix=prefix,
    )
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with served(grid_app(grid_settings)) as grid_url:
        settings = settings_for_test(
            GatewaySettings,
            await migrated_database("gateway", f"test_gw_{uuid.uuid4().hex[:8]}"),
            topic_prefix=prefix,
            service_urls={"grid-events": grid_url, "fire-detect": down},
            rate_limit_burst=40,
            rate_limit_per_s=0.5,
        )
        operator = bearer(settings, "operator", subject="op-1")
        worker = bearer(settings, "grid_worker", subject="worker-9")
        admin = bearer(settings, "admin", subject="root")
        async with (
            served(gateway_app(settings)) as gw,
            httpx.AsyncClient(base_url=gw, timeout=20) as client,
        ):
            # Probes are public; everything else needs a token, checked at the gateway.
            ready = await client.get("/api/v1/grid-events/readyz")
            assert ready.status_code == 200 and ready.json()["service"] == "grid-events"
            # Open311 clients authenticate with an api_key, checked by grid-events itself.
            open311 = await client.get("/api/v1/grid-events/open311/v2/services.json")
            assert open311.status_code == 200 and isinstance(open311.json(), list)
            no_key = await client.post(
                "/api/v1/grid-events/open311/v2/requests.json", data={"service_code": "x"}
            )
            assert no_key.status_code == 403 and no_key.json()[0]["code"] == 403
            unauthenticated = await client.get("/api/v1/grid-events/cases")
            assert unauthenticated.status_code == 401
            assert unauthenticated.headers["content-type"].startswith("application/problem+json")
            assert "www-authenticate" in unauthenticated.headers

            made = await client.post("/api/v1/grid-events/cases", json=CASE, headers=worker)
            assert made.status_code == 201, made.text
            trace_id = made.headers["x-trace-id"]
            listed = await client.get("/api/v1/grid-events/cases?limit=5", headers=operator)
            assert listed.status_code == 200 and listed.json()["total"] == 1
            # The service's own checks still apply behind the gateway.
            citizen = bearer(settings, "citizen")
            assert (
                await client.get("/api/v1/grid-events/cases", headers=citizen)
            ).status_code == 403
            invalid = await client.post(
                "/api/v1/grid-events/cases", json={**CASE, "category": "ufo"}, headers=worker
            )
            assert (
                invalid.status_code == 422
                and invalid.json()["errors"][0]["field"] == "body.category"
            )

            # The event the service emitted carries the trace the gateway started.
            opened = await read_topic(prefix + "grid.cases", expected=1)
            traceparent = opened[0][1]["ce_traceparent"].decode()
            assert traceparent.split("-")[1] == trace_id

            unknown = await client.get("/api/v1/no-such-service/x", headers=operator)
            assert unknown.status_code == 404
            outage = await client.get("/api/v1/fire-detect/alarms", headers=operator)
            assert outage.status_code == 503 and "fire-detect" in outage.json()["detail"]

            status = (await client.get("/api/v1/status", headers=operator)).json()
            assert status["services"]["grid-events"]["ready"] is True
            assert status["services"]["fire-detect"]["ready"] is False
            assert status["ready"] is False

            audit = await client.get("/api/v1/audit", headers=admin)
            entries = audit.json()["items"]
            assert [(e["subject"], e["method"], e["service"], e["status"]) for e in entries] == [
                ("worker-9", "POST", "grid-events", 422),
                ("worker-9", "POST", "grid-events", 201),
            ]
            assert entries[1]["trace_id"] == trace_id
            assert (await client.get("/api/v1/audit", headers=operator)).status_code == 403

            merged = (await client.get("/api/v1/openapi.json")).json()
            assert "/api/v1/grid-events/cases" in merged["paths"]
            assert "grid_events__CaseCreate" in merged["components"]["schemas"]

            # Live stream: a fire alarm on the bus reaches an SSE client.
            received = await _stream_one_alarm(gw, settings, prefix)
            assert received["type"] == "city.fire.alarm.raised.v1"
            assert received["data"]["alarm_id"].startswith("fa-live")

            # Rate limit: the burst is spent, the next call waits.
            statuses = [
                (await client.get("/api/v1/grid-events/cases", headers=worker)).status_code
                for _ in range(40)
            ]
            assert 429 in statuses
            limited = await client.get("/api/v1/grid-events/cases", headers=worker)
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            # Another caller has a bucket of its own.
            other = bearer(settings, "operator", subject="op-2")
            assert (await client.get("/api/v1/grid-events/cases", headers=other)).status_code == 200


async def _stream_one_alarm(base: str, settings: GatewaySettings, prefix: str) -> dict:
    token = bearer(settings, "operator")["Authorization"].split()[1]
    await ensure_topics(KAFKA_BOOTSTRAP, [prefix + "fire.alarms"])
    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test")
    await publisher.start()
    spec = spec_for_type("city.fire.alarm.raised.v1")

    async def keep_publishing() -> None:
        # The feed starts at the latest offset: publish until the client has seen one.
        for n in range(60):
            alarm = s.FireAlarmRaised(
                alarm_id=f"fa-live-{n}",
                raised_at=datetime.now(UTC),
                location=GeoPoint.of(105.93, 29.35),
                uncertainty_m=100.0,
                confidence=0.9,
                danger_level=2,
            )
            key, event = spec.build(alarm, source="/test")
            await publisher.publish(prefix + "fire.alarms", key, event)
            await asyncio.sleep(0.5)

    pusher = asyncio.create_task(keep_publishing())
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            async with client.stream(
                "GET", f"/api/v1/events/stream?access_token={token}&type_prefix=city.fire."
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        return json.loads(line.removeprefix("data: "))
    finally:
        pusher.cancel()
        await publisher.stop()
    raise AssertionError("no event arrived on the stream")
