"""Forest fire, camera to responder, across video-ingest, fire-detect and grid-events,
through the gateway of the platform `make run` started: a forest camera's frames
raise a located alarm with its nearest resources and plan, every subscriber whose
area it falls in is notified, the grid command centre gets a forestry case, and the
lifecycle runs to closed; a camera showing fire colours without fire raises nothing."""

from __future__ import annotations

import json
import random
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from city_common.auth import issue_token
from city_common.settings import ServiceSettings
from city_common.testing import free_port
from fire_detect.domain.location import destination, pixel_bearing

from .conftest import REPO, Platform, poll

sys.path.insert(0, str(REPO / "services" / "fire-detect" / "tests"))
from fire_scenes import W, fire_sequence, quiet_sequence  # noqa: E402

# A tower in the south-west of the demo town Chashan Zhuhai, looking north-east: the
# alarm is placed half-way along the camera's view (7.6 km), inside the town's
# north-east grid cell (105.83-105.88 E, 29.45-29.50 N). A different place each run:
# grid-events merges fires within 200 m and an hour into one case, and a case left
# open by an interrupted earlier run on the same database must not absorb this one.
TOWER = (round(random.uniform(105.788, 105.800), 5), round(random.uniform(29.413, 29.421), 5))
BEARING = 45.0
HFOV = 60.0
FIRE_COLUMN = 200
TOWN = [[105.78, 29.40], [105.88, 29.40], [105.88, 29.50], [105.78, 29.50], [105.78, 29.40]]
ELSEWHERE = [[105.90, 29.33], [105.95, 29.33], [105.95, 29.38], [105.90, 29.38], [105.90, 29.33]]


