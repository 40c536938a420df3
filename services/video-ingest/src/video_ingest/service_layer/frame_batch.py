"""Group commit of pushed frames.

Each frame used to be its own transaction: a connection checkout, BEGIN, the camera
locked, the snapshot stored, the outbox row, COMMIT. At hundreds of frames a second
those round trips and their Python around them were most of video-ingest's and
PostgreSQL's CPU. Frames that arrive while a batch is being written wait for the
next one, which writes them all with the same fixed statements (``store_frames``)
and one commit; a lone frame is written at once, as before. Each request still gets
its own answer: its receipt, a 404 for an unknown camera, or the error that failed
its batch. A batch that fails is written again frame by frame, so that one frame
cannot fail the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from city_common.db.uow import UnitOfWork
from video_ingest.domain.health import HealthPolicy
from video_ingest.service_layer.handlers import IncomingFrame, store_frames

log = logging.getLogger(__name__)

Outcome = dict[str, Any] | BaseException


class FrameBatcher:
    """Frames in, receipts out; one writer task per process at a time."""

    def __init__(
        self,
        new_uow: Callable[[], UnitOfWork],
        health: HealthPolicy,
        *,
        max_batch: int = 64,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._new_uow = new_uow
        self._health = health
        self._max_batch = max_batch
        self._pending: list[tuple[IncomingFrame, asyncio.Future[dict[str, Any]]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        self.frames = 0

    async def take(self, frame: IncomingFrame) -> dict[str, Any]:
        """Store the frame and pass it on; its receipt once its batch committed."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((frame, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="frame-batches")
        # A request whose client goes away cancels its wait, not the batch: the frame
        # is kept all the same, as a frame that arrived is.
        return await future

    async def drain(self) -> None:
        """Wait until every frame taken so far is written (for shutdown and tests)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_pending(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            outcomes = await self._outcomes([frame for frame, _ in batch])
            self.batches += 1
            self.frames += len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _outcomes(self, frames: Sequence[IncomingFrame]) -> list[Outcome]:
        try:
            return await self._write(frames)
        except Exception as exc:  # noqa: BLE001 - answered to the requests, below
            if len(frames) == 1:
                return [exc]
            log.warning("frame batch failed; writing it frame by frame", exc_info=True)
        outcomes: list[Outcome] = []
        for frame in frames:
            try:
                outcomes.extend(await self._write([frame]))
            except Exception as exc:  # noqa: BLE001 - answered to that frame's request
                outcomes.append(exc)
        return outcomes

    async def _write(self, frames: Sequence[IncomingFrame]) -> list[Outcome]:
        async with self._new_uow() as uow:
            # A 404 of an unknown camera is that frame's outcome, not the batch's.
            stored: list[Outcome] = list(await store_frames(uow, frames, health=self._health))
            await uow.commit()
        return stored
