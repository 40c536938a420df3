"""video-ingest against the real PostgreSQL/PostGIS and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from camera_images import jpeg, png

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
from video_ingest.bootstrap import create_app
from video_ingest.config import Settings

pytestmark = pytest.mark.integration

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
    url = await migrated_database("video_ingest", f"test_video_{uuid.uuid4().hex[:8]}")
    prefix = unique("vi") + "."
    # The cruise and the health sweep have tests of their own that drive them step by
    # step; here they would poll the example URLs and take cameras offline meanwhile.
    settings = settings_for_test(
        Settings, url, topic_prefix=prefix, cruise_enabled=False, health_sweep_enabled=False
    )
    async with running_app(create_app(settings)) as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        # Ready means, among the rest, that the frame topic takes frames at the size limit.
        await wait_until(ready)
        yield Service(client, settings, prefix)


def camera(ident: str, **change: object) -> dict:
    return {
        "id": ident,
        "kind": "forest",
        "location": {"type": "Point", "coordinates": [105.88, 29.40]},
        "elevation_m": 612.5,
        "heading_deg": 135.0,
        "hfov_deg": 58.0,
        "presets": [90.0, 135.0, 180.0],
        "snapshot_url": "https://cams.yongchuan.example/ch/1/snapshot.jpg",
        **change,
    }


async def send_frame(
    service: Service,
    camera_id: str,
    image: bytes,
    *,
    content_type: str = "image/png",
    captured_at: datetime | None = None,
    **params: object,
) -> httpx.Response:
    at = captured_at or datetime.now(UTC)
    return await service.client.post(
        f"/cameras/{camera_id}/frames",
        params={"captured_at": at.isoformat(), **params},
        content=image,
        headers={**service.auth("service", subject="gateway-3"), "content-type": content_type},
    )


async def test_cameras_are_registered_filtered_paged_and_removed(service: Service) -> None:
    admin, reader = service.auth("admin"), service.auth("ranger")
    for ident, kind, status in (
        ("forest-01", "forest", "online"),
        ("forest-02", "forest", "offline"),
        ("road-01", "traffic", "online"),
        ("square-01", "public-safety", "online"),
    ):
        made = await service.client.post(
            "/cameras", json=camera(ident, kind=kind, status=status), headers=admin
        )
        assert made.status_code == 201, made.text
    # Each registration is announced, with what fire detection needs to locate a fire.
    everything = await read_topic(service.prefix + "camera.status", expected=10_000, timeout_s=3)
    registered = {
        key: spec_for_type("city.camera.registered.v1").model.model_validate_json(value or b"")
        for key, headers, value in everything
        if headers["ce_type"] == b"city.camera.registered.v1"
    }
    assert {b"forest-01", b"forest-02", b"road-01", b"square-01"} <= set(registered)
    forest = registered[b"forest-01"]
    assert isinstance(forest, s.CameraRegistered)
    assert forest.camera_kind == s.CameraKind.FOREST and forest.hfov_deg > 0
    assert forest.location.coordinates == (105.88, 29.40)
    assert forest.presets == [90.0, 135.0, 180.0]
    first = (await service.client.get("/cameras/forest-01", headers=reader)).json()
    assert first["presets"] == [90.0, 135.0, 180.0] and first["status"] == "online"
    assert first["location"] == {"type": "Point", "coordinates": [105.88, 29.40]}
    assert first["last_frame_at"] is None and first["active_alarm_ids"] == []
    assert first["snapshot_url"] == "https://cams.yongchuan.example/ch/1/snapshot.jpg"
    assert_problem(
        await service.client.post("/cameras", json=camera("forest-01"), headers=admin), 409
    )

    forest = (await service.client.get("/cameras?kind=forest", headers=reader)).json()
    assert [c["id"] for c in forest["items"]] == ["forest-01", "forest-02"]
    online_forest = (
        await service.client.get("/cameras?kind=forest&status=online", headers=reader)
    ).json()
    assert [c["id"] for c in online_forest["items"]] == ["forest-01"]
    paged = (await service.client.get("/cameras?limit=2&offset=2", headers=reader)).json()
    assert paged["total"] == 4 and [c["id"] for c in paged["items"]] == ["road-01", "square-01"]
    assert_problem(
        await service.client.get("/cameras?kind=drone", headers=reader), 422, "query.kind"
    )
    assert_problem(await service.client.get("/cameras?limit=0", headers=reader), 422, "query.limit")

    assert (await service.client.delete("/cameras/square-01", headers=admin)).status_code == 204
    assert_problem(await service.client.get("/cameras/square-01", headers=reader), 404)
    assert_problem(await service.client.delete("/cameras/square-01", headers=admin), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "cam 1"}, "body.id"),
        ({"kind": "drone"}, "body.kind"),
        ({"heading_deg": 360.0}, "body.heading_deg"),
        ({"hfov_deg": 181}, "body.hfov_deg"),
        ({"elevation_m": "612"}, "body.elevation_m"),
        ({"presets": [10.0, 400.0]}, "body.presets.1"),
        ({"presets": [10.0, 10.0]}, "body.presets"),
        ({"snapshot_url": "file:///etc/passwd"}, "body.snapshot_url"),
        ({"status": "broken"}, "body.status"),
        (
            {"location": {"type": "Point", "coordinates": [200.0, 29.4]}},
            "body.location.coordinates.0",
        ),
        ({"zoom": 3}, "body.zoom"),
    ],
)
async def test_bad_cameras_name_the_field(service: Service, change: dict, field: str) -> None:
    response = await service.client.post(
        "/cameras", json=camera("cam-bad", **change), headers=service.auth("admin")
    )
    assert_problem(response, 422, field)


async def test_callers_need_a_token_and_the_right_role(service: Service) -> None:
    assert_problem(await service.client.get("/cameras"), 401)
    assert_problem(
        await service.client.get("/cameras", headers={"Authorization": "Bearer not-a-jwt"}), 401
    )
    assert_problem(await service.client.get("/cameras", headers=service.auth("citizen")), 403)
    assert_problem(
        await service.client.post(
            "/cameras", json=camera("cam-op"), headers=service.auth("operator")
        ),
        403,
    )
    ranger_frame = await service.client.post(
        "/cameras/forest-01/frames",
        params={"captured_at": datetime.now(UTC).isoformat()},
        content=png(4, 4),
        headers={**service.auth("ranger"), "content-type": "image/png"},
    )
    assert_problem(ranger_frame, 403)


async def test_bad_frames_are_refused_with_the_reason(service: Service) -> None:
    await service.client.post("/cameras", json=camera("gate-01"), headers=service.auth("admin"))
    good = png(16, 9)
    assert_problem(await send_frame(service, "gate-01", good, content_type="text/plain"), 415)
    assert_problem(await send_frame(service, "gate-01", good, content_type="image/gif"), 415)
    garbage = await send_frame(service, "gate-01", b"\x00" * 64)
    assert "neither a JPEG nor a PNG" in assert_problem(garbage, 422, "body")["detail"]
    assert_problem(await send_frame(service, "gate-01", b""), 422, "body")
    liar = await send_frame(service, "gate-01", good, content_type="image/jpeg")
    assert "not the declared image/jpeg" in assert_problem(liar, 422, "body")["detail"]
    assert_problem(
        await send_frame(service, "gate-01", jpeg(32, 16)[:30], content_type="image/jpeg"),
        422,
        "body",
    )

    now = datetime.now(UTC)
    future = await send_frame(service, "gate-01", good, captured_at=now + timedelta(minutes=6))
    assert "future" in assert_problem(future, 422, "query.captured_at")["detail"]
    stale = await send_frame(service, "gate-01", good, captured_at=now - timedelta(hours=25))
    assert_problem(stale, 422, "query.captured_at")
    naive = await service.client.post(
        "/cameras/gate-01/frames",
        params={"captured_at": "2026-11-23T08:00:00"},
        content=good,
        headers={**service.auth("service"), "content-type": "image/png"},
    )
    assert_problem(naive, 422, "query.captured_at")
    missing = await service.client.post(
        "/cameras/gate-01/frames",
        content=good,
        headers={**service.auth("service"), "content-type": "image/png"},
    )
    assert_problem(missing, 422, "query.captured_at")
    assert_problem(await send_frame(service, "gate-01", good, pan_deg=360), 422, "query.pan_deg")
    assert_problem(await send_frame(service, "nowhere", good), 404)

    limit = service.settings.max_frame_bytes
    just_over = png(8, 8, padding=limit)
    assert len(just_over) <= service.settings.max_body_bytes
    assert_problem(await send_frame(service, "gate-01", just_over), 413)
    assert_problem(await send_frame(service, "gate-01", png(8, 8, padding=3 * MIB)), 413)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"\x00" * (limit // 4)

    chunked = await service.client.post(
        "/cameras/gate-01/frames",
        params={"captured_at": now.isoformat()},
        content=chunks(),
        headers={**service.auth("service"), "content-type": "image/png"},
    )
    assert_problem(chunked, 413)
    assert_problem(
        await service.client.get("/cameras/gate-01/snapshot", headers=service.auth("operator")), 404
    )


async def test_an_accepted_frame_is_the_snapshot_and_goes_on_the_bus(service: Service) -> None:
    await service.client.post(
        "/cameras", json=camera("ridge-01", status="offline"), headers=service.auth("admin")
    )
    reader = service.auth("operator")
    now = datetime.now(UTC).replace(microsecond=0)
    first = png(320, 180)
    taken = await send_frame(service, "ridge-01", first, captured_at=now)
    assert taken.status_code == 202, taken.text
    assert taken.json() == {
        "camera_id": "ridge-01",
        "camera_kind": "forest",
        "content_type": "image/png",
        "width": 320,
        "height": 180,
        "bytes": len(first),
        "captured_at": now.isoformat().replace("+00:00", "Z"),
        "pan_deg": 135.0,  # the camera's heading
    }
    # A bigger JPEG frame, turned to a preset, near the size limit.
    second = jpeg(1920, 1080) + b"\x00" * (3 * MIB // 2)
    later = now + timedelta(seconds=2)
    taken = await send_frame(
        service, "ridge-01", second, content_type="image/jpeg", captured_at=later, pan_deg=90.5
    )
    assert taken.status_code == 202, taken.text
    assert taken.json()["width"] == 1920 and taken.json()["pan_deg"] == 90.5
    # A frame that arrives late does not replace the fresher snapshot.
    late = await send_frame(service, "ridge-01", png(8, 8), captured_at=now - timedelta(minutes=1))
    assert late.status_code == 202

    shot = await service.client.get("/cameras/ridge-01/snapshot", headers=reader)
    assert shot.status_code == 200
    assert shot.headers["content-type"] == "image/jpeg" and shot.content == second
    assert shot.headers["cache-control"] == "no-store"
    ridge = (await service.client.get("/cameras/ridge-01", headers=reader)).json()
    assert datetime.fromisoformat(ridge["last_frame_at"]) == later
    assert ridge["status"] == "online", "a frame brings an offline camera back online"

    frames = await read_topic(service.prefix + "camera.frames", expected=3)
    assert len(frames) == 3
    by_value = {value: (key, headers) for key, headers, value in frames}
    assert second in by_value, "the 1.5 MiB frame went through the frame topic"
    key, headers = by_value[second]
    assert key == b"ridge-01"
    assert headers["ce_type"] == b"city.camera.frame.captured.v1"
    assert headers["content-type"] == b"image/jpeg"
    assert headers["ce_cameraid"] == b"ridge-01" and headers["ce_camerakind"] == b"forest"
    assert float(headers["ce_panazimuth"]) == 90.5
    assert datetime.fromisoformat(headers["ce_capturedat"].decode()) == later
    assert first in by_value

    # The topic also carries the cameras' registrations: read what is there.
    everything = await read_topic(service.prefix + "camera.status", expected=10_000, timeout_s=3)
    status = [m for m in everything if m[1]["ce_type"] != b"city.camera.registered.v1"]
    assert [(k, h["ce_type"]) for k, h, _ in status] == [(b"ridge-01", b"city.camera.online.v1")]
    online = spec_for_type("city.camera.online.v1").model.model_validate_json(status[0][2] or b"")
    assert isinstance(online, s.CameraStatusChanged) and online.last_frame_at == now


async def test_fire_alarms_on_a_camera_show_until_they_end(service: Service) -> None:
    await service.client.post("/cameras", json=camera("tower-07"), headers=service.auth("admin"))
    reader = service.auth("operator")
    topic = service.prefix + "fire.alarms"
    raised_at = datetime.now(UTC)

    def raised(alarm_id: str, camera_id: str | None) -> s.FireAlarmRaised:
        return s.FireAlarmRaised(
            alarm_id=alarm_id,
            camera_id=camera_id,
            raised_at=raised_at,
            location=GeoPoint.of(105.89, 29.41),
            uncertainty_m=150.0,
            confidence=0.87,
            danger_level=4,
            kind="smoke",
        )

    async def active() -> list[str]:
        got = await service.client.get("/cameras/tower-07", headers=reader)
        return got.json()["active_alarm_ids"]

    await ensure_topics(KAFKA_BOOTSTRAP, [topic])
    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-video")
    await publisher.start()
    try:
        spec = spec_for_type("city.fire.alarm.raised.v1")
        for alarm in (raised("fa-elsewhere", "tower-99"), raised("fa-ranger", None)):
            key, event = spec.build(alarm, source="/test")
            await publisher.publish(topic, key, event)
        key, event = spec.build(raised("fa-1", "tower-07"), source="/test")
        await publisher.publish(topic, key, event)
        await publisher.publish(topic, key, event)  # redelivered
        key, event = spec.build(raised("fa-2", "tower-07"), source="/test")
        await publisher.publish(topic, key, event)

        async def both_active_and_duplicate_absorbed() -> bool:
            return (
                await active() == ["fa-1", "fa-2"]
                and (consumed((await service.client.get("/metrics")).text, topic, "duplicate")) >= 1
            )

        await wait_until(both_active_and_duplicate_absorbed)
        listed = (await service.client.get("/cameras?kind=forest", headers=reader)).json()
        assert {c["id"]: c["active_alarm_ids"] for c in listed["items"]}["tower-07"] == [
            "fa-1",
            "fa-2",
        ]

        dismissed = s.FireAlarmStatusChanged(
            alarm_id="fa-1",
            status=s.FireAlarmStatus.DISMISSED,
            at=raised_at + timedelta(minutes=3),
            actor="ranger-5",
            note="steam from a kiln",
            location=GeoPoint.of(105.89, 29.41),
        )
        key, event = spec_for_type("city.fire.alarm.dismissed.v1").build(dismissed, source="/t")
        await publisher.publish(topic, key, event)

        async def only_the_second_is_active() -> bool:
            return await active() == ["fa-2"]

        await wait_until(only_the_second_is_active)
    finally:
        await publisher.stop()


async def test_a_frame_can_come_as_a_multipart_form(service: Service) -> None:
    made = await service.client.post(
        "/cameras", json=camera("form-01"), headers=service.auth("admin")
    )
    assert made.status_code == 201, made.text
    source = service.auth("service", subject="gateway-3")
    params = {"captured_at": datetime.now(UTC).isoformat()}
    image = jpeg(640, 480)
    taken = await service.client.post(
        "/cameras/form-01/frames",
        params=params,
        files={"frame": ("tower.jpg", image, "image/jpeg")},
        data={"note": "from a camera gateway"},
        headers=source,
    )
    assert taken.status_code == 202, taken.text
    assert taken.json()["content_type"] == "image/jpeg" and taken.json()["bytes"] == len(image)
    shot = await service.client.get("/cameras/form-01/snapshot", headers=service.auth("operator"))
    assert shot.content == image

    no_frame = await service.client.post(
        "/cameras/form-01/frames", params=params, data={"note": "x"}, headers=source
    )
    # httpx sends a form without files url-encoded: that is no frame type at all.
    assert_problem(no_frame, 415)
    two_files = await service.client.post(
        "/cameras/form-01/frames",
        params=params,
        files=[("a", ("a.jpg", image, "image/jpeg")), ("b", ("b.jpg", image, "image/jpeg"))],
        headers=source,
    )
    assert_problem(two_files, 422, "body")
    text_part = await service.client.post(
        "/cameras/form-01/frames",
        params=params,
        files={"frame": ("f.txt", b"hello", "text/plain")},
        headers=source,
    )
    assert_problem(text_part, 415)
    huge = await service.client.post(
        "/cameras/form-01/frames",
        params=params,
        files={"frame": ("f.jpg", image + b"\x00" * (2 * MIB), "image/jpeg")},
        headers=source,
    )
    assert_problem(huge, 413)
