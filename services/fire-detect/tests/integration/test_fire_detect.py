"""fire-detect against the real PostgreSQL/PostGIS and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.testing import (
    KAFKA_BOOTSTRAP,
    bearer,
    migrated_database,
    read_topic,
    running_app,
    settings_for_test,
    unique,
    wait_until,
)
from city_common.testing import (
    consumed as consumed_in,
)
from fire_detect.bootstrap import create_app
from fire_detect.config import Settings

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
MIB = 1024 * 1024


@dataclass
class Service:
    client: httpx.AsyncClient
    settings: Settings
    prefix: str

    def auth(self, *roles: str, subject: str = "tester") -> dict[str, str]:
        return bearer(self.settings, *roles, subject=subject)


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[Service]:
    url = await migrated_database("fire_detect", f"test_fire_{uuid.uuid4().hex[:8]}")
    prefix = unique("fd") + "."
    settings = settings_for_test(Settings, url, topic_prefix=prefix)
    async with running_app(create_app(settings)) as client:
        yield Service(client, settings, prefix)


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == status
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]], problem
    return problem


async def consumed(client: httpx.AsyncClient, topic: str, outcome: str) -> float:
    return consumed_in((await client.get("/metrics")).text, topic, outcome)


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


async def test_resources_are_listed_by_kind_and_found_nearest_first(service: Service) -> None:
    admin, ranger = service.auth("admin"), service.auth("ranger")
    for ident, kind, lon, lat in (
        ("ws-north", "water_source", 105.90, 29.41),
        ("ws-east", "water_source", 105.92, 29.40),
        ("station-1", "ranger_station", 105.905, 29.40),
        ("village-far", "village", 106.00, 29.50),
        ("road-gate", "road_access", 105.89, 29.395),
    ):
        made = await service.client.post(
            "/resources",
            json={"id": ident, "kind": kind, "name": ident.title(), "location": point(lon, lat)},
            headers=admin,
        )
        assert made.status_code == 201, made.text
    assert made.json()["location"] == point(105.89, 29.395)
    again = {"id": "ws-north", "kind": "hazard", "name": "x", "location": point(105.0, 29.0)}
    assert_problem(await service.client.post("/resources", json=again, headers=admin), 409)

    water = (await service.client.get("/resources?kind=water_source", headers=ranger)).json()
    assert water["total"] == 2 and [r["id"] for r in water["items"]] == ["ws-east", "ws-north"]
    paged = (await service.client.get("/resources?limit=2&offset=4", headers=ranger)).json()
    assert paged["total"] == 5 and [r["id"] for r in paged["items"]] == ["ws-north"]
    one = await service.client.get("/resources/station-1", headers=ranger)
    assert one.status_code == 200 and one.json()["kind"] == "ranger_station"
    assert_problem(await service.client.get("/resources/none", headers=ranger), 404)

    nearest = await service.client.get(
        "/resources/nearest?lon=105.90&lat=29.40&limit=3", headers=ranger
    )
    assert nearest.status_code == 200, nearest.text
    found = nearest.json()
    assert [r["id"] for r in found] == ["station-1", "ws-north", "road-gate"]
    distances = [r["distance_m"] for r in found]
    assert distances == sorted(distances)
    # 0.005° of longitude at 29.4° N is about 485 m; 0.01° of latitude about 1109 m.
    assert 480 < distances[0] < 490 and 1100 < distances[1] < 1115

    water_near = (
        await service.client.get(
            "/resources/nearest?lon=105.90&lat=29.40&kind=water_source", headers=ranger
        )
    ).json()
    assert [r["id"] for r in water_near] == ["ws-north", "ws-east"]
    assert 1930 < water_near[1]["distance_m"] < 1950

    for query, field in (
        ("lon=181&lat=29.4", "query.lon"),
        ("lon=nan&lat=29.4", "query.lon"),
        ("lon=105.9&lat=north", "query.lat"),
        ("lat=29.4", "query.lon"),
        ("lon=105.9&lat=29.4&limit=51", "query.limit"),
        ("lon=105.9&lat=29.4&kind=lake", "query.kind"),
    ):
        response = await service.client.get(f"/resources/nearest?{query}", headers=ranger)
        assert_problem(response, 422, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "x 1", "kind": "hazard", "name": "n", "location": point(105.9, 29.4)}, "body.id"),
        ({"id": "x1", "kind": "lake", "name": "n", "location": point(105.9, 29.4)}, "body.kind"),
        ({"id": "x1", "kind": "hazard", "name": "", "location": point(105.9, 29.4)}, "body.name"),
        (
            {"id": "x1", "kind": "hazard", "name": "n", "location": point(105.9, -91)},
            "body.location.coordinates.1",
        ),
        ({"id": "x1", "kind": "hazard", "name": "n"}, "body.location"),
    ],
)
async def test_bad_resources_name_the_field(service: Service, body: dict, field: str) -> None:
    response = await service.client.post("/resources", json=body, headers=service.auth("admin"))
    assert_problem(response, 422, field)


async def test_callers_need_a_token_and_the_right_role(service: Service) -> None:
    assert_problem(await service.client.get("/alarms"), 401)
    assert_problem(await service.client.get("/alarms", headers=service.auth("citizen")), 403)
    report = {"location": point(105.9, 29.4), "danger_level": 3}
    assert_problem(
        await service.client.post("/alarms", json=report, headers=service.auth("dispatcher")),
        403,
    )
    resource = {"id": "r1", "kind": "hazard", "name": "n", "location": point(105.9, 29.4)}
    assert_problem(
        await service.client.post("/resources", json=resource, headers=service.auth("ranger")),
        403,
    )


async def test_an_alarm_follows_its_lifecycle_and_is_announced(service: Service) -> None:
    ranger = service.auth("ranger", subject="ranger-9")
    dispatcher = service.auth("dispatcher", subject="dispatcher-1")
    report = {"location": point(105.912, 29.387), "danger_level": 4}

    for bad, field in (
        ({**report, "danger_level": "4"}, "body.danger_level"),
        ({**report, "danger_level": 6}, "body.danger_level"),
        ({**report, "confidence": 1.5}, "body.confidence"),
        ({**report, "uncertainty_m": -1}, "body.uncertainty_m"),
        ({**report, "camera_id": "tower-1"}, "body.camera_id"),
    ):
        assert_problem(await service.client.post("/alarms", json=bad, headers=ranger), 422, field)
    not_a_number = await service.client.post(
        "/alarms",
        content=b'{"location": {"type": "Point", "coordinates": [105.9, 29.4]}, '
        b'"danger_level": 3, "confidence": NaN}',
        headers={**ranger, "content-type": "application/json"},
    )
    assert_problem(not_a_number, 422, "body.confidence")

    made = await service.client.post("/alarms", json=report, headers=ranger)
    assert made.status_code == 201, made.text
    alarm = made.json()
    assert alarm["status"] == "raised" and alarm["kind"] == "reported"
    assert alarm["confidence"] == 1.0 and alarm["uncertainty_m"] == 100.0
    assert alarm["reported_by"] == "ranger-9" and alarm["camera_id"] is None
    assert [(t["status"], t["actor"]) for t in alarm["timeline"]] == [("raised", "ranger-9")]
    path = f"/alarms/{alarm['id']}/transitions"

    skipped = await service.client.post(path, json={"status": "closed"}, headers=ranger)
    assert assert_problem(skipped, 409)["detail"] == (
        "a fire alarm that is 'raised' can move to 'dismissed' or 'verified', not 'closed'"
    )
    assert_problem(
        await service.client.post(path, json={"status": "burning"}, headers=ranger),
        422,
        "body.status",
    )
    assert_problem(
        await service.client.post(path, json={"status": "verified", "note": 7}, headers=ranger),
        422,
        "body.note",
    )
    assert_problem(
        await service.client.post(
            "/alarms/fa-none/transitions", json={"status": "verified"}, headers=ranger
        ),
        404,
    )

    steps = [
        ("verified", ranger, "smoke seen from tower 3"),
        ("dispatched", dispatcher, "crew 2 from station 1"),
        ("on_scene", ranger, None),
        ("extinguished", ranger, None),
        ("closed", dispatcher, "patrolled, no embers"),
    ]
    for status, who, note in steps:
        moved = await service.client.post(path, json={"status": status, "note": note}, headers=who)
        assert moved.status_code == 201, moved.text
        assert moved.json()["status"] == status
    final = await service.client.post(path, json={"status": "verified"}, headers=dispatcher)
    assert "final" in assert_problem(final, 409)["detail"]

    detail = (await service.client.get(f"/alarms/{alarm['id']}", headers=dispatcher)).json()
    assert [(t["status"], t["actor"], t["note"]) for t in detail["timeline"]] == [
        ("raised", "ranger-9", None),
        ("verified", "ranger-9", "smoke seen from tower 3"),
        ("dispatched", "dispatcher-1", "crew 2 from station 1"),
        ("on_scene", "ranger-9", None),
        ("extinguished", "ranger-9", None),
        ("closed", "dispatcher-1", "patrolled, no embers"),
    ]
    at = [datetime.fromisoformat(t["at"]) for t in detail["timeline"]]
    assert at == sorted(at)

    second = (await service.client.post("/alarms", json=report, headers=ranger)).json()
    dismissed = await service.client.post(
        f"/alarms/{second['id']}/transitions",
        json={"status": "dismissed", "note": "a farmer burning straw"},
        headers=ranger,
    )
    assert dismissed.status_code == 201

    closed = (await service.client.get("/alarms?status=closed", headers=ranger)).json()
    assert [a["id"] for a in closed["items"]] == [alarm["id"]]
    newest = (await service.client.get("/alarms?limit=1", headers=ranger)).json()
    assert newest["total"] == 2 and [a["id"] for a in newest["items"]] == [second["id"]]
    assert_problem(await service.client.get("/alarms?status=smouldering", headers=ranger), 422)
    assert_problem(await service.client.get("/alarms/fa-none", headers=ranger), 404)

    # on_scene and closed have no event type in the contract: six events, not eight.
    messages = await read_topic(service.prefix + "fire.alarms", expected=6)
    first = [h["ce_type"].decode() for k, h, _ in messages if k == alarm["id"].encode()]
    assert first == [
        "city.fire.alarm.raised.v1",
        "city.fire.alarm.verified.v1",
        "city.fire.alarm.dispatched.v1",
        "city.fire.alarm.extinguished.v1",
    ]
    other = [h["ce_type"].decode() for k, h, _ in messages if k == second["id"].encode()]
    assert other == ["city.fire.alarm.raised.v1", "city.fire.alarm.dismissed.v1"]
    raised = spec_for_type("city.fire.alarm.raised.v1").model.model_validate_json(
        messages[0][2] or b""
    )
    assert isinstance(raised, s.FireAlarmRaised) and raised.kind == "reported"
    verified = next(v for k, h, v in messages if h["ce_type"] == b"city.fire.alarm.verified.v1")
    changed = s.FireAlarmStatusChanged.model_validate_json(verified or b"")
    assert changed.actor == "ranger-9" and changed.note == "smoke seen from tower 3"


async def test_frames_are_tallied_per_camera_once_each(service: Service) -> None:
    topic = service.prefix + "camera.frames"
    await ensure_topics(KAFKA_BOOTSTRAP, [topic])
    # As video-ingest does: let the topic carry frames near the 2 MiB limit.
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP)
    await admin.start()
    try:
        await admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": str(3 * MIB)}
                )
            ]
        )
    finally:
        await admin.close()

    spec = spec_for_type("city.camera.frame.captured.v1")
    t0 = datetime.now(UTC)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 400

    def frame(
        camera: str,
        seconds: int,
        pan: float,
        data: bytes = jpeg,
        ctype: str = "image/jpeg",
        kind: s.CameraKind = s.CameraKind.FOREST,
    ):
        payload = s.FrameCaptured(
            camera_id=camera,
            camera_kind=kind,
            captured_at=t0 + timedelta(seconds=seconds),
            pan_azimuth_deg=pan,
        )
        key, event = spec.build(payload, source="/test", data=data, content_type=ctype)
        return (topic, key, event.to_headers(), event.data)

    burst = [
        frame("tower-1", 1, 90.0),
        frame("tower-2", 1, 10.0),
        frame("tower-1", 2, 95.0),
        frame("tower-1", 3, 100.0),
        frame("tower-2", 2, 20.0),
        frame("tower-1", 4, 105.0),
    ]
    first = burst[0]
    burst.append(first)  # delivered twice within one batch
    burst += [
        frame("tower-2", 3, 30.0, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),
        # 1.5 MiB, the latest of tower-1; a message far above Kafka's 1 MiB default.
        frame("tower-1", 9, 222.5, jpeg + b"\x00" * (3 * MIB // 2)),
        frame("tower-1", 0, 5.0),  # arrives last but was captured first
        # Passed over before the database: fire is sought on forest cameras only.
        frame("crossing-1", 5, 0.0, kind=s.CameraKind.TRAFFIC),
    ]
    reader = service.auth("operator")

    async def stats(camera: str) -> dict:
        got = await service.client.get(f"/cameras/{camera}/frame-stats", headers=reader)
        return got.json() if got.status_code == 200 else {}

    async def all_counted() -> bool:
        return (await stats("tower-1")).get("frames_seen") == 6 and (await stats("tower-2")).get(
            "frames_seen"
        ) == 3

    async def redelivery_absorbed() -> bool:
        return await consumed(service.client, topic, "duplicate") >= 1

    async def traffic_passed_over() -> bool:
        return await consumed(service.client, topic, "skipped") >= 1

    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-fire")
    await publisher.start()
    try:
        await publisher.send_many(burst)
        await wait_until(all_counted)
        # Delivered again later, as after a crash before the offset commit.
        await publisher.send_many([first])
        await wait_until(redelivery_absorbed)
        await wait_until(traffic_passed_over)
    finally:
        await publisher.stop()

    one, two = await stats("tower-1"), await stats("tower-2")
    assert one["frames_seen"] == 6 and two["frames_seen"] == 3
    assert datetime.fromisoformat(one["last_frame_at"]) == t0 + timedelta(seconds=9)
    assert one["last_pan_deg"] == 222.5 and one["last_content_type"] == "image/jpeg"
    assert one["camera_kind"] == "forest"
    assert two["last_pan_deg"] == 30.0 and two["last_content_type"] == "image/png"
    assert_problem(await service.client.get("/cameras/crossing-1/frame-stats", headers=reader), 404)
    assert_problem(await service.client.get("/cameras/tower-404/frame-stats", headers=reader), 404)
