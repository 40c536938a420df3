"""video-ingest on the bus: the alarms it consumes, and a frame topic that fits its frames."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from city_common.messaging.consumer import Subscription
from city_common.messaging.topics import ensure_topics, message_limit, raise_message_limit
from city_common.runtime import Runtime
from video_ingest.config import settings_of
from video_ingest.service_layer import handlers

log = logging.getLogger(__name__)

FRAMES_TOPIC = "camera.frames"
# Room for the CloudEvents headers and the record batch around one frame.
HEADROOM_BYTES = 64 * 1024


def needed_bytes(max_frame_bytes: int) -> int:
    return max_frame_bytes + HEADROOM_BYTES


def subscriptions(_: Runtime) -> Sequence[Subscription]:
    return (Subscription("fire.alarms", handlers.on_fire_alarm),)


async def fit_frame_topic(runtime: Runtime) -> None:
    """Background task: make the frame topic (and its DLQ) take frames at this
    service's size limit, which operators may set above the registry's default."""
    settings = settings_of(runtime)
    if not settings.manage_frame_topic:
        return
    topic = settings.topic_prefix + FRAMES_TOPIC
    needed = needed_bytes(settings.max_frame_bytes)
    delay = 0.5
    while True:
        try:
            await ensure_topics(settings.kafka_bootstrap, [topic])
            for name in (topic, f"{topic}.dlq"):
                limit = await raise_message_limit(settings.kafka_bootstrap, name, needed)
            log.info("frame topic fits frames", extra={"topic": topic, "max_bytes": limit})
            return
        except Exception:  # noqa: BLE001 - Kafka may start after us
            log.warning("could not fit the frame topic yet; retrying", exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def frame_topic_fits(runtime: Runtime) -> None:
    """Readiness: a frame at the size limit would be accepted by the frame topic."""
    settings = settings_of(runtime)
    topic = settings.topic_prefix + FRAMES_TOPIC
    needed = needed_bytes(settings.max_frame_bytes)
    limit = await asyncio.wait_for(message_limit(settings.kafka_bootstrap, topic), 5)
    if limit < needed:
        raise RuntimeError(f"{topic} takes messages up to {limit} bytes; frames need {needed}")
