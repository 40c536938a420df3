"""Outbox and inbox throughput against the real PostgreSQL and Kafka.

Prints, measured in the same run:
  baseline   events/s of a bare idempotent producer (no database at all)
  outbox     events/s committed through the unit of work and published by the relay
  inbox      events/s applied by the consumer runner (inbox + effect + offset commit),
             per-event handler and batch handler

Run: make stack-up && uv run python bench/outbox_throughput.py [--events 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from city_common.db.database import Database
from city_common.db.uow import UnitOfWork
from city_common.events.registry import spec_for_type
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.messaging.consumer import ConsumerRunner, Subscription
from city_common.messaging.outbox import OutboxRelay
from city_common.observability.metrics import Metrics
from city_common.testing import KAFKA_BOOTSTRAP, migrated_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "libs" / "common" / "tests"))
from integration.conftest import incident  # noqa: E402

from sample_svc.app import record, record_batch  # noqa: E402

DETECTED = spec_for_type("city.traffic.incident.detected.v1")
KEYS = 64


async def baseline(topic: str, events: int) -> float:
    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="bench-baseline")
    await publisher.start()
    messages = []
    for i in range(events):
        key, event = DETECTED.build(incident(f"inc-{i % KEYS}", seq=i), source="/bench")
        messages.append((topic, key, event.to_headers(), event.data))
    started = time.perf_counter()
    for chunk in range(0, events, 500):
        await publisher.send_many(messages[chunk : chunk + 500])
    elapsed = time.perf_counter() - started
    await publisher.stop()
    return events / elapsed


async def outbox(db: Database, prefix: str, events: int, per_tx: int) -> tuple[float, float]:
    """(commit rate, end-to-end rate until the relay has published everything)."""
    relay = OutboxRelay(
        db.sessions,
        lambda: KafkaPublisher(KAFKA_BOOTSTRAP, client_id="bench-relay"),
        Metrics("bench"),
        batch_size=500,
        poll_interval_s=0.02,
    )
    started = time.perf_counter()
    relay_task = asyncio.create_task(relay.run())
    for base in range(0, events, per_tx):
        async with UnitOfWork(db.sessions, source="/bench", topic_prefix=prefix) as uow:
            for i in range(base, min(base + per_tx, events)):
                uow.emit(DETECTED, incident(f"inc-{i % KEYS}", seq=i))
            await uow.commit()
    committed = time.perf_counter() - started
    while True:
        async with db.sessions() as session:
            left = await session.scalar(
                text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            )
        if not left:
            break
        await asyncio.sleep(0.05)
    published = time.perf_counter() - started
    relay.stop()
    await relay_task
    return events / committed, events / published


async def inbox(db: Database, prefix: str, events: int, *, batch: bool) -> float:
    async with db.sessions() as session, session.begin():
        await session.execute(text("TRUNCATE ledger"))
    metrics = Metrics("bench")
    runner = ConsumerRunner(
        bootstrap=KAFKA_BOOTSTRAP,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        subscriptions=(
            Subscription(
                "traffic.incidents", record, batch_handler=record_batch if batch else None
            ),
        ),
        sessions=db.sessions,
        source="/bench",
        metrics=metrics,
        batch_size=500,
        topic_prefix=prefix,
    )
    started = time.perf_counter()
    task = asyncio.create_task(runner.run())
    while True:
        async with db.sessions() as session:
            done = await session.scalar(text("SELECT count(*) FROM ledger"))
        if done and done >= events:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    runner.stop()
    await task
    return events / elapsed


async def main(events: int, per_tx: int) -> None:
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    topic = prefix + DETECTED.topic
    await ensure_topics(KAFKA_BOOTSTRAP, [topic, prefix + "baseline"])
    url = await migrated_database("sample_svc", f"bench_{uuid.uuid4().hex[:8]}")
    db = Database(url, pool_size=5)
    try:
        base_rate = await baseline(prefix + "baseline", events)
        commit_rate, publish_rate = await outbox(db, prefix, events, per_tx)
        per_event = await inbox(db, prefix, events, batch=False)
        batched = await inbox(db, prefix, events, batch=True)
    finally:
        await db.dispose()
    print(f"events: {events}, keys: {KEYS}, events per transaction: {per_tx}")
    print(f"baseline  bare idempotent producer        {base_rate:10,.0f} events/s")
    print(f"outbox    committed (unit of work)        {commit_rate:10,.0f} events/s")
    print(
        f"outbox    committed and published (relay) {publish_rate:10,.0f} events/s"
        f"  ({publish_rate / base_rate:.0%} of baseline)"
    )
    print(f"inbox     applied, per-event handler      {per_event:10,.0f} events/s")
    print(f"inbox     applied, batch handler          {batched:10,.0f} events/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--per-tx", type=int, default=10, help="events per committed transaction")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.per_tx))
