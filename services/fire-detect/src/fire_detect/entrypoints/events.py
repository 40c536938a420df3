"""What fire-detect consumes: the camera frames, a high-rate topic taken in batches."""

from __future__ import annotations

from collections.abc import Sequence

from city_common.messaging.consumer import Subscription
from city_common.runtime import Runtime
from fire_detect.service_layer import handlers


def subscriptions(_: Runtime) -> Sequence[Subscription]:
    return (Subscription("camera.frames", handlers.on_frame, batch_handler=handlers.on_frames),)
