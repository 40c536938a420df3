"""Frames arriving together are written together, each with its own answer and trace."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from camera_bodies import camera_body
from camera_images import png

from city_common.testing import (
    assert_problem,
    bearer,
    migrated_database,
    read_topic,
    running_app,
    settings_for_test,
    unique,
    wait_until,
)
from video_ingest.bootstrap import create_app
from video_ingest.config import Settings
from video_ingest.service_layer.frame_batch import FrameBatcher

pytestmark = pytest.mark.integration

CAMERAS = [f"slope-{i}" for i in range(6)]


def _camera(ident: str) -> dict[str, object]:
    # Offline at first: its first frame brings it back online.
    return camera_body(
        ident,
        location={"type": "Point", "coordinates": [105.85, 29.45]},
        elevation_m=450.0,
        heading_deg=45.0,
        status="offline",
    )


def _traceparent(n: int) -> str:
    return f"00-{n:032x}-{n:016x}-01"


async def test_concurrent_frames_share_transactions_but_not_answers_or_traces() -> None:
    url = await migrated_database("video_ingest", f"test_batches_{uuid.uuid4().hex[:8]}")
    prefix = unique("vb") + "."
    settings = settings_for_test(
        Settings, url, topic_prefix=prefix, cruise_enabled=False, health_sweep_enabled=False
    )
    app = create_app(settings)
    async with running_app(app) as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await wait_until(ready)
        for ident in CAMERAS:
            made = await client.post(
                "/cameras", json=_camera(ident), headers=bearer(settings, "admin")
            )
            assert made.status_code == 201, made.text

        t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
        # Two frames of each camera, the later-captured one sent first, and one frame
        # of a camera nobody registered: 13 requests at once.
        sends = [(ident, t0 + timedelta(seconds=2), 100 + i) for i, ident in enumerate(CAMERAS)]
        sends += [(ident, t0 + timedelta(seconds=1), 200 + i) for i, ident in enumerate(CAMERAS)]
        sends.append(("slope-404", t0, 999))

        async def send(ident: str, at: datetime, n: int) -> httpx.Response:
            return await client.post(
                f"/cameras/{ident}/frames",
                params={"captured_at": at.isoformat()},
                content=png(32 + n % 7, 24),
                headers={
                    **bearer(settings, "service"),
                    "content-type": "image/png",
                    "traceparent": _traceparent(n),
                },
            )

        answers = await asyncio.gather(*(send(*s) for s in sends))
        batcher: FrameBatcher = app.state.runtime.state["frame_batcher"]
        assert batcher.frames == len(sends)
        assert batcher.batches < len(sends), "frames that arrived together were batched"

        for (ident, at, _), answer in zip(sends, answers, strict=True):
            if ident == "slope-404":
                assert_problem(answer, 404)
                continue
            assert answer.status_code == 202, answer.text
            assert answer.json()["camera_id"] == ident
            assert datetime.fromisoformat(answer.json()["captured_at"]) == at

        # The snapshot is the later-captured frame, though it came first.
        for i, ident in enumerate(CAMERAS):
            shot = await client.get(
                f"/cameras/{ident}/snapshot", headers=bearer(settings, "operator")
            )
            assert shot.status_code == 200
            assert shot.content == png(32 + (100 + i) % 7, 24)
            listed = await client.get(f"/cameras/{ident}", headers=bearer(settings, "operator"))
            assert listed.json()["status"] == "online"

    # One frame event per accepted frame, each under its own request's trace.
    frames = await read_topic(prefix + "camera.frames", expected=12)
    traces = sorted(h["ce_traceparent"].decode().split("-")[1] for _, h, _ in frames)
    assert traces == sorted(f"{n:032x}" for _, _, n in sends if n != 999)
    # Each camera came back online once, under the trace of one of its frames.
    status = await read_topic(prefix + "camera.status", expected=100, timeout_s=3)
    online = [(k, h) for k, h, _ in status if h["ce_type"] == b"city.camera.online.v1"]
    assert sorted(k for k, _ in online) == sorted(c.encode() for c in CAMERAS)
    for key, headers in online:
        i = CAMERAS.index(key.decode())
        trace = headers["ce_traceparent"].decode().split("-")[1]
        assert trace in {f"{100 + i:032x}", f"{200 + i:032x}"}