class Receiver:
    """The subscribers' webhook endpoint: a plain HTTP server in a thread."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
                length = int(self.headers.get("content-length", "0"))
                received.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def square(lon: float, lat: float, half: float) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def feature(id_: str, kind: str, name: str, geometry: dict[str, Any], **extra: Any) -> dict:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"id": id_, "kind": kind, "name": name, **extra},
    }


def push_frames(api: httpx.Client, camera: str, pan: float, frames: list[bytes]) -> None:
    token = issue_token(ServiceSettings(), "e2e-camera-gateway", ["service"], ttl_s=600)
    t0 = datetime.now(UTC) - timedelta(seconds=len(frames) + 1)
    for i, image in enumerate(frames):
        taken = api.post(
            f"/video-ingest/cameras/{camera}/frames",
            params={"captured_at": (t0 + timedelta(seconds=i)).isoformat(), "pan_deg": pan},
            content=image,
            headers={"Authorization": f"Bearer {token}", "content-type": "image/jpeg"},
        )
        assert taken.status_code == 202, taken.text


def test_a_camera_fire_is_located_planned_notified_dispatched_and_closed(
    platform: Platform, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    fire_camera, quiet_camera = f"e2e-tower-{run}", f"e2e-quiet-{run}"
    fire_lon, fire_lat = destination(*TOWER, BEARING, 7_600.0)
    with httpx.Client(
        base_url=f"{platform.gateway}/api/v1", timeout=20, headers=platform.headers()
    ) as api:
        # The towers, registered once in video-ingest: fire-detect learns their place
        # and field of view from the registration event.
        for camera in (fire_camera, quiet_camera):
            created = api.post(
                "/video-ingest/cameras",
                json={
                    "id": camera,
                    "kind": "forest",
                    "location": point(*TOWER),
                    "elevation_m": 820.0,
                    "heading_deg": BEARING,
                    "hfov_deg": HFOV,
                    "presets": [BEARING],
                },
            )
            assert created.status_code == 201, created.text
            poll(
                lambda camera=camera: api.get(f"/fire-detect/cameras/{camera}/view"),
                lambda got: got.status_code == 200 and got.json()["hfov_deg"] == HFOV,
            )

        # The forest around the fire, imported as GeoJSON.
        resources = {
            "type": "FeatureCollection",
            "features": [
                feature(
                    f"e2e-pond-{run}", "water_source", "Pond", point(fire_lon + 0.003, fire_lat)
                ),
                feature(
                    f"e2e-track-{run}",
                    "road_access",
                    "Fire track",
                    point(fire_lon, fire_lat - 0.004),
                ),
                feature(f"e2e-station-{run}", "ranger_station", "Station", point(*TOWER)),
                feature(
                    f"e2e-village-{run}",
                    "village",
                    "Bamboo village",
                    point(fire_lon + 0.006, fire_lat),
                ),
                feature(
                    f"e2e-compartment-{run}",
                    "forest_compartment",
                    "Compartment",
                    square(fire_lon, fire_lat, 0.04),
                ),
            ],
        }
        imported = api.post("/fire-detect/resources/import", json=resources)
        assert imported.status_code == 200, imported.text
        assert imported.json()["rejected"] == []

        # Twenty-two people answer for the town; one for a town far away.
        inside = []
        for k in range(22):
            sub = api.post(
                "/fire-detect/subscriptions",
                json={
                    "person": f"Responder {k}",
                    "role": "ranger" if k % 2 else "forestry_chief",
                    "area": {"type": "Polygon", "coordinates": [TOWN]},
                    "channel": "webhook",
                    "target": receiver.url(f"/hook/{run}/{k}"),
                },
            )
            assert sub.status_code == 201, sub.text
            inside.append(sub.json()["id"])
        outside = api.post(
            "/fire-detect/subscriptions",
            json={
                "person": "Elsewhere",
                "role": "ranger",
                "area": {"type": "Polygon", "coordinates": [ELSEWHERE]},
                "channel": "webhook",
                "target": receiver.url(f"/hook/{run}/elsewhere"),
            },
        )
        assert outside.status_code == 201, outside.text

        # The flame burns at column 200 of 320: pan so that column looks along BEARING.
        pan = (BEARING - pixel_bearing(0.0, HFOV, W, float(FIRE_COLUMN))) % 360.0
        push_frames(api, fire_camera, pan, fire_sequence(7, FIRE_COLUMN))
        push_frames(api, quiet_camera, BEARING, quiet_sequence(8))

        def alarms_of(camera: str) -> list[dict[str, Any]]:
            page = api.get("/fire-detect/alarms", params={"camera_id": camera, "limit": 50})
            assert page.status_code == 200, page.text
            return list(page.json()["items"])

        (alarm,) = poll(lambda: alarms_of(fire_camera), lambda a: len(a) == 1)
        alarm_id = alarm["id"]
        detail = api.get(f"/fire-detect/alarms/{alarm_id}").json()
        lon, lat = detail["location"]["coordinates"]
        assert abs(lon - fire_lon) < 0.02 and abs(lat - fire_lat) < 0.02, detail["location"]
        nearest = detail["resources"]["nearest"]
        assert {"water_source", "road_access", "ranger_station", "village"} <= set(nearest)
        assert nearest["water_source"]["distance_m"] < 2_000
        # This run's compartment, or an earlier run's on the same database (they overlap).
        assert detail["resources"]["compartment"]["id"].startswith("e2e-compartment-")
        plan = detail["plan"]
        assert plan["teams"] and plan["water_sources"] and plan["notify"]
        evidence = api.get(f"/fire-detect{detail['links']['evidence']}")
        assert evidence.status_code == 200
        assert evidence.headers["content-type"] == "image/jpeg"
        cap = api.get(f"/fire-detect/alarms/{alarm_id}/cap")
        assert cap.status_code == 200 and alarm_id in cap.text
        assert cap.headers["content-type"].startswith("application/cap+xml")

        # Each of the 22 got the alarm once; the subscriber elsewhere did not.
        def sent() -> list[dict[str, Any]]:
            listed = api.get(f"/fire-detect/alarms/{alarm_id}/deliveries")
            assert listed.status_code == 200, listed.text
            return [d for d in listed.json() if d["status"] == "sent"]

        delivered = poll(sent, lambda ds: {d["subscription_id"] for d in ds} >= set(inside))
        assert outside.json()["id"] not in {d["subscription_id"] for d in delivered}
        hooks = [r for r in receiver.received if r["path"].startswith(f"/hook/{run}/")]
        assert sorted(r["path"] for r in hooks) == sorted(f"/hook/{run}/{k}" for k in range(22))
        assert all(r["body"]["alarm_id"] == alarm_id for r in hooks)

        # The command centre has a forestry case in the right cell, already dispatched.
        def fire_case() -> dict[str, Any] | None:
            page = api.get("/grid-events/cases", params={"category": "forest_fire", "limit": 500})
            return next((c for c in page.json()["items"] if c["source_ref"] == alarm_id), None)

        case = poll(fire_case, lambda c: c is not None)
        assert case["cell_id"] == "chashanzhuhai-ne"
        assert case["department"] == "forestry" and case["status"] == "dispatched"
        assert case["due_at"] is not None

        for step in ("verified", "dispatched", "on_scene", "extinguished", "closed"):
            moved = api.post(f"/fire-detect/alarms/{alarm_id}/transitions", json={"status": step})
            assert moved.status_code == 201, (step, moved.text)
        assert (
            api.post(
                f"/fire-detect/alarms/{alarm_id}/transitions", json={"status": "on_scene"}
            ).status_code
            == 409
        )
        closed = poll(
            lambda: api.get(f"/grid-events/cases/{case['id']}").json(),
            lambda c: c["status"] == "closed",
        )
        assert closed["closed_at"] is not None
        kpis = api.get(f"/fire-detect/alarms/{alarm_id}").json()["kpis"]
        assert kpis["alarm_to_extinguished_s"] >= kpis["alarm_to_verification_s"] >= 0

        # Fire colours without fire: all ten frames analysed, and no alarm.
        def frames_seen() -> int:
            got = api.get(f"/fire-detect/cameras/{quiet_camera}/frame-stats")
            return int(got.json()["frames_seen"]) if got.status_code == 200 else 0

        poll(frames_seen, lambda n: n == 10)
        assert alarms_of(quiet_camera) == []
