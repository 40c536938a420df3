"""Changing a registered camera, and grid cells, against the real stack."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from camera_images import jpeg
from fastapi import FastAPI, Response

from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.runtime import Runtime
from city_common.testing import (
    assert_problem,
    bearer,
    migrated_database,
    read_topic,
    running_app,
    served,
    settings_for_test,
    unique,
    wait_until,
)
from video_ingest.bootstrap import create_app
from video_ingest.config import Settings
from video_ingest.service_layer.cruise import Cruise

pytestmark = pytest.mark.integration

REGISTERED = b"city.camera.registered.v1"


@dataclass
class Service:
    client: httpx.AsyncClient
    settings: Settings
    prefix: str
    runtime: Runtime
    camera_url: str

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

    async def patch(self, ident: str, body: dict) -> dict:
        changed = await self.client.patch(
            f"/cameras/{ident}", json=body, headers=self.auth("admin")
        )
        assert changed.status_code == 200, changed.text
        got = await self.client.get(f"/cameras/{ident}", headers=self.auth("operator"))
        assert got.json() == changed.json(), "the change is stored as answered"
        return changed.json()

    async def registrations(self, ident: str) -> list[s.CameraRegistered]:
        raw = await read_topic(self.prefix + "camera.status", expected=10_000, timeout_s=2)
        out = []
        # The topic carries status changes too: only registrations count here.
        for key, headers, value in raw:
            if key == ident.encode() and headers["ce_type"] == REGISTERED:
                payload = spec_for_type(REGISTERED.decode()).model.model_validate_json(value or b"")
                assert isinstance(payload, s.CameraRegistered)
                out.append(payload)
        return out


def camera(ident: str, **change: object) -> dict:
    return {
        "id": ident,
        "kind": "forest",
        "location": {"type": "Point", "coordinates": [105.88, 29.40]},
        "elevation_m": 612.5,
        "heading_deg": 135.0,
        "hfov_deg": 58.0,
        "presets": [90.0, 135.0],
        **change,
    }


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[Service]:
    url = await migrated_database("video_ingest", f"test_video_upd_{uuid.uuid4().hex[:8]}")
    prefix = unique("viu") + "."
    # Each test drives the cruise itself, with its own clock.
    settings = settings_for_test(
        Settings, url, topic_prefix=prefix, cruise_enabled=False, health_sweep_enabled=False
    )
    cameras = FastAPI()

    @cameras.get("/snapshot.jpg")
    async def snapshot() -> Response:
        return Response(jpeg(64, 48), media_type="image/jpeg")

    app = create_app(settings)
    async with served(cameras) as camera_url, running_app(app) as client:
        yield Service(client, settings, prefix, app.state.runtime, f"{camera_url}/snapshot.jpg")


async def test_each_field_changes_and_a_changed_view_is_announced_again(service: Service) -> None:
    registered = await service.register("upd-view")
    moved = await service.patch(
        "upd-view", {"location": {"type": "Point", "coordinates": [105.95, 29.30]}}
    )
    assert moved["location"] == {"type": "Point", "coordinates": [105.95, 29.30]}
    assert (await service.patch("upd-view", {"elevation_m": 700.0}))["elevation_m"] == 700.0
    assert (await service.patch("upd-view", {"heading_deg": 200.0}))["heading_deg"] == 200.0
    assert (await service.patch("upd-view", {"hfov_deg": 30.0}))["hfov_deg"] == 30.0
    # Not part of the view: stored, but not announced.
    for field, value in (
        ("expected_interval_s", 120.0),
        ("cruise_interval_s", 15.0),
        ("cell_id", "huangguashan-nw"),
        ("snapshot_url", service.camera_url),
        ("heading_deg", 200.0),  # the same again: nothing changes
    ):
        assert (await service.patch("upd-view", {field: value}))[field] == value
    last = await service.patch("upd-view", {"presets": [10.0, 20.0, 30.0]})
    assert last["presets"] == [10.0, 20.0, 30.0]
    # What was not sent stays as it was.
    assert last["kind"] == "forest" and last["status"] == "online"
    assert last["registered_at"] == registered["registered_at"]
    assert (last["heading_deg"], last["hfov_deg"], last["elevation_m"]) == (200.0, 30.0, 700.0)
    assert (await service.patch("upd-view", {}))["presets"] == [10.0, 20.0, 30.0]

    announced: list[s.CameraRegistered] = []

    async def all_arrived() -> bool:
        announced[:] = await service.registrations("upd-view")
        return len(announced) >= 6

    await wait_until(all_arrived)
    # The registration, then one per view change (location, elevation, heading, fov,
    # presets); the last one came after every other change, so nothing else was sent.
    assert len(announced) == 6
    first, *changes = announced
    assert first.location.coordinates == (105.88, 29.40) and first.heading_deg == 135.0
    assert [c.location.coordinates for c in changes] == [(105.95, 29.30)] * 5
    assert [c.elevation_m for c in changes] == [612.5] + [700.0] * 4
    assert [c.heading_deg for c in changes] == [135.0, 135.0, 200.0, 200.0, 200.0]
    assert [c.hfov_deg for c in changes] == [58.0, 58.0, 58.0, 30.0, 30.0]
    assert changes[-1].presets == [10.0, 20.0, 30.0]
    # Still the same camera: registered when it first joined.
    assert {c.registered_at for c in announced} == {
        datetime.fromisoformat(registered["registered_at"])
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"heading_deg": 360.0}, "body.heading_deg"),
        ({"heading_deg": None}, "body.heading_deg"),
        ({"hfov_deg": 0}, "body.hfov_deg"),
        ({"elevation_m": "612"}, "body.elevation_m"),
        ({"location": None}, "body.location"),
        (
            {"location": {"type": "Point", "coordinates": [200.0, 29.4]}},
            "body.location.coordinates.0",
        ),
        ({"presets": None}, "body.presets"),
        ({"presets": [10.0, 400.0]}, "body.presets.1"),
        ({"presets": [10.0, 10.0]}, "body.presets"),
        ({"snapshot_url": "file:///etc/passwd"}, "body.snapshot_url"),
        ({"expected_interval_s": 0}, "body.expected_interval_s"),
        ({"cruise_interval_s": 0.5}, "body.cruise_interval_s"),
        ({"cell_id": "no spaces here"}, "body.cell_id"),
        ({"status": "offline"}, "body.status"),
        ({"kind": "traffic"}, "body.kind"),
        ({"id": "renamed"}, "body.id"),
    ],
)
async def test_bad_changes_name_the_field_and_change_nothing(
    service: Service, body: dict, field: str
) -> None:
    ident = unique("upd-bad")
    before = await service.register(ident)
    response = await service.client.patch(
        f"/cameras/{ident}", json=body, headers=service.auth("admin")
    )
    assert_problem(response, 422, field)
    after = await service.client.get(f"/cameras/{ident}", headers=service.auth("operator"))
    assert after.json() == before


async def test_only_admins_change_known_cameras(service: Service) -> None:
    await service.register("upd-auth")
    body = {"heading_deg": 10.0}
    assert_problem(await service.client.patch("/cameras/upd-auth", json=body), 401)
    for role in ("operator", "ranger", "service"):
        forbidden = await service.client.patch(
            "/cameras/upd-auth", json=body, headers=service.auth(role)
        )
        assert_problem(forbidden, 403)
    unknown = await service.client.patch(
        "/cameras/upd-nobody", json=body, headers=service.auth("admin")
    )
    assert_problem(unknown, 404)
    got = await service.client.get("/cameras/upd-auth", headers=service.auth("operator"))
    assert got.json()["heading_deg"] == 135.0


async def test_a_snapshot_url_starts_the_cruise_and_removing_it_stops_it(
    service: Service,
) -> None:
    await service.register("upd-cruise", presets=[10.0, 20.0, 30.0])
    assert (await service.patch("upd-cruise", {}))["next_poll_at"] is None
    before = datetime.now(UTC)
    started = await service.patch("upd-cruise", {"snapshot_url": service.camera_url})
    after = datetime.now(UTC)
    due = datetime.fromisoformat(started["next_poll_at"])
    assert before <= due <= after, "cruised from the change on"
    # Judged from now on at the default cruise interval.
    frame_due = datetime.fromisoformat(started["frame_due_by"])
    settings = service.settings
    allowance = timedelta(seconds=settings.cruise_interval_s * settings.offline_after_intervals)
    assert before + allowance <= frame_due <= after + allowance

    async def polled(at: datetime) -> list[float | None]:
        outcomes = await service.cruise.cruise_once(at)
        mine = [o for o in outcomes if o.camera_id == "upd-cruise"]
        assert all(o.outcome == "frame" for o in mine), mine
        return [o.pan_deg for o in mine]

    assert await polled(after) == [10.0]
    assert await polled(after + timedelta(seconds=10)) == [20.0]
    # New presets: the tour starts again from the first of them, on its cadence.
    touring = await service.patch("upd-cruise", {})
    toured = await service.patch("upd-cruise", {"presets": [200.0, 250.0]})
    assert toured["next_poll_at"] == touring["next_poll_at"]
    assert await polled(after + timedelta(seconds=20)) == [200.0]
    assert await polled(after + timedelta(seconds=30)) == [250.0]
    # A shorter interval brings a far-off poll forward.
    await service.patch("upd-cruise", {"cruise_interval_s": 3600.0})
    assert await polled(after + timedelta(seconds=40)) == [200.0]
    far = datetime.fromisoformat((await service.patch("upd-cruise", {}))["next_poll_at"])
    assert far >= after + timedelta(seconds=3600)
    at = datetime.now(UTC)
    quick = await service.patch("upd-cruise", {"cruise_interval_s": 5.0})
    assert datetime.fromisoformat(quick["next_poll_at"]) <= at + timedelta(seconds=10)

    stopped = await service.patch("upd-cruise", {"snapshot_url": None})
    assert stopped["snapshot_url"] is None and stopped["next_poll_at"] is None
    assert stopped["frame_due_by"] is None, "no interval is expected of it any more"
    assert await polled(after + timedelta(hours=2)) == []

    # A declared interval makes it judged again, from the change on.
    at = datetime.now(UTC)
    pushed = await service.patch("upd-cruise", {"expected_interval_s": 60.0})
    frame_due = datetime.fromisoformat(pushed["frame_due_by"])
    allowance = timedelta(seconds=60.0 * service.settings.offline_after_intervals)
    assert at + allowance <= frame_due <= datetime.now(UTC) + allowance
    assert pushed["next_poll_at"] is None


async def test_cameras_are_filtered_by_grid_cell(service: Service) -> None:
    for ident, cell, kind in (
        ("cell-a1", "chashanzhuhai-ne", "forest"),
        ("cell-a2", "chashanzhuhai-ne", "traffic"),
        ("cell-b1", "chashanzhuhai-sw", "forest"),
        ("cell-none", None, "forest"),
    ):
        extra = {"cell_id": cell} if cell else {}
        made = await service.register(ident, kind=kind, **extra)
        assert made["cell_id"] == cell
    reader = service.auth("ranger")

    async def ids(query: str) -> list[str]:
        got = await service.client.get(f"/cameras?{query}&limit=500", headers=reader)
        assert got.status_code == 200, got.text
        return [c["id"] for c in got.json()["items"]]

    assert await ids("cell_id=chashanzhuhai-ne") == ["cell-a1", "cell-a2"]
    assert await ids("cell_id=chashanzhuhai-ne&kind=forest") == ["cell-a1"]
    assert await ids("cell_id=nowhere") == []
    geo = await service.client.get("/cameras.geojson?cell_id=chashanzhuhai-sw", headers=reader)
    assert geo.status_code == 200, geo.text
    (feature,) = geo.json()["features"]
    assert feature["id"] == "cell-b1"
    assert feature["properties"]["cell_id"] == "chashanzhuhai-sw"

    # A camera moved to another cell is found there; null takes it out of any.
    await service.patch("cell-a2", {"cell_id": "chashanzhuhai-sw"})
    assert await ids("cell_id=chashanzhuhai-sw") == ["cell-a2", "cell-b1"]
    assert (await service.patch("cell-b1", {"cell_id": None}))["cell_id"] is None
    assert await ids("cell_id=chashanzhuhai-sw") == ["cell-a2"]

    for path in ("/cameras", "/cameras.geojson"):
        bad = await service.client.get(f"{path}?cell_id=no%20spaces", headers=reader)
        assert_problem(bad, 422, "query.cell_id")
    bad_cell = await service.client.post(
        "/cameras", json=camera("cell-bad", cell_id="a/b"), headers=service.auth("admin")
    )
    assert_problem(bad_cell, 422, "body.cell_id")
