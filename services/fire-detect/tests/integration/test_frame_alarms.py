"""Alarms from camera frames, against the real Kafka and PostgreSQL: a fire sequence
raises one alarm, located along the camera's bearing; a second camera's bearing
locates it; a sequence without fire raises none. And the fire-weather rating."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fire_scenes import H, W, fire_sequence, quiet_sequence

from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.testing import (
    KAFKA_BOOTSTRAP,
    assert_problem,
    bearer,
    migrated_database,
    read_topic,
    running_app,
    settings_for_test,
    unique,
    wait_until,
)
from fire_detect.bootstrap import create_app
from fire_detect.config import Settings
from fire_detect.domain.location import TangentPlane, destination, distance_m, pixel_bearing

pytestmark = pytest.mark.integration

TOWER = (105.90, 29.40)
HFOV = 60.0


@dataclass
class Service:
    client: httpx.AsyncClient
    settings: Settings
    prefix: str

    def auth(self, *roles: str) -> dict[str, str]:
        return bearer(self.settings, *roles, subject="tester")


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[Service]:
    url = await migrated_database("fire_detect", f"test_fire_frames_{uuid.uuid4().hex[:8]}")
    prefix = unique("fdf") + "."
    settings = settings_for_test(Settings, url, topic_prefix=prefix)
    async with running_app(create_app(settings)) as client:
        yield Service(client, settings, prefix)


async def publish(service: Service, camera: str, pan: float, frames: list[bytes]) -> None:
    topic = service.prefix + "camera.frames"
    spec = spec_for_type("city.camera.frame.captured.v1")
    t0 = datetime.now(UTC) - timedelta(seconds=len(frames))
    batch = []
    for i, data in enumerate(frames):
        payload = s.FrameCaptured(
            camera_id=camera,
            camera_kind=s.CameraKind.FOREST,
            captured_at=t0 + timedelta(seconds=i),
            pan_azimuth_deg=pan,
        )
        key, event = spec.build(payload, source="/test", data=data, content_type="image/jpeg")
        batch.append((topic, key, event.to_headers(), event.data))
    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-fire-frames")
    await publisher.start()
    try:
        await publisher.send_many(batch)
    finally:
        await publisher.stop()


async def test_a_forest_camera_registered_in_video_ingest_gets_its_view(
    service: Service,
) -> None:
    spec = spec_for_type("city.camera.registered.v1")
    topic = service.prefix + "camera.status"
    batch = []
    for camera, kind, hfov in (
        ("reg-forest", s.CameraKind.FOREST, 48.0),
        ("reg-road", s.CameraKind.TRAFFIC, 48.0),
        ("reg-panorama", s.CameraKind.FOREST, 180.0),
    ):
        payload = s.CameraRegistered(
            camera_id=camera,
            camera_kind=kind,
            location=GeoPoint(type="Point", coordinates=(105.91, 29.41)),
            elevation_m=700.0,
            heading_deg=30.0,
            hfov_deg=hfov,
            presets=[30.0, 60.0],
            registered_at=datetime.now(UTC),
        )
        key, event = spec.build(payload, source="/test")
        batch.append((topic, key, event.to_headers(), event.data))
    await ensure_topics(KAFKA_BOOTSTRAP, [topic])
    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-camera-registered")
    await publisher.start()
    try:
        await publisher.send_many(batch)
    finally:
        await publisher.stop()
    reader = service.auth("operator")

    async def view_of(camera: str) -> httpx.Response:
        return await service.client.get(f"/cameras/{camera}/view", headers=reader)

    async def learnt() -> bool:
        return (await view_of("reg-forest")).status_code == 200

    await wait_until(learnt)
    view = (await view_of("reg-forest")).json()
    assert view["hfov_deg"] == 48.0 and view["location"]["coordinates"] == [105.91, 29.41]
    # Only forest cameras with a field of view a bearing can use are kept.
    assert (await view_of("reg-road")).status_code == 404
    assert (await view_of("reg-panorama")).status_code == 404


async def frames_seen(service: Service, camera: str) -> int:
    got = await service.client.get(
        f"/cameras/{camera}/frame-stats", headers=service.auth("operator")
    )
    return int(got.json()["frames_seen"]) if got.status_code == 200 else 0


async def alarms_of(service: Service, camera: str) -> list[dict]:
    page = (await service.client.get("/alarms?limit=100", headers=service.auth("operator"))).json()
    return [a for a in page["items"] if a["camera_id"] == camera]


async def test_views_are_validated_and_read_back(service: Service) -> None:
    admin = service.auth("admin")
    view = {"location": {"type": "Point", "coordinates": list(TOWER)}, "hfov_deg": HFOV}
    put = await service.client.put("/cameras/tower-a/view", json=view, headers=admin)
    assert put.status_code == 200, put.text
    got = await service.client.get("/cameras/tower-a/view", headers=service.auth("ranger"))
    assert got.json()["hfov_deg"] == HFOV and got.json()["location"]["coordinates"] == list(TOWER)
    for bad, field in (
        ({**view, "hfov_deg": 0}, "body.hfov_deg"),
        ({**view, "hfov_deg": "60"}, "body.hfov_deg"),
        ({"hfov_deg": 60.0}, "body.location"),
    ):
        assert_problem(
            await service.client.put("/cameras/tower-a/view", json=bad, headers=admin), 422, field
        )
    assert_problem(
        await service.client.put(
            "/cameras/tower-a/view", json=view, headers=service.auth("ranger")
        ),
        403,
    )
    assert_problem(await service.client.get("/cameras/nowhere/view", headers=admin), 404)


async def test_a_fire_sequence_raises_one_located_alarm_and_leaves_raise_none(
    service: Service,
) -> None:
    await ensure_topics(KAFKA_BOOTSTRAP, [service.prefix + "camera.frames"])
    admin = service.auth("admin")
    # Tower A looks east-north-east; tower B stands 6 km east of A.
    b_lon, b_lat = destination(*TOWER, 90.0, 6_000.0)
    fire_lon, fire_lat = destination(*TOWER, 60.0, 5_000.0)
    for camera, (lon, lat) in (("tower-a", TOWER), ("tower-b", (b_lon, b_lat)), ("tower-q", TOWER)):
        view = {"location": {"type": "Point", "coordinates": [lon, lat]}, "hfov_deg": HFOV}
        assert (
            await service.client.put(f"/cameras/{camera}/view", json=view, headers=admin)
        ).status_code == 200

    # The flame burns at column 200 of 320: pan so that column looks at the fire.
    offset = pixel_bearing(0.0, HFOV, W, 200.0)
    pan_a = (60.0 - offset) % 360.0
    await publish(service, "tower-a", pan_a, fire_sequence(1, 200))
    await publish(service, "tower-q", 30.0, quiet_sequence(2))

    async def consumed() -> bool:
        return (
            await frames_seen(service, "tower-a") == 10
            and await frames_seen(service, "tower-q") == 10
        )

    await wait_until(consumed)
    raised = await alarms_of(service, "tower-a")
    assert len(raised) == 1, raised
    alarm = raised[0]
    assert alarm["kind"] == "flame" and alarm["status"] == "raised"
    assert alarm["danger_level"] == 3 and 0.0 < alarm["confidence"] <= 1.0
    # Seen along the bearing to the fire, within the half-width of the box.
    assert alarm["bearing_deg"] == pytest.approx(60.0, abs=2.0)
    assert alarm["area"]["type"] == "Polygon"
    lon, lat = alarm["location"]["coordinates"]
    assert distance_m(*TOWER, lon, lat) == pytest.approx((200 + 15_000) / 2, rel=0.01)
    assert alarm["evidence"]["image"] == [W, H] and alarm["evidence"]["frames_seen"] >= 4
    detail = (await service.client.get(f"/alarms/{alarm['id']}", headers=admin)).json()
    assert [(t["status"], t["actor"]) for t in detail["timeline"]] == [("raised", "fire-detect")]
    # The frame that completed the sequence is kept as it came, and linked from the detail.
    assert detail["links"]["evidence"] == f"/alarms/{alarm['id']}/evidence"
    frame = await service.client.get(f"/alarms/{alarm['id']}/evidence", headers=admin)
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"
    assert frame.content in fire_sequence(1, 200)
    # Detection to alarm: from the first frame of the sequence to the alarm.
    first = datetime.fromisoformat(detail["evidence"]["first_detected_at"])
    assert first <= datetime.fromisoformat(detail["evidence"]["captured_at"])
    assert 0.0 < detail["kpis"]["detection_to_alarm_s"] < 60.0
    assert await alarms_of(service, "tower-q") == []

    messages = await read_topic(service.prefix + "fire.alarms", expected=1)
    assert len(messages) == 1
    key, headers, value = messages[0]
    assert key == alarm["id"].encode() and headers["ce_type"] == b"city.fire.alarm.raised.v1"
    event = s.FireAlarmRaised.model_validate_json(value or b"")
    assert event.camera_id == "tower-a" and event.kind == "flame"
    assert event.location.coordinates == pytest.approx((lon, lat))

    # Tower B sees the same fire a little later: no second alarm; the two bearings
    # cross at the fire, which locates it within a few hundred metres.
    east, north = TangentPlane(b_lon, b_lat).to_local(fire_lon, fire_lat)
    to_fire = math.degrees(math.atan2(east, north)) % 360.0
    await publish(service, "tower-b", (to_fire - offset) % 360.0, fire_sequence(3, 200))

    async def located() -> bool:
        got = (await service.client.get(f"/alarms/{alarm['id']}", headers=admin)).json()
        return got["crossed_by_camera_id"] == "tower-b"

    await wait_until(located)
    assert await alarms_of(service, "tower-b") == []
    fixed = (await service.client.get(f"/alarms/{alarm['id']}", headers=admin)).json()
    assert distance_m(fire_lon, fire_lat, *fixed["location"]["coordinates"]) < 500
    assert fixed["uncertainty_m"] < 1_000 < alarm["uncertainty_m"]
    assert fixed["area"]["type"] == "Polygon"


async def test_noon_weather_gives_the_danger_level(service: Service) -> None:
    source = service.auth("service")
    # From the start-up codes at Yongchuan's latitude, a dry, hot, windy April noon.
    dry = {
        "day": "2026-04-13",
        "temp_c": 28.0,
        "rh_pct": 17.0,
        "wind_kmh": 27.0,
        "rain_24h_mm": 0.0,
    }
    made = await service.client.post("/fire-weather", json=dry, headers=source)
    assert made.status_code == 201, made.text
    first = made.json()
    assert first["ffmc"] > 85.0 and first["fwi"] > 0 and 1 <= first["danger_level"] <= 5
    # The next day carries the codes on: a soaking rain brings them down.
    wet = {
        "day": "2026-04-14",
        "temp_c": 12.0,
        "rh_pct": 95.0,
        "wind_kmh": 5.0,
        "rain_24h_mm": 30.0,
    }
    second = (await service.client.post("/fire-weather", json=wet, headers=source)).json()
    assert second["ffmc"] < first["ffmc"] and second["dmc"] < first["dmc"]
    assert second["danger_level"] == 1
    latest = (
        await service.client.get("/fire-weather/latest", headers=service.auth("ranger"))
    ).json()
    assert latest["day"] == "2026-04-14"
    for bad, field in (
        ({**dry, "rh_pct": 101.0}, "body.rh_pct"),
        ({**dry, "rain_24h_mm": -1.0}, "body.rain_24h_mm"),
        ({**dry, "temp_c": "28"}, "body.temp_c"),
        ({**dry, "day": "13 April"}, "body.day"),
    ):
        assert_problem(
            await service.client.post("/fire-weather", json=bad, headers=source), 422, field
        )
    assert_problem(
        await service.client.post("/fire-weather", json=dry, headers=service.auth("ranger")), 403
    )
