"""Transactional outbox against the real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import text

from city_common.db.database import Database
from city_common.db.uow import UnitOfWork
from city_common.events.envelope import CloudEvent
from city_common.events.registry import spec_for_type
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.messaging.outbox import OutboxRelay
from city_common.observability.metrics import Metrics
from city_common.testing import KAFKA_BOOTSTRAP, read_topic

from .conftest import incident

pytestmark = pytest.mark.integration

DETECTED = spec_for_type("city.traffic.incident.detected.v1")


def relay_for(
    db: Database, batch_size: int = 7, retention: timedelta = timedelta(hours=24)
) -> OutboxRelay:
    return OutboxRelay(
        db.sessions,
        lambda: KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-relay"),
        Metrics("test"),
        batch_size=batch_size,
        poll_interval_s=0.05,
        retention=retention,
    )


@pytest.mark.parametrize("retention", [timedelta(hours=24), timedelta(0)])
async def test_published_rows_are_kept_for_the_retention_or_deleted_without_one(
    db: Database, prefix: str, retention: timedelta
) -> None:
    topic = prefix + DETECTED.topic
    await ensure_topics(KAFKA_BOOTSTRAP, [topic])
    async with UnitOfWork(db.sessions, source="/test", topic_prefix=prefix) as uow:
        ids = [uow.emit(DETECTED, incident(f"inc-{i}", seq=i)).id for i in range(5)]
        await uow.commit()

    relay = relay_for(db, retention=retention)
    try:
        assert await relay.publish_pending() == 5
        await relay.purge_published()
    finally:
        await relay._drop_publisher()
    delay = relay._metrics.outbox_publish_delay.labels(topic=topic)
    assert sum(b.get() for b in delay._buckets) == 5  # one per row published
    assert delay._sum.get() > 0
    messages = await read_topic(topic, expected=5, timeout_s=30)
    published = [CloudEvent.from_headers(list(h.items()), v).id for _, h, v in messages]
    assert sorted(published) == sorted(ids)

    async with db.sessions() as session:
        kept = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
        )
        left = await session.scalar(text("SELECT count(*) FROM outbox"))
    # A day's retention keeps them marked (the purge leaves young rows); none: gone.
    assert (kept, left) == ((5, 5) if retention else (0, 0))


async def test_rollback_publishes_nothing_commit_publishes_once_in_key_order(
    db: Database, prefix: str
) -> None:
    topic = prefix + DETECTED.topic
    await ensure_topics(KAFKA_BOOTSTRAP, [topic])

    # A unit of work that wrote its events to the outbox but never committed.
    async with UnitOfWork(db.sessions, source="/test", topic_prefix=prefix) as uow:
        for i in range(5):
            uow.emit(DETECTED, incident("rolled-back", seq=i))
        await uow.flush_events()

    # Committed events of three keys, interleaved over several transactions.
    committed: list[str] = []
    seq: dict[str, int] = defaultdict(int)
    for _ in range(10):
        async with UnitOfWork(db.sessions, source="/test", topic_prefix=prefix) as uow:
            for key in ("inc-a", "inc-b", "inc-c"):
                for _ in range(2):
                    ev = uow.emit(DETECTED, incident(key, seq=seq[key]))
                    seq[key] += 1
                    committed.append(ev.id)
            await uow.commit()
    assert len(committed) == 60

    # Two relays at once: SKIP LOCKED must not let them reorder a key.
    relays = [relay_for(db), relay_for(db)]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        messages = await read_topic(topic, expected=60, timeout_s=60)
        # Anything published twice or from the rolled-back unit would show up now.
        await asyncio.sleep(1.0)
        messages = await read_topic(topic, expected=61, timeout_s=3)
    finally:
        for r in relays:
            r.stop()
        await asyncio.gather(*tasks)

    events = [CloudEvent.from_headers(list(h.items()), v) for _, h, v in messages]
    ids = [e.id for e in events]
    assert len(ids) == 60
    assert sorted(ids) == sorted(committed)
    by_key: dict[str, list[int]] = defaultdict(list)
    for (key, _, _), event in zip(messages, events, strict=True):
        payload = json.loads(event.data)
        assert key is not None and key.decode() == payload["incident_id"]
        by_key[payload["incident_id"]].append(int(payload["intersection_id"].split("-")[1]))
    assert "rolled-back" not in by_key
    for key, seqs in by_key.items():
        assert seqs == list(range(20)), f"key {key} out of order: {seqs}"

    async with db.sessions() as session:
        pending = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        )
    assert pending == 0


async def test_an_event_the_broker_refuses_holds_back_only_its_own_key(
    db: Database, prefix: str
) -> None:
    from datetime import UTC, datetime

    from city_common.events import schemas as s

    frames = spec_for_type("city.camera.frame.captured.v1")
    topic = prefix + frames.topic
    # A topic that refuses anything over 4 KiB: the 10 KiB frame can never be published.
    await ensure_topics(KAFKA_BOOTSTRAP, [topic], configs={topic: {"max.message.bytes": "4096"}})

    def frame(camera: str) -> s.FrameCaptured:
        return s.FrameCaptured(
            camera_id=camera,
            camera_kind=s.CameraKind.FOREST,
            captured_at=datetime.now(UTC),
            pan_azimuth_deg=90.0,
        )

    sent: dict[str, list[str]] = defaultdict(list)
    async with UnitOfWork(db.sessions, source="/test", topic_prefix=prefix) as uow:
        for camera, size in (("cam-1", 200), ("cam-2", 10_000), ("cam-3", 200), ("cam-2", 200)):
            event = uow.emit(
                frames, frame(camera), data=b"\xff\xd8" + b"x" * size, content_type="image/jpeg"
            )
            sent[camera].append(event.id)
        for i in range(5):
            uow.emit(
                frames,
                frame("cam-1"),
                data=b"\xff\xd8" + bytes([i]) * 100,
                content_type="image/jpeg",
            )
        await uow.commit()

    metrics = Metrics("test")
    relay = OutboxRelay(
        db.sessions,
        lambda: KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-relay"),
        metrics,
        batch_size=50,
        poll_interval_s=0.05,
    )
    task = asyncio.create_task(relay.run())
    try:
        messages = await read_topic(topic, expected=7, timeout_s=30)
        await asyncio.sleep(1.0)
        await relay.refresh_backlog()
    finally:
        relay.stop()
        await task

    published = [CloudEvent.from_headers(list(h.items()), v) for _, h, v in messages]
    # Rows acknowledged in a batch that partly failed are not sent again.
    assert len({e.id for e in published}) == len(published) == 7
    cameras = [e.subject for e in published]
    assert cameras.count("cam-1") == 6 and cameras.count("cam-3") == 1
    # The refused frame is kept, and the camera's later frame waits behind it (order per key).
    assert "cam-2" not in cameras
    async with db.sessions() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT event_id, attempts, last_error FROM outbox "
                    "WHERE published_at IS NULL ORDER BY id"
                )
            )
        ).all()
    assert [r.event_id for r in rows] == sent["cam-2"]
    assert rows[0].attempts >= 1 and "MessageSizeTooLarge" in rows[0].last_error
    assert metrics.outbox_failing._value.get() >= 1
    assert metrics.outbox_backlog._value.get() == 2


async def test_a_commit_wakes_a_listening_relay_long_before_its_poll(
    db: Database, prefix: str
) -> None:
    topic = prefix + DETECTED.topic
    await ensure_topics(KAFKA_BOOTSTRAP, [topic])
    # A poll so slow that only the wake-up can explain a prompt publication.
    relay = OutboxRelay(
        db.sessions,
        lambda: KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-relay-listen"),
        Metrics("test"),
        poll_interval_s=10.0,
        listen_dsn=db.dsn,
    )
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(1.0)  # the first (empty) round, then asleep for 10 s
        async with UnitOfWork(db.sessions, source="/test", topic_prefix=prefix) as uow:
            uow.emit(DETECTED, incident("woken"))
            await uow.commit()
        started = asyncio.get_running_loop().time()
        messages = await read_topic(topic, expected=1, timeout_s=8)
        assert len(messages) == 1
        assert asyncio.get_running_loop().time() - started < 8
        assert relay.wakeups >= 1

        # A rolled-back unit notifies no one.
        woken = relay.wakeups
        async with UnitOfWork(db.sessions, source="/test", topic_prefix=prefix) as uow:
            uow.emit(DETECTED, incident("never"))
            await uow.flush_events()
        await asyncio.sleep(0.5)
        assert relay.wakeups == woken
    finally:
        relay.stop()
        await asyncio.wait_for(task, timeout=10)
