"""At capacity, frames of cameras without priority are refused first, with a 503."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from camera_bodies import camera_body
from camera_images import png
from fastapi import FastAPI

from city_common.testing import (
    assert_problem,
    bearer,
    metric_value,
    migrated_database,
    running_app,
    settings_for_test,
    unique,
    wait_until,
)
from video_ingest.bootstrap import create_app
from video_ingest.config import Settings
from video_ingest.service_layer.admission import FrameGate

pytestmark = pytest.mark.integration

FRAME = png(64, 48)


def _gate(app: FastAPI) -> FrameGate:
    gate: FrameGate = app.state.runtime.state["frame_gate"]
    return gate


async def _frame(client: httpx.AsyncClient, settings: Settings, camera_id: str) -> httpx.Response:
    return await client.post(
        f"/cameras/{camera_id}/frames",
        params={"captured_at": datetime.now(UTC).isoformat()},
        content=FRAME,
        headers={**bearer(settings, "service"), "content-type": "image/png"},
    )


async def test_traffic_frames_are_refused_before_forest_frames_at_capacity() -> None:
    url = await migrated_database("video_ingest", f"test_admission_{uuid.uuid4().hex[:8]}")
    settings = settings_for_test(
        Settings,
        url,
        topic_prefix=unique("va") + ".",
        cruise_enabled=False,
        health_sweep_enabled=False,
        frames_in_flight_max=2,
        frames_in_flight_low_priority_max=1,
    )
    admin = bearer(settings, "admin")

    # Another replica registered these cameras before this process started.
    async with running_app(create_app(settings)) as client:
        for ident, kind in (("ridge-7", "forest"), ("crossing-7", "traffic")):
            created = await client.post("/cameras", json=camera_body(ident, kind), headers=admin)
            assert created.status_code == 201, created.text

    app = create_app(settings)
    async with running_app(app) as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await wait_until(ready)
        gate = _gate(app)
        # Read from the registry at startup: the forest camera has priority.
        assert gate.priorities.has("ridge-7") and not gate.priorities.has("crossing-7")

        # Nothing in flight: any frame is taken.
        assert (await _frame(client, settings, "crossing-7")).status_code == 202
        assert gate.admission.in_flight == 0

        # One frame in flight fills the share of cameras without priority...
        assert gate.admission.try_enter(priority=False)
        refused = await _frame(client, settings, "crossing-7")
        assert_problem(refused, 503)
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["type"].endswith("frame-refused-at-capacity")
        # ...not the slot kept for the forest camera.
        taken = await _frame(client, settings, "ridge-7")
        assert taken.status_code == 202, taken.text
        assert taken.json()["camera_kind"] == "forest"

        # A forest camera registered here has its priority at once.
        created = await client.post(
            "/cameras", json=camera_body("ridge-8", "forest"), headers=admin
        )
        assert created.status_code == 201, created.text
        assert (await _frame(client, settings, "ridge-8")).status_code == 202

        # Every slot taken: the forest camera is refused too.
        assert gate.admission.try_enter(priority=True)
        assert_problem(await _frame(client, settings, "ridge-7"), 503)
        gate.leave()
        gate.leave()
        assert (await _frame(client, settings, "crossing-7")).status_code == 202
        assert gate.admission.in_flight == 0

        metrics = (await client.get("/metrics")).text
        refused = "frames_refused_at_capacity_total"
        assert metric_value(metrics, refused, priority="no") == 1
        assert metric_value(metrics, refused, priority="yes") == 1
