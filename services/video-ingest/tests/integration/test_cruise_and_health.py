"""The snapshot cruise, camera health and the camera map, against the real stack.

The cameras are a small local HTTP server: one that answers at once, one that hangs
past the timeout, one that sends garbage and one that is out of service.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from camera_images import jpeg, png
from fastapi import FastAPI, Response

from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.runtime import Runtime
from city_common.testing import (
    assert_problem,
    bearer,
    metric_value,
    migrated_database,
    read_topic,
    running_app,
    served,
    settings_for_test,
    unique,
    wait_until,
)
from video_ingest.adapters.snapshots import HttpSnapshotSource
from video_ingest.bootstrap import create_app
from video_ingest.config import Settings, health_policy
from video_ingest.entrypoints.background import sweep_until_done
from video_ingest.service_layer.cruise import Cruise

pytestmark = pytest.mark.integration

TIMEOUT_S = 4.0


class FakeCameras:
    """Snapshot endpoints of a few cameras, as a real HTTP server serves them."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.served: list[bytes] = []
        self._widths = itertools.count(640)
        self.app = FastAPI()
        self.app.get("/good/snapshot.jpg")(self.good)
        self.app.get("/hang/snapshot.jpg")(self.hang)
        self.app.get("/garbage/snapshot.jpg")(self.garbage)
        self.app.get("/broken/snapshot.jpg")(self.broken)
        self.app.get("/octet/snapshot")(self.octet)

    async def good(self) -> Response:
        # Every frame differs, so the topic shows which poll sent which.
        image = jpeg(next(self._widths), 360)
        self.served.append(image)
        return Response(image, media_type="image/jpeg")

    async def hang(self) -> Response:
        # Far past the poll timeout; released when the test ends.
        try:
            await asyncio.wait_for(self.release.wait(), 60)
        except TimeoutError:
            pass
        return Response(png(4, 4), media_type="image/png")

    async def garbage(self) -> Response:
        return Response(b"<html>please log in</html>", media_type="image/jpeg")

    async def broken(self) -> Response:
        return Response(b"busy", status_code=503, media_type="text/plain")

    async def octet(self) -> Response:
        return Response(png(32, 24), media_type="application/octet-stream")


@dataclass
class Service:
    client: httpx.AsyncClient
    settings: Settings
    prefix: str
    runtime: Runtime
    cameras: FakeCameras
    camera_url: str
    database: str

    def auth(self, *roles: str) -> dict[str, str]:
        return bearer(self.settings, *roles)

    @property
    def cruise(self) -> Cruise:
        cruise: Cruise = self.runtime.state["cruise"]
        return cruise

    async def register(self, ident: str, **change: object) -> dict:
        made = await self.client.post(
            "/cameras", json=camera(ident, **change), headers=self.auth("admin")
        )
        assert made.status_code == 201, made.text
        return made.json()

    async def camera(self, ident: str) -> dict:
        got = await self.client.get(f"/cameras/{ident}", headers=self.auth("operator"))
        assert got.status_code == 200, got.text
        return got.json()

    async def polls(self, outcome: str) -> float:
        page = (await self.client.get("/metrics")).text
        return metric_value(page, "camera_snapshot_polls_total", outcome=outcome)


def camera(ident: str, **change: object) -> dict:
    return {
        "id": ident,
        "kind": "forest",
        # West of the district, outside the boxes the camera-map test draws.
        "location": {"type": "Point", "coordinates": [105.70, 29.10]},
        "elevation_m": 612.5,
        "heading_deg": 135.0,
        "hfov_deg": 58.0,
        "presets": [],
        **change,
    }


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[Service]:
    url = await migrated_database("video_ingest", f"test_video_cruise_{uuid.uuid4().hex[:8]}")
    prefix = unique("vic") + "."
    # The loops are off: each test drives a cruise step or a health sweep with its own
    # clock. The app still builds the cruise (its HTTP client, its metrics).
    settings = settings_for_test(
        Settings,
        url,
        topic_prefix=prefix,
        cruise_enabled=False,
        health_sweep_enabled=False,
        cruise_timeout_s=TIMEOUT_S,
    )
    cameras = FakeCameras()
    app = create_app(settings)
    async with served(cameras.app) as camera_url, running_app(app) as client:
        try:
            yield Service(client, settings, prefix, app.state.runtime, cameras, camera_url, url)
        finally:
            cameras.release.set()


