"""The frame topic's message size limit.

Kafka caps a message near 1 MiB by default; a frame event carries the whole image,
so the topic must allow a frame at the size limit plus its CloudEvents headers.
Otherwise the outbox relay fails on the first large frame and keeps retrying it.
"""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from city_common.messaging.producer import ensure_topics

MAX_MESSAGE_BYTES = "max.message.bytes"
# Room for the CloudEvents headers and the record batch around one frame.
HEADROOM_BYTES = 64 * 1024
# DescribeConfigs' config_source for a value set on the topic itself.
_TOPIC_OVERRIDE = 1


def needed_bytes(max_frame_bytes: int) -> int:
    return max_frame_bytes + HEADROOM_BYTES


async def _describe(admin: AIOKafkaAdminClient, topic: str) -> tuple[int, dict[str, str]]:
    """The topic's message limit, and the values set on the topic itself."""
    (response,) = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic, configs=None)]
    )
    (resource,) = response.resources
    error_code, error_message, _, _, entries = resource[:5]
    if error_code:
        raise RuntimeError(f"describing topic {topic} failed: {error_code} {error_message}")
    limit: int | None = None
    overrides: dict[str, str] = {}
    for entry in entries:
        name, value, _, source = entry[:4]
        if name == MAX_MESSAGE_BYTES:
            limit = int(value)
        if source == _TOPIC_OVERRIDE and value is not None:
            overrides[name] = value
    if limit is None:
        raise RuntimeError(f"topic {topic} reports no {MAX_MESSAGE_BYTES}")
    return limit, overrides


async def capacity(bootstrap: str, topic: str) -> int:
    """The largest message the topic accepts, in bytes."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        limit, _ = await _describe(admin, topic)
        return limit
    finally:
        await admin.close()


async def fit(bootstrap: str, topic: str, needed: int) -> int:
    """Create the topic if missing and raise its message limit to ``needed``; the limit after."""
    await ensure_topics(bootstrap, [topic])
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        limit, overrides = await _describe(admin, topic)
        if limit >= needed:
            return limit
        # AlterConfigs replaces all of a topic's own values: keep the others.
        (response,) = await admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC,
                    topic,
                    configs={**overrides, MAX_MESSAGE_BYTES: str(needed)},
                )
            ]
        )
        error_code, error_message = response.resources[0][:2]
        if error_code:
            raise RuntimeError(f"raising the limit of {topic} failed: {error_code} {error_message}")
        return needed
    finally:
        await admin.close()
