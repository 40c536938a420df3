"""Topic provisioning: create missing topics (and their DLQs) with their configs.

Kafka caps a message near 1 MiB by default; a frame event carries a whole image,
so its topic (and its dead-letter twin) must allow more. Topic configs are
declared in the event registry (``TOPIC_CONFIGS``) and applied here, at creation,
and raised on an existing topic whose limit is too low.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = "max.message.bytes"
# DescribeConfigs' config_source for a value set on the topic itself.
_TOPIC_OVERRIDE = 1

TopicConfigs = Mapping[str, Mapping[str, str]]


async def _describe(admin: AIOKafkaAdminClient, topic: str) -> tuple[int, dict[str, str]]:
    """The topic's effective message limit, and the values set on the topic itself."""
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


async def _raise_limit(admin: AIOKafkaAdminClient, topic: str, needed: int) -> int:
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
    log.info("raised topic message limit", extra={"topic": topic, "bytes": needed})
    return needed


async def message_limit(bootstrap: str, topic: str) -> int:
    """The largest message ``topic`` accepts, in bytes."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        limit, _ = await _describe(admin, topic)
        return limit
    finally:
        await admin.close()


async def raise_message_limit(bootstrap: str, topic: str, needed: int) -> int:
    """Raise ``topic``'s message limit to at least ``needed``; returns the limit after."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        return await _raise_limit(admin, topic, needed)
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    partitions: int = 3,
    replication: int = 1,
    with_dlq: bool = True,
    configs: TopicConfigs | None = None,
) -> None:
    """Create missing topics (and their ``.dlq``) with their configs.

    ``configs`` maps a topic name to its configs; a DLQ gets its topic's configs
    (a dead-lettered frame is still a whole frame). Existing topics are left
    alone, except that a message limit below the declared one is raised.
    """
    configs = configs or {}
    wanted: dict[str, Mapping[str, str]] = {}
    for topic in dict.fromkeys(topics):
        wanted[topic] = configs.get(topic, {})
        if with_dlq and not topic.endswith(".dlq"):
            wanted[f"{topic}.dlq"] = configs.get(topic, {})
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            name,
                            num_partitions=partitions,
                            replication_factor=replication,
                            topic_configs=dict(wanted[name]),
                        )
                        for name in missing
                    ]
                )
            except TopicAlreadyExistsError:
                # Another service created it between our list and create: that is fine.
                log.debug("topics created concurrently", extra={"topics": missing})
        for name in existing.intersection(wanted):
            needed = wanted[name].get(MAX_MESSAGE_BYTES)
            if needed is not None:
                await _raise_limit(admin, name, int(needed))
    finally:
        await admin.close()
