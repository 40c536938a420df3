"""Case intake from Kafka: how many cases per second grid-events' consumer opens.

Publishes --events incidents (a third each: forest fire alarms on ``fire.alarms``,
traffic incidents on ``traffic.incidents``, air-quality exceedances on
``env.exceedances``) under a throwaway topic prefix, at places 400 m apart so that
de-duplication (200 m) merges none of them: each becomes one case. Then starts
grid-events (in this process, as the tests do) on a fresh database with a 10 × 10
grid of cells and times its consumer until every case is in the database. Each
event goes through the service's full path: validation, the inbox, de-duplication
lookup, point-to-cell lookup, the case and its report, the ``grid.cases`` event in
the outbox, one transaction, and the relay publishing that event.

Baseline, measured in the same run: a bare aiokafka consumer reading the same
messages (no database, no parsing).

Run: make stack-up && uv run python bench/grid/intake_bench.py [--events 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.messaging.producer import Headers
from city_common.testing import (
    KAFKA_BOOTSTRAP,
    PG_HOST,
    PG_PASSWORD,
    PG_PORT,
    PG_USER,
    drop_created_databases,
    migrated_database,
    running_app,
    settings_for_test,
    unique,
)
from grid_events.bootstrap import create_app
from grid_events.config import Settings

TOPICS = ("fire.alarms", "traffic.incidents", "env.exceedances")
PARTITIONS = 3  # as the services create them (CITY_KAFKA_TOPIC_PARTITIONS)
SPACING = 0.004  # degrees: about 440 m north-south and 390 m east-west here
COLUMNS = 82  # 82 × 82 places per kind: 6,724 ≥ 20,000 / 3
WEST, SOUTH = 105.80, 29.25

Message = tuple[str, str | None, Headers, bytes | None]

CELLS_SQL = """
INSERT INTO grid_cells (id, name, level, parent_id, geom)
SELECT format('c%s-%s', r, c), format('cell %s-%s', r, c), 'cell', NULL,
       ST_Multi(ST_MakeEnvelope(105.80 + c * 0.034, 29.25 + r * 0.034,
                                105.834 + c * 0.034, 29.284 + r * 0.034, 4326))
