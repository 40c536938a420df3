"""What fire-detect consumes: the camera frames, a high-rate topic taken in batches, and
the cameras' registrations, for their place and field of view."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from city_common.messaging.consumer import Subscription
from city_common.runtime import Runtime
from fire_detect.config import Settings
from fire_detect.service_layer import handlers
from fire_detect.service_layer.detection import FrameDetector


def subscriptions(runtime: Runtime) -> Sequence[Subscription]:
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError("fire-detect runs with fire_detect.config.Settings")
    # One detector per consumer: it holds the scene memory of the poses it sees.
    detector = FrameDetector(
        max_poses=settings.fire_scene_memories, max_gap_s=settings.fire_scene_max_gap_s
    )
    return (
        Subscription(
            "camera.frames",
            partial(handlers.on_frame, detector=detector, settings=settings),
            batch_handler=partial(handlers.on_frames, detector=detector, settings=settings),
            accepts=handlers.is_forest_frame,
        ),
        Subscription(
            "camera.status",
            handlers.on_camera_registered,
            event_types=frozenset({"city.camera.registered.v1"}),
        ),
    )
