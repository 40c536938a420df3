"""traffic-signal against the real PostgreSQL/PostGIS and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.testing import (
    KAFKA_BOOTSTRAP,
    assert_problem,
    bearer,
    consumed,
    migrated_database,
    read_topic,
    running_app,
    settings_for_test,
    unique,
    wait_until,
)
from traffic_signal.bootstrap import create_app
from traffic_signal.config import Settings

pytestmark = pytest.mark.integration


@dataclass
class Service:
    client: httpx.AsyncClient
    settings: Settings
    prefix: str

    def auth(self, *roles: str, subject: str = "tester") -> dict[str, str]:
        return bearer(self.settings, *roles, subject=subject)


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[Service]:
    url = await migrated_database("traffic_signal", f"test_traffic_{uuid.uuid4().hex[:8]}")
    prefix = unique("ts") + "."
    settings = settings_for_test(Settings, url, topic_prefix=prefix)
    async with running_app(create_app(settings)) as client:
        yield Service(client, settings, prefix)


def intersection(ident: str, *, corridor: str | None = None, lon: float = 105.93) -> dict:
    return {
        "id": ident,
        "name": f"Crossing {ident}",
        "location": {"type": "Point", "coordinates": [lon, 29.35]},
        "signal_groups": 8,
        "corridor_id": corridor,
    }


async def test_intersections_are_registered_listed_by_corridor_and_paged(service: Service) -> None:
    admin, reader = service.auth("admin"), service.auth("operator")
    for ident, corridor, lon in (
        ("x-honghe-1", "honghe-rd", 105.92),
        ("x-honghe-2", "honghe-rd", 105.93),
        ("x-renmin-1", None, 105.94),
    ):
        made = await service.client.post(
            "/intersections", json=intersection(ident, corridor=corridor, lon=lon), headers=admin
        )
        assert made.status_code == 201, made.text
    assert made.json()["location"] == {"type": "Point", "coordinates": [105.94, 29.35]}
    assert made.json()["corridor_id"] is None

    dup = await service.client.post(
        "/intersections", json=intersection("x-honghe-1"), headers=admin
    )
    assert_problem(dup, 409)

    everything = (await service.client.get("/intersections", headers=reader)).json()
    assert everything["total"] == 3
    corridor = (
        await service.client.get("/intersections?corridor_id=honghe-rd", headers=reader)
    ).json()
    assert corridor["total"] == 2
    assert [i["id"] for i in corridor["items"]] == ["x-honghe-1", "x-honghe-2"]
    second = (await service.client.get("/intersections?limit=1&offset=1", headers=reader)).json()
    assert second["total"] == 3 and second["limit"] == 1 and second["offset"] == 1
    assert [i["id"] for i in second["items"]] == ["x-honghe-2"]

    one = await service.client.get("/intersections/x-renmin-1", headers=reader)
    assert one.status_code == 200 and one.json()["signal_groups"] == 8
    assert_problem(await service.client.get("/intersections/nowhere", headers=reader), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"signal_groups": "8"}, "body.signal_groups"),
        ({"signal_groups": 33}, "body.signal_groups"),
        ({"signal_groups": 0}, "body.signal_groups"),
        ({"id": "has space"}, "body.id"),
        ({"name": 7}, "body.name"),
        (
            {"location": {"type": "Point", "coordinates": [105.9, 95.0]}},
            "body.location.coordinates.1",
        ),
        (
            {"location": {"type": "Point", "coordinates": ["105.9", 29.3]}},
            "body.location.coordinates.0",
        ),
        ({"phase_plan": "fixed"}, "body.phase_plan"),
    ],
)
async def test_bad_intersections_name_the_field(service: Service, change: dict, field: str) -> None:
    body = {**intersection("x-bad"), **change}
    response = await service.client.post("/intersections", json=body, headers=service.auth("admin"))
    assert_problem(response, 422, field)


async def test_callers_need_a_token_and_the_right_role(service: Service) -> None:
    no_token = await service.client.get("/incidents")
    assert_problem(no_token, 401)
    assert no_token.headers["www-authenticate"].startswith("Bearer")
    citizen = service.auth("citizen")
    assert_problem(await service.client.get("/incidents", headers=citizen), 403)
    # Only an administrator changes the signal network.
    operator = service.auth("operator")
    assert_problem(
        await service.client.post("/intersections", json=intersection("x-op"), headers=operator),
        403,
    )
    report = {"kind": "collision", "severity": 2, "location": intersection("_")["location"]}
    assert_problem(
        await service.client.post("/incidents", json=report, headers=service.auth("dispatcher")),
        403,
    )


async def test_incident_is_reported_cleared_once_and_announced(service: Service) -> None:
    admin = service.auth("admin")
    await service.client.post(
        "/intersections", json=intersection("x-incident", corridor="c9"), headers=admin
    )
    analytics = service.auth("service", subject="video-analytics")
    report = {
        "kind": "collision",
        "severity": 4,
        "location": {"type": "Point", "coordinates": [105.931, 29.351]},
        "intersection_id": "x-incident",
    }
    unknown = await service.client.post(
        "/incidents", json={**report, "intersection_id": "x-missing"}, headers=analytics
    )
    assert_problem(unknown, 422, "body.intersection_id")
    assert_problem(
        await service.client.post(
            "/incidents", json={**report, "severity": "4"}, headers=analytics
        ),
        422,
        "body.severity",
    )
    assert_problem(
        await service.client.post("/incidents", json={**report, "kind": "fog"}, headers=analytics),
        422,
        "body.kind",
    )
    assert_problem(
        await service.client.post(
            "/incidents",
            content=b'{"kind": "collision",',
            headers={**analytics, "content-type": "application/json"},
        ),
        400,
    )

    made = await service.client.post("/incidents", json=report, headers=analytics)
    assert made.status_code == 201, made.text
    incident = made.json()
    assert incident["status"] == "active" and incident["reported_by"] == "video-analytics"
    assert incident["grid_case"] is None

    dispatcher = service.auth("dispatcher", subject="dispatcher-2")
    cleared = await service.client.post(f"/incidents/{incident['id']}/clear", headers=dispatcher)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["status"] == "cleared"
    assert cleared.json()["cleared_by"] == "dispatcher-2"
    again = await service.client.post(f"/incidents/{incident['id']}/clear", headers=dispatcher)
    assert "already cleared" in assert_problem(again, 409)["detail"]
    assert_problem(await service.client.post("/incidents/ti-none/clear", headers=dispatcher), 404)

    reader = service.auth("operator")
    by_place = (
        await service.client.get("/incidents?intersection_id=x-incident", headers=reader)
    ).json()
    assert [i["id"] for i in by_place["items"]] == [incident["id"]]
    assert (
        await service.client.get("/incidents?status=active&kind=collision", headers=reader)
    ).json()["total"] == 0
    assert_problem(
        await service.client.get("/incidents?status=gone", headers=reader), 422, "query.status"
    )

    messages = await read_topic(service.prefix + "traffic.incidents", expected=2)
    assert [h["ce_type"].decode() for _, h, _ in messages] == [
        "city.traffic.incident.detected.v1",
        "city.traffic.incident.cleared.v1",
    ]
    assert {key for key, _, _ in messages} == {incident["id"].encode()}
    detected = spec_for_type("city.traffic.incident.detected.v1").model.model_validate_json(
        messages[0][2] or b""
    )
    assert isinstance(detected, s.TrafficIncidentDetected)
    assert detected.intersection_id == "x-incident" and detected.severity == 4


async def test_the_grid_case_of_an_incident_shows_on_it(service: Service) -> None:
    reporter = service.auth("operator")
    report = {
        "kind": "breakdown",
        "severity": 2,
        "location": {"type": "Point", "coordinates": [105.94, 29.36]},
    }
    incident = (await service.client.post("/incidents", json=report, headers=reporter)).json()
    topic = service.prefix + "grid.cases"

    def case(
        status: s.GridCaseStatus, at: datetime, kind: str = "traffic_incident"
    ) -> s.GridCaseChanged:
        return s.GridCaseChanged(
            case_id="case-77",
            status=status,
            category="traffic_incident",
            at=at,
            department="transport",
            source=s.GridCaseSource(kind=kind, ref=incident["id"]),  # type: ignore[arg-type]
            location=GeoPoint.of(105.94, 29.36),
        )

    async def grid_case() -> dict | None:
        got = await service.client.get(f"/incidents/{incident['id']}", headers=reporter)
        return got.json()["grid_case"]

    await ensure_topics(KAFKA_BOOTSTRAP, [topic])
    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-traffic")
    await publisher.start()
    try:
        opened_at = datetime.now(UTC)
        # A camera case naming the same ref belongs to someone else: ignored.
        key, foreign = spec_for_type("city.grid.case.opened.v1").build(
            case(s.GridCaseStatus.OPENED, opened_at, kind="camera"), source="/test"
        )
        await publisher.publish(topic, key, foreign)
        key, opened = spec_for_type("city.grid.case.opened.v1").build(
            case(s.GridCaseStatus.OPENED, opened_at), source="/test"
        )
        await publisher.publish(topic, key, opened)
        await publisher.publish(topic, key, opened)  # redelivered

        async def opened_and_duplicate_absorbed() -> bool:
            return (await grid_case() or {}).get("status") == "opened" and (
                consumed((await service.client.get("/metrics")).text, topic, "duplicate")
            ) >= 1

        await wait_until(opened_and_duplicate_absorbed)
        assert (await grid_case() or {})["id"] == "case-77"
        assert consumed((await service.client.get("/metrics")).text, topic, "applied") == 2

        key, closed = spec_for_type("city.grid.case.closed.v1").build(
            case(s.GridCaseStatus.CLOSED, opened_at + timedelta(minutes=30)), source="/test"
        )
        await publisher.publish(topic, key, closed)

        async def closed_shows() -> bool:
            return (await grid_case() or {}).get("status") == "closed"

        await wait_until(closed_shows)
    finally:
        await publisher.stop()