async def test_the_cruise_tours_the_presets_and_a_hanging_camera_delays_nobody(
    service: Service,
) -> None:
    base = service.camera_url
    good_camera = await service.register(
        "cruise-good", presets=[90.0, 135.0, 180.0], snapshot_url=f"{base}/good/snapshot.jpg"
    )
    # Due from registration on, then every interval after, keeping to that cadence.
    registered = datetime.fromisoformat(good_camera["next_poll_at"])
    await service.register("cruise-hang", presets=[0.0], snapshot_url=f"{base}/hang/snapshot.jpg")
    await service.register(
        "cruise-garbage", presets=[45.0, 90.0], snapshot_url=f"{base}/garbage/snapshot.jpg"
    )
    await service.register("cruise-pushed")  # no snapshot URL: never polled
    t0 = datetime.now(UTC)

    first = await service.cruise.start_due(t0)
    by_camera = {task.get_name(): task for task in first}
    assert set(by_camera) == {"poll cruise-good", "poll cruise-hang", "poll cruise-garbage"}
    hang = by_camera["poll cruise-hang"]
    good, garbage = await asyncio.gather(
        by_camera["poll cruise-good"], by_camera["poll cruise-garbage"]
    )
    assert (good.outcome, good.pan_deg) == ("frame", 90.0)
    assert garbage.outcome == "rejected" and "neither a JPEG nor a PNG" in (garbage.error or "")
    assert not hang.done(), "the hanging camera is still waiting for its answer"

    # The good camera's next pose is due one interval later; the hanging one is still
    # in flight (and leased), the garbage one backs off: neither holds it up.
    second = await service.cruise.cruise_once(t0 + timedelta(seconds=10))
    assert [(o.camera_id, o.outcome, o.pan_deg) for o in second] == [
        ("cruise-good", "frame", 135.0)
    ]
    # A second process (another replica, or this one restarted) carries on the tour
    # from the database.
    async with httpx.AsyncClient() as client:
        replica = Cruise(
            service.runtime.uow,
            HttpSnapshotSource(client, timeout_s=TIMEOUT_S, max_bytes=1024 * 1024),
            health=health_policy(service.settings),
            interval_s=service.settings.cruise_interval_s,
            timeout_s=TIMEOUT_S,
            concurrency=4,
        )
        third = await replica.cruise_once(t0 + timedelta(seconds=20))
    assert sorted((o.camera_id, o.outcome, o.pan_deg) for o in third) == [
        ("cruise-garbage", "rejected", 90.0),
        ("cruise-good", "frame", 180.0),
    ]
    assert not hang.done(), "three polls of the good camera fit in the hanging one's timeout"

    timed_out = await hang
    assert timed_out.outcome == "timeout" and f"within {TIMEOUT_S:g} s" in (timed_out.error or "")

    frames = await read_topic(service.prefix + "camera.frames", expected=3)
    assert [key for key, _, _ in frames] == [b"cruise-good"] * 3
    assert [float(h["ce_panazimuth"]) for _, h, _ in frames] == [90.0, 135.0, 180.0]
    assert [value for _, _, value in frames] == service.cameras.served
    assert all(h["content-type"] == b"image/jpeg" for _, h, _ in frames)
    captured = [datetime.fromisoformat(h["ce_capturedat"].decode()) for _, h, _ in frames]
    assert captured == sorted(captured) and captured[0] >= t0

    reader = service.auth("operator")
    shot = await service.client.get("/cameras/cruise-good/snapshot", headers=reader)
    assert shot.content == service.cameras.served[-1]
    good_now = await service.camera("cruise-good")
    assert good_now["poll_failures"] == 0 and good_now["last_poll_error"] is None
    assert datetime.fromisoformat(good_now["next_poll_at"]) == registered + timedelta(seconds=30)
    assert datetime.fromisoformat(good_now["last_frame_at"]) == captured[-1]
    hang_now = await service.camera("cruise-hang")
    assert hang_now["poll_failures"] == 1 and "no snapshot within" in hang_now["last_poll_error"]
    assert hang_now["last_frame_at"] is None
    garbage_now = await service.camera("cruise-garbage")
    assert garbage_now["poll_failures"] == 2
    assert "neither a JPEG nor a PNG" in garbage_now["last_poll_error"]
    assert (await service.camera("cruise-pushed"))["next_poll_at"] is None

    # The service counts its own polls; the replica's third round is not among them.
    assert await service.polls("frame") == 2
    assert await service.polls("timeout") == 1
    assert await service.polls("rejected") == 1