FROM generate_series(0, 9) AS r, generate_series(0, 9) AS c;
"""


def place(i: int) -> GeoPoint:
    row, col = divmod(i, COLUMNS)
    return GeoPoint.of(round(WEST + col * SPACING, 6), round(SOUTH + row * SPACING, 6))


def messages(prefix: str, events: int) -> list[Message]:
    now = datetime.now(UTC)
    out: list[Message] = []
    for n in range(events):
        kind, i = n % 3, n // 3
        if kind == 0:
            payload: s.EventPayload = s.FireAlarmRaised(
                alarm_id=f"fa-{n}",
                raised_at=now,
                location=place(i),
                uncertainty_m=100.0,
                confidence=0.9,
                danger_level=3,
            )
            spec = spec_for_type("city.fire.alarm.raised.v1")
        elif kind == 1:
            payload = s.TrafficIncidentDetected(
                incident_id=f"ti-{n}",
                kind=s.TrafficIncidentKind.COLLISION,
                detected_at=now,
                location=place(i),
                severity=3,
            )
            spec = spec_for_type("city.traffic.incident.detected.v1")
        else:
            payload = s.ExceedanceDetected(
                exceedance_id=f"ex-{n}",
                cell_id="c0-0",
                medium=s.EnvMedium.AIR,
                pollutant="pm2_5",
                concentration=160.0,
                limit=75.0,
                unit="ug/m3",
                observed_hour=now.replace(minute=0, second=0, microsecond=0),
                location=place(i),
            )
            spec = spec_for_type("city.env.exceedance.detected.v1")
        key, event = spec.build(payload, source="/bench")
        out.append((prefix + TOPICS[kind], key, event.to_headers(), event.data))
    return out


async def publish(prefix: str, events: int) -> float:
    batch = messages(prefix, events)
    publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="bench-intake")
    await publisher.start()
    try:
        started = time.perf_counter()
        for chunk in range(0, len(batch), 500):
            await publisher.send_many(batch[chunk : chunk + 500])
        return time.perf_counter() - started
    finally:
        await publisher.stop()


async def raw_consume(prefix: str, events: int) -> float:
    """Seconds for a bare consumer to read every message.

    The partitions are assigned, not joined through a group: the clock runs from
    the first fetch to the last message, with no rebalance in it.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(prefix + topic, p) for topic in TOPICS for p in range(PARTITIONS)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen, started = 0, time.perf_counter()
        while seen < events:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            seen += sum(len(records) for records in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def count_cases(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM cases"))


async def service_consume(url: str, prefix: str, events: int) -> tuple[float, float, int]:
    """(seconds from the first case to the last, from start-up to the last, cases)."""
    settings = settings_for_test(Settings, url, topic_prefix=prefix, log_level="WARNING")
    conn = await asyncpg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        password=PG_PASSWORD,
        database=url.rsplit("/", 1)[1],
    )
    try:
        started = time.perf_counter()
        async with running_app(create_app(settings)):
            first = None
            # The rate per quarter shows whether it holds as the tables grow.
            marks = [events * q // 4 for q in (1, 2, 3)]
            last_mark, last_at = 0, 0.0
            while True:
                cases = await count_cases(conn)
                now = time.perf_counter()
                if cases and first is None:
                    first, last_at = now, now
                if marks and cases >= marks[0]:
                    print(
                        f"  {cases:>7,} cases: {(cases - last_mark) / (now - last_at):>6,.0f}/s "
                        "since the previous mark"
                    )
                    last_mark, last_at = cases, now
                    while marks and cases >= marks[0]:
                        marks.pop(0)
                if cases >= events:
                    break
                if time.perf_counter() - started > 1800:
                    raise RuntimeError(f"only {cases:,} of {events:,} cases after 30 minutes")
                await asyncio.sleep(0.2)
            done = time.perf_counter()
        assert first is not None  # noqa: S101
        return done - first, done - started, await count_cases(conn)
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    if args.events > 3 * COLUMNS * COLUMNS:
        parser.error(f"at most {3 * COLUMNS * COLUMNS:,} events keep 400 m apart")
    prefix = unique("bench") + "."
    url = await migrated_database("grid_events", f"test_bench_intake_{uuid.uuid4().hex[:8]}")
    try:
        conn = await asyncpg.connect(
            host=PG_HOST,
            port=PG_PORT,
            user=PG_USER,
            password=PG_PASSWORD,
            database=url.rsplit("/", 1)[1],
        )
        await conn.execute(CELLS_SQL)
        await conn.close()
        await ensure_topics(
            KAFKA_BOOTSTRAP,
            [prefix + t for t in (*TOPICS, "camera.status", "grid.cases")],
            partitions=PARTITIONS,
        )
        published = await publish(prefix, args.events)
        print(
            f"published {args.events:,} events to 3 topics in {published:.1f} s "
            f"({args.events / published:,.0f}/s); {os.cpu_count()} CPUs"
        )
        raw = await raw_consume(prefix, args.events)
        print(
            f"baseline: bare consumer         {args.events / raw:>9,.0f} messages/s ({raw:.1f} s)"
        )
        busy, total, cases = await service_consume(url, prefix, args.events)
        print(
            f"grid-events consumer           {cases / busy:>9,.0f} cases/s    ({busy:.1f} s from "
            f"the first case to the last; {cases / total:,.0f}/s over {total:.1f} s with start-up)"
        )
        print(f"service rate / bare consumer    {(cases / busy) / (args.events / raw):>9.2%}")
    finally:
        await drop_created_databases()


if __name__ == "__main__":
    asyncio.run(main())
