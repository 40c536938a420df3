"""The app factory over a real database and broker: probes, problems, the full loop."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest

from city_common.events.envelope import CloudEvent
from city_common.runtime import create_app
from city_common.settings import ServiceSettings
from city_common.testing import (
    assert_problem,
    bearer,
    fresh_database,
    read_topic,
    running_app,
    settings_for_test,
)
from sample_svc.app import DEFINITION

pytestmark = pytest.mark.integration

VALID = {
    "incident_id": "inc-1",
    "kind": "collision",
    "severity": 3,
    "location": {"type": "Point", "coordinates": [105.93, 29.35]},
}


async def test_probes_problems_and_the_outbox_to_inbox_loop(sample_db: str, prefix: str) -> None:
    settings = settings_for_test(
        ServiceSettings, sample_db, topic_prefix=prefix, max_body_bytes=4096
    )
    app = create_app(DEFINITION, settings)
    operator = bearer(settings, "operator")
    async with running_app(app) as client:
        assert (await client.get("/healthz")).json()["status"] == "ok"
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"kafka": "ok", "database": "ok"}

        # Authentication and authorisation.
        assert_problem(await client.post("/incidents", json=VALID), 401)
        no_role = bearer(settings, "citizen")
        assert_problem(await client.post("/incidents", json=VALID, headers=no_role), 403)
        expired = {"Authorization": "Bearer not-a-jwt"}
        assert_problem(await client.post("/incidents", json=VALID, headers=expired), 401)

        # Bad bodies name the field and the reason.
        bad = await client.post(
            "/incidents",
            content=b"{not json",
            headers={**operator, "content-type": "application/json"},
        )
        assert_problem(bad, 400)
        assert_problem(
            await client.post("/incidents", json={**VALID, "severity": "3"}, headers=operator),
            422,
            "body.severity",
        )
        assert_problem(
            await client.post("/incidents", json={**VALID, "severity": 9}, headers=operator),
            422,
            "body.severity",
        )
        off_earth = {**VALID, "location": {"type": "Point", "coordinates": [105.9, 129.3]}}
        assert_problem(
            await client.post("/incidents", json=off_earth, headers=operator),
            422,
            "body.location.coordinates.1",
        )
        assert_problem(
            await client.post("/incidents", json={**VALID, "extra": 1}, headers=operator),
            422,
            "body.extra",
        )
        assert_problem(
            await client.post("/incidents", json={**VALID, "kind": "meteor"}, headers=operator),
            422,
            "body.kind",
        )
        huge = {**VALID, "incident_id": "x" * 5000}
        assert_problem(await client.post("/incidents", json=huge, headers=operator), 413)

        async def chunked():  # no Content-Length: the limit is counted as bytes arrive
            for _ in range(10):
                yield b" " * 1000

        streamed = await client.post(
            "/incidents",
            content=chunked(),
            headers={**operator, "content-type": "application/json"},
        )
        assert_problem(streamed, 413)

        # Query parameters, unknown resources and methods.
        assert_problem(await client.get("/ledger?limit=0"), 422, "query.limit")
        assert_problem(await client.get("/ledger?offset=-1"), 422, "query.offset")
        assert_problem(await client.get("/ledger/unknown"), 404)
        assert_problem(await client.get("/no-such-route"), 404)
        assert_problem(await client.delete("/healthz"), 405)
        assert_problem(await client.post("/readyz"), 405)

        # The accepted request travels route -> outbox -> Kafka -> consumer -> ledger,
        # carrying the request's trace id.
        accepted = await client.post("/incidents", json=VALID, headers=operator)
        assert accepted.status_code == 202, accepted.text
        trace_id = accepted.headers["x-trace-id"]
        for _ in range(150):
            entry = await client.get("/ledger/inc-1")
            if entry.status_code == 200:
                break
            await asyncio.sleep(0.2)
        assert entry.status_code == 200
        assert entry.json()["event_id"] == accepted.json()["event_id"]

        messages = await read_topic(prefix + "traffic.incidents", expected=1)
        event = CloudEvent.from_headers(list(messages[0][2 - 1].items()), messages[0][2])
        assert event.traceparent is not None and event.traceparent.split("-")[1] == trace_id

        metrics = (await client.get("/metrics")).text
        assert 'http_request_duration_seconds_bucket{le="0.005",method="POST"' in metrics
        assert f'events_produced_total{{topic="{prefix}traffic.incidents"}} 1.0' in metrics
        assert "events_consumed_total" in metrics

        page = (await client.get("/ledger?limit=1")).json()
        assert page["total"] == 1 and page["limit"] == 1 and len(page["items"]) == 1


async def test_readyz_is_503_until_migrations_reach_head(prefix: str) -> None:
    bare = await fresh_database(f"test_common_bare_{uuid.uuid4().hex[:8]}")
    settings = settings_for_test(ServiceSettings, bare, topic_prefix=prefix, consumer_enabled=False)
    app = create_app(replace(DEFINITION, subscriptions=None), settings)
    async with running_app(app) as client:
        response = await client.get("/readyz")
        body = assert_problem(response, 503)
        assert body["checks"]["kafka"] == "ok"
        assert "migrations not at head" in body["checks"]["database"]
