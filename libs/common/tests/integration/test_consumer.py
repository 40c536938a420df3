"""Consumer runner: effectively-once effects and the dead-letter topic, for real."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from city_common.db.database import Database
from city_common.events.envelope import CloudEvent
from city_common.events.registry import spec_for_type
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.messaging.consumer import ConsumerRunner, Subscription
from city_common.observability.metrics import Metrics
from city_common.testing import KAFKA_BOOTSTRAP, read_topic, unique, wait_until
from sample_svc.app import record, record_batch

from .conftest import incident, ledger_stats

pytestmark = pytest.mark.integration

DETECTED = spec_for_type("city.traffic.incident.detected.v1")
TESTS = Path(__file__).resolve().parents[1]


async def publish_incidents(topic: str, count: int, *, key: str = "same") -> list[str]:
    """Publish ``count`` incidents under one Kafka key, so they share a partition."""
    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-publisher")
    await publisher.start()
    ids = []
    try:
        messages = []
        for i in range(count):
            _, event = DETECTED.build(incident(f"inc-{i:05d}", seq=i), source="/test")
            ids.append(event.id)
            messages.append((topic, key, event.to_headers(), event.data))
        await publisher.send_many(messages)
    finally:
        await publisher.stop()
    return ids


def runner(db: Database, prefix: str, group: str, metrics: Metrics, **kw: object) -> ConsumerRunner:
    return ConsumerRunner(
        bootstrap=KAFKA_BOOTSTRAP,
        group_id=group,
        subscriptions=kw.pop("subs", (Subscription("traffic.incidents", record),)),  # type: ignore[arg-type]
        sessions=db.sessions,
        source="/test",
        metrics=metrics,
        topic_prefix=prefix,
        **kw,  # type: ignore[arg-type]
    )


async def test_consumer_killed_mid_batch_applies_every_event_exactly_once(
    db: Database, sample_db: str, prefix: str
) -> None:
    topic = prefix + "traffic.incidents"
    await ensure_topics(KAFKA_BOOTSTRAP, [topic])
    total = 300
    await publish_incidents(topic, total)
    group = unique("kill-group")

    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.Popen(  # noqa: S603 - our own test script
        [sys.executable, str(TESTS / "integration" / "consumer_proc.py"), sample_db, prefix, group],
        env=env,
    )
    try:

        async def some_applied() -> bool:
            rows, _ = await ledger_stats(db)
            return rows >= 40

        await wait_until(some_applied, timeout_s=60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    rows_at_kill, _ = await ledger_stats(db)
    assert 40 <= rows_at_kill < total, "the kill must land in the middle of the batch"

    # Restart: the uncommitted batch is redelivered; the inbox absorbs what was applied.
    metrics = Metrics("test")
    restarted = runner(db, prefix, group, metrics, batch_size=1000)
    task = asyncio.create_task(restarted.run())
    try:

        async def all_applied() -> bool:
            _, distinct = await ledger_stats(db)
            return distinct >= total

        await wait_until(all_applied, timeout_s=60)
        await asyncio.sleep(0.5)
    finally:
        restarted.stop()
        await task
    rows, distinct = await ledger_stats(db)
    assert (rows, distinct) == (total, total)
    duplicates = metrics.events_consumed.labels(topic=topic, outcome="duplicate")._value.get()
    assert duplicates >= rows_at_kill, "the redelivered events were seen and skipped"
    # Each delivery's age at receipt is observed once; these waited through the
    # first consumer's start and kill, seconds at least.
    applied = metrics.events_consumed.labels(topic=topic, outcome="applied")._value.get()
    age = metrics.event_age_seconds.labels(topic=topic)
    count = sum(b.get() for b in age._buckets)
    assert count == applied + duplicates
    assert age._sum.get() / count >= 0.5


@pytest.mark.parametrize("batch", [False, True], ids=["per-event", "batch"])
async def test_poison_message_goes_to_dlq_after_attempts_and_partition_moves_on(
    db: Database, prefix: str, batch: bool
) -> None:
    topic = prefix + "traffic.incidents"
    await ensure_topics(KAFKA_BOOTSTRAP, [topic])
    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-publisher")
    await publisher.start()
    good_before = DETECTED.build(incident("good-1", severity=1), source="/test")[1]
    poison = DETECTED.build(incident("poison", severity=5), source="/test")[1]
    good_after = DETECTED.build(incident("good-2", severity=2), source="/test")[1]
    # Not a CloudEvent at all: no ce_ headers.
    malformed = (topic, "same", [("content-type", b"application/json")], b'{"oops": 1}')
    try:
        await publisher.send_many(
            [
                (topic, "same", good_before.to_headers(), good_before.data),
                (topic, "same", poison.to_headers(), poison.data),
                malformed,
                (topic, "same", good_after.to_headers(), good_after.data),
            ]
        )
    finally:
        await publisher.stop()

    metrics = Metrics("test")
    subs = (
        Subscription("traffic.incidents", record, batch_handler=record_batch if batch else None),
    )
    consumer = runner(
        db, prefix, unique("poison-group"), metrics, subs=subs, max_attempts=3, retry_backoff_s=0.01
    )
    task = asyncio.create_task(consumer.run())
    try:
        dead = await read_topic(topic + ".dlq", expected=2, timeout_s=60)

        async def both_good_applied() -> bool:
            rows, _ = await ledger_stats(db)
            return rows >= 2

        await wait_until(both_good_applied, timeout_s=30)
    finally:
        consumer.stop()
        await task

    assert await ledger_stats(db) == (2, 2)
    assert len(dead) == 2
    by_reason = {h["dlq-attempts"].decode(): h for _, h, _ in dead}
    poisoned = by_reason["3"]
    assert poisoned["ce_id"].decode() == poison.id
    assert b"poison" in poisoned["dlq-error"]
    assert poisoned["dlq-original-topic"].decode() == topic
    assert poisoned["dlq-original-offset"].decode() == "1"
    undecodable = by_reason["0"]
    assert b"missing CloudEvents attributes" in undecodable["dlq-error"]
    assert undecodable["dlq-original-offset"].decode() == "2"
    assert metrics.events_failed.labels(topic=topic)._value.get() == 3
    assert metrics.events_dead_lettered.labels(topic=topic)._value.get() == 2
    # The original bytes travel unchanged, so the event can be replayed after a fix.
    replay = CloudEvent.from_headers(
        [(k, v) for k, v in poisoned.items() if not k.startswith("dlq-")],
        next(v for _, h, v in dead if h["dlq-attempts"] == b"3"),
    )
    assert replay.id == poison.id and replay.data == poison.data