async def test_replicas_never_poll_the_same_camera_twice(service: Service) -> None:
    base = service.camera_url
    idents = [f"replica-{i}" for i in range(6)]
    for ident in idents:
        await service.register(ident, snapshot_url=f"{base}/octet/snapshot", presets=[10.0])
    await service.register("replica-broken", snapshot_url=f"{base}/broken/snapshot.jpg")
    now = datetime.now(UTC)
    async with httpx.AsyncClient() as client:
        source = HttpSnapshotSource(client, timeout_s=TIMEOUT_S, max_bytes=1024 * 1024)
        replicas = [
            Cruise(
                service.runtime.uow,
                source,
                health=health_policy(service.settings),
                interval_s=10.0,
                timeout_s=TIMEOUT_S,
                concurrency=4,
            )
            for _ in range(2)
        ]
        # Both claim at once; each takes at most four (its free slots).
        a, b = await asyncio.gather(*(r.start_due(now) for r in replicas))
        outcomes = await asyncio.gather(*a, *b)
    polled = [o.camera_id for o in outcomes if o.camera_id.startswith("replica-")]
    assert len(polled) == len(set(polled)) == 7, "each camera once, across both replicas"
    assert len(a) <= 4 and len(b) <= 4
    broken = next(o for o in outcomes if o.camera_id == "replica-broken")
    assert broken.outcome == "http_error" and "HTTP 503" in (broken.error or "")
    # application/octet-stream PNGs are told by their bytes and accepted.
    assert {o.outcome for o in outcomes if o.camera_id in idents} == {"frame"}
    again = await service.cruise.cruise_once(now + timedelta(seconds=1))
    assert not [o for o in again if o.camera_id.startswith("replica-")], "none due yet"


async def test_a_silent_camera_goes_offline_once_and_comes_back_with_a_frame(
    service: Service,
) -> None:
    registered = datetime.now(UTC)
    pushed = await service.register("health-push", expected_interval_s=20.0)
    await service.register("health-quiet")  # no schedule at all: never judged
    due_by = datetime.fromisoformat(pushed["frame_due_by"])
    assert registered + timedelta(seconds=60) <= due_by <= datetime.now(UTC) + timedelta(seconds=60)
    assert (await service.camera("health-quiet"))["frame_due_by"] is None

    # Two missed frames are not yet an outage.
    early = await sweep_until_done(service.runtime, registered + timedelta(seconds=50))
    assert "health-push" not in early
    assert (await service.camera("health-push"))["status"] == "online"

    later = registered + timedelta(minutes=5)
    went = await sweep_until_done(service.runtime, later)
    assert "health-push" in went and "health-quiet" not in went
    assert (await service.camera("health-push"))["status"] == "offline"
    assert (await service.camera("health-quiet"))["status"] == "online"
    assert "health-push" not in await sweep_until_done(service.runtime, later + timedelta(hours=1))
    filtered = await service.client.get(
        "/cameras?status=offline&kind=forest", headers=service.auth("operator")
    )
    assert "health-push" in [c["id"] for c in filtered.json()["items"]]

    frame = await service.client.post(
        "/cameras/health-push/frames",
        params={"captured_at": datetime.now(UTC).isoformat()},
        content=png(8, 8),
        headers={**service.auth("service"), "content-type": "image/png"},
    )
    assert frame.status_code == 202, frame.text
    back = await service.camera("health-push")
    assert back["status"] == "online"
    assert datetime.fromisoformat(back["frame_due_by"]) > datetime.now(UTC)
    assert "health-push" not in await sweep_until_done(service.runtime, datetime.now(UTC))

    topic = service.prefix + "camera.status"

    async def announced() -> list[tuple[bytes, s.CameraStatusChanged]]:
        raw = await read_topic(topic, expected=1_000, timeout_s=3)
        out = []
        for key, headers, value in raw:
            # The camera's registration is on the topic too; only status changes count.
            if key == b"health-push" and headers["ce_type"] != b"city.camera.registered.v1":
                spec = spec_for_type(headers["ce_type"].decode())
                payload = spec.model.model_validate_json(value or b"")
                assert isinstance(payload, s.CameraStatusChanged)
                out.append((headers["ce_type"], payload))
        return out

    events: list[tuple[bytes, s.CameraStatusChanged]] = []

    async def both_arrived() -> bool:
        events[:] = await announced()
        return len(events) >= 2

    await wait_until(both_arrived)
    assert [t for t, _ in events] == [b"city.camera.offline.v1", b"city.camera.online.v1"]
    offline, online = events[0][1], events[1][1]
    assert offline.status == "offline" and offline.since == due_by
    assert offline.last_frame_at is None and offline.camera_kind is s.CameraKind.FOREST
    assert online.status == "online" and online.last_frame_at is not None


