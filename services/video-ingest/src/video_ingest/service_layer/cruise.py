"""The snapshot cruise: poll cameras that have a snapshot URL, one preset pose at a time.

Each camera has its own next-due time in the database, so a camera that hangs or
fails only delays itself. A step claims the cameras that are due (as many as there
are free poll slots), starts one task per poll and returns; it never waits for a
poll. A polled image goes through the very path of a pushed frame (``accept_frame``),
committed together with the camera's next schedule.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter

from city_common.db.uow import UnitOfWork
from city_common.web.problems import Problem
from video_ingest.adapters import repository as repo
from video_ingest.adapters.snapshots import Snapshot, SnapshotSource, SnapshotUnavailable
from video_ingest.domain.cruise import NextPoll, Pose, after_poll, pose_at
from video_ingest.domain.health import HealthPolicy
from video_ingest.domain.images import FRAME_TYPES, UndecodableImage, read_header
from video_ingest.service_layer.handlers import accept_frame

log = logging.getLogger(__name__)

# Beyond the poll's own timeout, time for its transaction before the lease runs out
# and another replica may poll the camera.
LEASE_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    camera_id: str
    pan_deg: float | None
    # "frame", or why there was none: timeout, unreachable, http_error, too_large,
    # rejected (the image failed a frame's validation), error (a bug or the database).
    outcome: str
    error: str | None


def declared_type(snapshot: Snapshot) -> str:
    """The type a frame is checked against: the camera's, or what the bytes say where
    the camera declared none of ours (many send application/octet-stream)."""
    if snapshot.content_type in FRAME_TYPES:
        return snapshot.content_type
    try:
        return read_header(snapshot.image).content_type
    except UndecodableImage:
        return snapshot.content_type or "application/octet-stream"


class Cruise:
    """Polls due cameras with at most ``concurrency`` polls in flight in this process.

    The bound is kept at the claim, not by a semaphore the polls queue on: a camera
    is only claimed when a slot is free to poll it at once.
    """

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        source: SnapshotSource,
        *,
        health: HealthPolicy,
        interval_s: float,
        timeout_s: float,
        concurrency: int,
        polls: Counter | None = None,
    ) -> None:
        self._uow = uow
        self._source = source
        self._health = health
        self._interval_s = interval_s
        self._lease = timedelta(seconds=timeout_s) + LEASE_MARGIN
        self._concurrency = concurrency
        self._polls = polls
        self._in_flight: dict[str, asyncio.Task[PollOutcome]] = {}

    async def start_due(self, now: datetime) -> list[asyncio.Task[PollOutcome]]:
        """Claim the cameras due at ``now`` and start their polls; does not wait for them.

        Only as many are claimed as there are free slots, so a camera never waits in
        this process holding a lease that another replica could have served.
        """
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return []
        async with self._uow() as uow:
            claimed = await repo.claim_due_polls(
                uow.session,
                now=now,
                lease_until=now + self._lease,
                limit=free,
                busy=self._in_flight,
            )
            await uow.commit()
        tasks = []
        for claim in claimed:
            camera_id: str = claim["id"]
            task = asyncio.create_task(self._poll(claim, now), name=f"poll {camera_id}")
            self._in_flight[camera_id] = task
            task.add_done_callback(self._finished)
            tasks.append(task)
        return tasks

    def _finished(self, task: asyncio.Task[PollOutcome]) -> None:
        for camera_id, running in list(self._in_flight.items()):
            if running is task:
                del self._in_flight[camera_id]

    async def cruise_once(self, now: datetime) -> list[PollOutcome]:
        """One step, waiting for its polls: what tests and one-off runs drive."""
        tasks = await self.start_due(now)
        return list(await asyncio.gather(*tasks))

    async def run(
        self,
        tick_s: float,
        clock: Callable[[], datetime],
        pause: Callable[[float], Awaitable[bool]],
    ) -> None:
        """Step every ``tick_s`` until ``pause`` (``Runtime.pause``) says the app is
        stopping, or until cancelled; polls still running are cancelled too (their
        cameras are polled again when the lease runs out)."""
        try:
            while True:
                try:
                    await self.start_due(clock())
                except Exception:  # noqa: BLE001 - the database may come back; keep cruising
                    log.warning("cruise step failed", exc_info=True)
                if await pause(tick_s):
                    return
        finally:
            for task in list(self._in_flight.values()):
                task.cancel()
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _poll(self, claim: dict[str, Any], now: datetime) -> PollOutcome:
        camera_id: str = claim["id"]
        pose = pose_at(claim["presets"], claim["next_preset"])
        loop = asyncio.get_running_loop()
        started = loop.time()
        snapshot: Snapshot | None = None
        try:
            snapshot = await self._source.fetch(claim["snapshot_url"])
        except SnapshotUnavailable as exc:
            outcome = PollOutcome(camera_id, pose.pan_deg, exc.outcome, exc.reason)
        # The fetch time on the step's clock: the frame's captured_at.
        fetched_at = now + timedelta(seconds=loop.time() - started)
        try:
            if snapshot is not None:
                outcome = await self._keep(claim, pose, snapshot, fetched_at)
            if outcome.error is not None:
                await self._record_failure(claim, pose, fetched_at, outcome.error)
        except Exception as exc:  # noqa: BLE001 - a poll task must not die silently
            log.exception("camera poll failed", extra={"camera_id": camera_id})
            outcome = PollOutcome(camera_id, pose.pan_deg, "error", repr(exc)[:500])
        if self._polls is not None:
            self._polls.labels(outcome=outcome.outcome).inc()
        if outcome.error is not None:
            log.info(
                "camera poll gave no frame",
                extra={"camera_id": camera_id, "outcome": outcome.outcome, "error": outcome.error},
            )
        return outcome

    async def _keep(
        self, claim: dict[str, Any], pose: Pose, snapshot: Snapshot, fetched_at: datetime
    ) -> PollOutcome:
        """The polled image as a frame, with the camera's next schedule, in one commit."""
        camera_id: str = claim["id"]
        async with self._uow() as uow:
            try:
                await accept_frame(
                    uow,
                    camera_id=camera_id,
                    image=snapshot.image,
                    declared_type=declared_type(snapshot),
                    captured_at=fetched_at,
                    pan_deg=pose.pan_deg,
                    received_at=fetched_at,
                    health=self._health,
                )
            except Problem as problem:
                return PollOutcome(
                    camera_id, pose.pan_deg, "rejected", problem.detail or problem.title
                )
            await repo.record_poll(
                uow.session,
                camera_id,
                polled_at=fetched_at,
                following=self._following(claim, pose, fetched_at, succeeded=True),
                error=None,
            )
            await uow.commit()
        return PollOutcome(camera_id, pose.pan_deg, "frame", None)

    async def _record_failure(
        self, claim: dict[str, Any], pose: Pose, at: datetime, error: str
    ) -> None:
        async with self._uow() as uow:
            await repo.record_poll(
                uow.session,
                claim["id"],
                polled_at=at,
                following=self._following(claim, pose, at, succeeded=False),
                error=error,
            )
            await uow.commit()

    def _following(
        self, claim: dict[str, Any], pose: Pose, at: datetime, *, succeeded: bool
    ) -> NextPoll:
        own: float | None = claim["cruise_interval_s"]
        interval = own if own is not None else self._interval_s
        return after_poll(
            presets=claim["presets"],
            pose=pose,
            due_at=claim["next_poll_at"],
            now=at,
            interval_s=interval,
            failures_before=claim["poll_failures"],
            succeeded=succeeded,
        )
