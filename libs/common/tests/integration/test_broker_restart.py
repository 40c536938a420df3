"""The broker restarts while events are being committed and published."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from city_common.db.database import Database
from city_common.db.uow import UnitOfWork
from city_common.events.envelope import CloudEvent
from city_common.events.registry import spec_for_type
from city_common.messaging.topics import ensure_topics
from city_common.testing import KAFKA_BOOTSTRAP, read_topic

from .conftest import incident
from .test_outbox import relay_for

pytestmark = pytest.mark.integration

DETECTED = spec_for_type("city.traffic.incident.detected.v1")
REPO = Path(__file__).resolve().parents[4]
KAFKA_CTL = os.environ.get("CITY_KAFKA_CTL", str(REPO / "deploy" / "local" / "kafka.sh"))


def kafka(action: str) -> None:
    subprocess.run(["bash", KAFKA_CTL, action], check=True, timeout=180)  # noqa: S603, S607


async def test_no_committed_event_lost_when_broker_restarts(db: Database, prefix: str) -> None:
    topic = prefix + DETECTED.topic
    await ensure_topics(KAFKA_BOOTSTRAP, [topic])
    relay = relay_for(db, batch_size=50)
    relay_task = asyncio.create_task(relay.run())
    committed: list[str] = []

    async def commit_events(count: int, start: int) -> None:
        for i in range(start, start + count):
            async with UnitOfWork(db.sessions, source="/test", topic_prefix=prefix) as uow:
                ev = uow.emit(DETECTED, incident(f"inc-{i % 7}", seq=i))
                await uow.commit()
            committed.append(ev.id)
            await asyncio.sleep(0.01)

    try:
        await commit_events(100, 0)
        # Stop the broker while the service keeps committing, then bring it back.
        writer = asyncio.create_task(commit_events(200, 100))
        await asyncio.to_thread(kafka, "stop")
        await asyncio.sleep(2)
        await asyncio.to_thread(kafka, "start")
        await writer
        messages = await read_topic(topic, expected=len(committed), timeout_s=120)
    finally:
        relay.stop()
        await relay_task

    seen = {CloudEvent.from_headers(list(h.items()), v).id for _, h, v in messages}
    missing = set(committed) - seen
    assert len(committed) == 300
    assert not missing, f"{len(missing)} committed events never reached Kafka"