async def test_the_camera_list_filters_by_place_and_speaks_geojson(service: Service) -> None:
    for ident, lon, lat, kind in (
        ("map-chashan", 105.835, 29.452, "forest"),
        ("map-jishan", 105.975, 29.292, "forest"),
        ("map-renmin", 105.9265, 29.3551, "traffic"),
        ("map-far", 106.60, 29.60, "traffic"),
    ):
        await service.register(
            ident, kind=kind, location={"type": "Point", "coordinates": [lon, lat]}
        )
    reader = service.auth("ranger")

    async def ids(query: str) -> list[str]:
        got = await service.client.get(f"/cameras?{query}&limit=500", headers=reader)
        assert got.status_code == 200, got.text
        return [c["id"] for c in got.json()["items"] if c["id"].startswith("map-")]

    assert await ids("bbox=105.9,29.3,106.0,29.4") == ["map-renmin"]
    assert await ids("bbox=105.8,29.2,106.0,29.5&kind=forest") == ["map-chashan", "map-jishan"]
    # Nearest first from the city centre; the radius keeps the district only.
    assert await ids("near_lon=105.93&near_lat=29.35") == [
        "map-renmin",
        "map-jishan",
        "map-chashan",
        "map-far",
    ]
    assert await ids("near_lon=105.93&near_lat=29.35&radius_m=20000") == [
        "map-renmin",
        "map-jishan",
        "map-chashan",
    ]
    assert await ids("near_lon=105.93&near_lat=29.35&radius_m=1000") == ["map-renmin"]

    geo = await service.client.get(
        "/cameras.geojson?bbox=105.8,29.2,106.0,29.5&kind=forest&limit=1&offset=1",
        headers=reader,
    )
    assert geo.status_code == 200, geo.text
    assert geo.headers["content-type"].startswith("application/geo+json")
    collection = geo.json()
    assert collection["type"] == "FeatureCollection"
    assert (collection["total"], collection["limit"], collection["offset"]) == (2, 1, 1)
    (feature,) = collection["features"]
    assert feature["type"] == "Feature" and feature["id"] == "map-jishan"
    assert feature["geometry"] == {"type": "Point", "coordinates": [105.975, 29.292]}
    assert feature["properties"]["kind"] == "forest"
    assert feature["properties"]["status"] == "online"
    assert "location" not in feature["properties"]

    for query, field in (
        ("bbox=1,2,3", "query.bbox"),
        ("bbox=106,29,105,30", "query.bbox"),
        ("bbox=105,29,106,91", "query.bbox"),
        ("near_lon=105.9", "query.near_lat"),
        ("near_lat=29.3", "query.near_lon"),
        ("radius_m=100", "query.radius_m"),
        ("near_lon=105.9&near_lat=29.3&radius_m=0", "query.radius_m"),
        ("near_lon=181&near_lat=29.3", "query.near_lon"),
        ("status=lost", "query.status"),
    ):
        for path in ("/cameras", "/cameras.geojson"):
            assert_problem(await service.client.get(f"{path}?{query}", headers=reader), 422, field)
    assert_problem(await service.client.get("/cameras.geojson"), 401)

    bad_interval = await service.client.post(
        "/cameras",
        json=camera("map-bad", expected_interval_s=0),
        headers=service.auth("admin"),
    )
    assert_problem(bad_interval, 422, "body.expected_interval_s")
    bad_cruise = await service.client.post(
        "/cameras", json=camera("map-bad", cruise_interval_s=0.5), headers=service.auth("admin")
    )
    assert_problem(bad_cruise, 422, "body.cruise_interval_s")


async def test_the_background_loops_cruise_and_watch_on_their_own() -> None:
    """The loops as deployed: a hanging camera does not hold up the good one's tour,
    and a camera that stops pushing goes offline without anyone driving a sweep."""
    url = await migrated_database("video_ingest", f"test_video_loops_{uuid.uuid4().hex[:8]}")
    settings = settings_for_test(
        Settings,
        url,
        topic_prefix=unique("vil") + ".",
        cruise_interval_s=0.3,
        cruise_tick_s=0.05,
        cruise_timeout_s=TIMEOUT_S,
        health_sweep_interval_s=0.1,
        offline_after_intervals=2.0,
    )
    cameras = FakeCameras()
    app = create_app(settings)
    async with served(cameras.app) as base, running_app(app) as client:
        try:
            admin, reader = bearer(settings, "admin"), bearer(settings, "operator")
            for ident, path in (("loop-hang", "hang"), ("loop-good", "good")):
                made = await client.post(
                    "/cameras",
                    json=camera(
                        ident, presets=[10.0, 20.0], snapshot_url=f"{base}/{path}/snapshot.jpg"
                    ),
                    headers=admin,
                )
                assert made.status_code == 201, made.text
            made = await client.post(
                "/cameras", json=camera("loop-push", expected_interval_s=0.2), headers=admin
            )
            assert made.status_code == 201
            started = asyncio.get_running_loop().time()

            async def toured_and_judged() -> bool:
                push = (await client.get("/cameras/loop-push", headers=reader)).json()
                return len(cameras.served) >= 4 and push["status"] == "offline"

            await wait_until(toured_and_judged, timeout_s=TIMEOUT_S - 0.5, interval_s=0.05)
            assert asyncio.get_running_loop().time() - started < TIMEOUT_S
            hang = (await client.get("/cameras/loop-hang", headers=reader)).json()
            assert hang["poll_failures"] == 0 and hang["last_polled_at"] is None, (
                "the hanging camera's first poll has not even timed out yet"
            )
        finally:
            cameras.release.set()
