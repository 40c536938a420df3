"""The detector as the consumer runs it: frames of forest cameras, decoded and analysed
in order, with the memory of each camera pose held in this process.

The pose's *tracker* state (what it saw over the last frames, whether it alarmed)
lives in the database, in the same transaction as the inbox, so a restart or a
rebalance to another replica carries on exactly. The pose's *scene memory* (its last
frame and learnt background, some 200 kB) stays here: the consumer that owns a
camera's partition sees all of its frames, and a new owner learns the scene again
within 2-3 frames (docs/adr/0007-classical-fire-detection.md).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from city_common.events import schemas as s
from city_common.messaging.consumer import Delivery
from fire_detect.domain.detection import (
    DEFAULT_SETTINGS,
    Detection,
    DetectorSettings,
    SceneMemory,
    UndecodableFrame,
    analyse_frame,
    decode_frame,
)

log = logging.getLogger(__name__)


def pose_of(payload: s.FrameCaptured) -> str:
    """A camera's preset pose as a key: pan and tilt to a tenth of a degree."""
    return f"{payload.pan_azimuth_deg:.1f}/{payload.tilt_deg:.1f}"


@dataclass(frozen=True, slots=True)
class AnalysedFrame:
    """What one frame showed; boxes in the pixels of the image as the camera sent it."""

    camera_id: str
    pose: str
    captured_at: datetime
    pan_azimuth_deg: float
    image_width: int
    image_height: int
    detections: tuple[Detection, ...]
    # The frame as the camera sent it: kept as the evidence of an alarm it raises.
    image: bytes = field(default=b"", repr=False)
    content_type: str = ""


class FrameDetector:
    """Decodes and analyses forest frames, keeping each pose's scene memory."""

    def __init__(
        self,
        *,
        max_poses: int,
        max_gap_s: float,
        settings: DetectorSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.max_poses = max_poses
        self.max_gap_s = max_gap_s
        self.settings = settings
        self._memories: OrderedDict[tuple[str, str], tuple[SceneMemory, datetime]] = OrderedDict()

    def analyse(self, deliveries: Sequence[Delivery]) -> list[AnalysedFrame]:
        """Every decodable frame, in the order given. CPU work: run it off the event loop,
        one call at a time."""
        out: list[AnalysedFrame] = []
        for delivery in deliveries:
            payload = delivery.payload
            assert isinstance(payload, s.FrameCaptured)  # noqa: S101 - registry guarantees it
            try:
                frame, factor = decode_frame(delivery.event.data, self.settings)
            except UndecodableFrame:
                log.warning(
                    "frame not decodable; not analysed",
                    extra={"camera_id": payload.camera_id, "event_id": delivery.event.id},
                )
                continue
            key = (payload.camera_id, pose_of(payload))
            memory = self._recall(key, payload.captured_at)
            analysis = analyse_frame(frame, memory, self.settings)
            self._remember(key, analysis.memory, payload.captured_at)
            out.append(
                AnalysedFrame(
                    camera_id=payload.camera_id,
                    pose=key[1],
                    captured_at=payload.captured_at,
                    pan_azimuth_deg=payload.pan_azimuth_deg,
                    image_width=frame.shape[1] * factor,
                    image_height=frame.shape[0] * factor,
                    detections=tuple(
                        replace(d, box=d.box.scaled(factor), pixels=d.pixels * factor * factor)
                        for d in analysis.detections
                    ),
                    image=delivery.event.data,
                    content_type=delivery.event.datacontenttype,
                )
            )
        return out

    def _recall(self, key: tuple[str, str], at: datetime) -> SceneMemory | None:
        known = self._memories.get(key)
        if known is None:
            return None
        memory, last = known
        gap = (at - last).total_seconds()
        # Too old, or a frame from before the last one: the scene starts afresh.
        if gap > self.max_gap_s or gap < 0:
            return None
        return memory

    def _remember(self, key: tuple[str, str], memory: SceneMemory, at: datetime) -> None:
        self._memories[key] = (memory, at)
        self._memories.move_to_end(key)
        while len(self._memories) > self.max_poses:
            self._memories.popitem(last=False)
