"""video-ingest's own loops: the snapshot cruise, the camera health sweep, and the
refresh of which cameras' frames have priority at capacity.

The cruise and the sweep keep their state in the database (next-due times,
deadlines, statuses) and claim rows with SKIP LOCKED, so any number of replicas
may run them, and a restarted one carries on where the last left off.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from prometheus_client import Counter

from city_common.runtime import Runtime
from video_ingest.adapters.snapshots import HttpSnapshotSource
from video_ingest.config import health_policy, settings_of
from video_ingest.domain.admission import FrameAdmission
from video_ingest.service_layer import handlers
from video_ingest.service_layer.admission import FrameGate, PriorityCameras
from video_ingest.service_layer.cruise import Cruise
from video_ingest.service_layer.frame_batch import FrameBatcher

log = logging.getLogger(__name__)

# Cameras taken offline per transaction of a sweep.
SWEEP_BATCH = 500


def utc_now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def cruise_resources(runtime: Runtime) -> AsyncIterator[None]:
    """The HTTP client and the cruise, for the app's lifetime (built even where the
    cruise loop is off, so that a step can be driven by hand)."""
    settings = settings_of(runtime)
    polls = Counter(
        "camera_snapshot_polls_total",
        "Snapshot polls of cameras by outcome: frame, timeout, unreachable, http_error, "
        "too_large, rejected (not a valid frame), error",
        ["outcome"],
        registry=runtime.metrics.registry,
    )
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.cruise_timeout_s),
        limits=httpx.Limits(max_connections=settings.cruise_concurrency),
        follow_redirects=False,
    )
    runtime.state["cruise"] = Cruise(
        runtime.uow,
        HttpSnapshotSource(
            client, timeout_s=settings.cruise_timeout_s, max_bytes=settings.max_frame_bytes
        ),
        health=health_policy(settings),
        interval_s=settings.cruise_interval_s,
        timeout_s=settings.cruise_timeout_s,
        concurrency=settings.cruise_concurrency,
        polls=polls,
    )
    try:
        yield
    finally:
        await client.aclose()


@asynccontextmanager
async def frame_intake_resources(runtime: Runtime) -> AsyncIterator[None]:
    """The frame endpoint's admission gate, with the priority cameras read once, and
    the batcher that writes pushed frames; frames taken are written before shutdown."""
    settings = settings_of(runtime)
    batcher = FrameBatcher(runtime.uow, health_policy(settings), max_batch=settings.frame_batch_max)
    runtime.state["frame_batcher"] = batcher
    priorities = PriorityCameras(frozenset(k.value for k in settings.priority_camera_kinds))
    runtime.state["frame_gate"] = FrameGate(
        FrameAdmission(
            max_in_flight=settings.frames_in_flight_max,
            max_low_priority=settings.frames_in_flight_low_priority_max,
        ),
        priorities,
        Counter(
            "frames_refused_at_capacity_total",
            "Pushed frames refused with 503 because the process was at capacity, by "
            "whether their camera has priority",
            ["priority"],
            registry=runtime.metrics.registry,
        ),
    )
    await _refresh_priorities(runtime, priorities)
    try:
        yield
    finally:
        await batcher.drain()


async def _refresh_priorities(runtime: Runtime, priorities: PriorityCameras) -> None:
    try:
        async with runtime.uow() as uow:
            await priorities.refresh(uow)
    except Exception:  # noqa: BLE001 - frames are still taken; only their order suffers
        log.warning("could not read the priority cameras", exc_info=True)


async def refresh_priority_cameras(runtime: Runtime) -> None:
    """Background task: cameras registered or changed on any replica get their
    priority here within ``priority_refresh_s``."""
    settings = settings_of(runtime)
    gate: FrameGate = runtime.state["frame_gate"]
    while not runtime.stopping.is_set():
        await runtime.pause(settings.priority_refresh_s)
        if not runtime.stopping.is_set():
            await _refresh_priorities(runtime, gate.priorities)


def cruise_of(runtime: Runtime) -> Cruise:
    cruise: Cruise = runtime.state["cruise"]
    return cruise


async def cruise_cameras(runtime: Runtime) -> None:
    """Background task: poll cameras with a snapshot URL on their schedules."""
    settings = settings_of(runtime)
    if not settings.cruise_enabled:
        return
    await cruise_of(runtime).run(settings.cruise_tick_s, utc_now, pause=runtime.pause)


async def sweep_until_done(runtime: Runtime, now: datetime) -> list[str]:
    """One health sweep at ``now``, in batches until no overdue camera is left."""
    offline: list[str] = []
    while True:
        async with runtime.uow() as uow:
            batch = await handlers.sweep_camera_health(uow, now=now, limit=SWEEP_BATCH)
        offline += batch
        if len(batch) < SWEEP_BATCH:
            return offline


async def watch_camera_health(runtime: Runtime) -> None:
    """Background task: take cameras that miss their frames offline."""
    settings = settings_of(runtime)
    if not settings.health_sweep_enabled:
        return
    while not runtime.stopping.is_set():
        try:
            offline = await sweep_until_done(runtime, utc_now())
            if offline:
                log.info("cameras went offline", extra={"camera_ids": offline[:50]})
        except Exception:  # noqa: BLE001 - the database may come back; keep watching
            log.warning("camera health sweep failed", exc_info=True)
        await runtime.pause(settings.health_sweep_interval_s)
