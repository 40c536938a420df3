"""Consumer runner: consumer groups, no auto-commit, effectively-once effects.

For each fetch the runner decodes the messages, applies each topic's (all its
partitions' together), and only then commits the partitions' offsets. Applying
an event means: in one database transaction, record its id in the inbox
(skipping ids already there) and run the handler. A crash anywhere before the
offset commit redelivers the batch; the inbox makes the redelivery a no-op.

A message that cannot be decoded, or whose handler keeps failing after the
configured attempts, goes to ``<topic>.dlq`` with the error and its origin in
headers, and the partition moves on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from city_common.db.uow import UnitOfWork
from city_common.events.envelope import CloudEvent, EnvelopeError
from city_common.events.registry import spec_for_type
from city_common.events.schemas import EventPayload
from city_common.messaging.producer import KafkaPublisher
from city_common.observability.metrics import Metrics
from city_common.observability.tracing import current_traceparent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One decoded message and where it came from."""

    topic: str
    partition: int
    offset: int
    key: str | None
    event: CloudEvent
    payload: EventPayload


EventHandler = Callable[[Delivery, UnitOfWork], Awaitable[None]]
BatchHandler = Callable[[Sequence[Delivery], UnitOfWork], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """What a service does with a topic.

    ``handler`` runs per event; ``batch_handler`` (for high-rate topics such as
    camera frames) runs once per fetch, over the topic's partitions, in one
    transaction, and the runner falls back to ``handler`` one by one when the
    batch fails, so that a single poison event cannot hold the others back.
    """

    topic: str
    handler: EventHandler
    batch_handler: BatchHandler | None = None
    # Types on the topic this service acts on; others are acknowledged unread.
    event_types: frozenset[str] | None = None
    # Of those, the events this service acts on, told by their payload (for binary
    # events, their extension attributes); others are acknowledged without touching
    # the database: fire-detect passes over 703 traffic frames a second this way.
    accepts: Callable[[EventPayload], bool] | None = None


class _Poison(Exception):
    """A message that can never be processed; it goes to the DLQ at once."""


_DLQ_ERROR = "dlq-error"
# Above this many events in one batch (camera frames), log the batch, not each event.
_LOG_EACH_UP_TO = 20
# One statement text whatever the batch's size: a VALUES list of n rows is compiled
# anew by SQLAlchemy and prepared anew by PostgreSQL for every n, which cost a
# consumer of camera frames more CPU than the inbox rows themselves. ON CONFLICT DO
# NOTHING also skips an id that occurs twice within the batch.
_RECORD_FRESH = text(
    "INSERT INTO inbox (consumer_group, event_id, event_type, topic)"
    " SELECT :group_id, e.id, e.type, e.topic"
    " FROM unnest(CAST(:ids AS varchar[]), CAST(:types AS varchar[]),"
    " CAST(:topics AS varchar[])) AS e(id, type, topic)"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)


@dataclass
class ConsumerRunner:
    bootstrap: str
    group_id: str
    subscriptions: Sequence[Subscription]
    sessions: async_sessionmaker[AsyncSession]
    source: str
    metrics: Metrics
    max_attempts: int = 3
    retry_backoff_s: float = 0.2
    batch_size: int = 100
    client_id: str | None = None
    topic_prefix: str = ""
    # How long the broker may hold a fetch that finds no new data. Lower means events
    # reach the handler sooner, at the price of more fetches while idle.
    fetch_max_wait_ms: int = 500
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _consumer: AIOKafkaConsumer | None = None
    _dlq: KafkaPublisher | None = None

    def __post_init__(self) -> None:
        self._by_topic = {self.topic_prefix + s.topic: s for s in self.subscriptions}

    @property
    def topics(self) -> list[str]:
        return list(self._by_topic)

    def stop(self) -> None:
        self._stopping.set()

    # --- lifecycle ---------------------------------------------------------

    async def run(self) -> None:
        """Consume until ``stop()``; reconnects after broker outages."""
        while not self._stopping.is_set():
            try:
                await self._run_once()
            except Exception:  # noqa: BLE001 - a consumer must outlive broker outages
                log.warning("consumer loop failed; restarting", exc_info=True)
                await self._close()
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=2.0)
                except TimeoutError:
                    pass
        await self._close()

    async def _run_once(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self._by_topic,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id=self.client_id or self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=self.batch_size,
            # A camera frame is ~50 KiB: the default 1 MiB per partition and fetch
            # held a frame consumer to ~20 frames a partition a round trip.
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        await self._consumer.start()
        self._dlq = KafkaPublisher(self.bootstrap, client_id=f"{self.group_id}-dlq")
        await self._dlq.start()
        while not self._stopping.is_set():
            batches = await self._consumer.getmany(timeout_ms=500, max_records=self.batch_size)
            await self._handle_fetch(batches, datetime.now(UTC))

    async def _close(self) -> None:
        consumer, self._consumer = self._consumer, None
        dlq, self._dlq = self._dlq, None
        for closer in (consumer.stop if consumer else None, dlq.stop if dlq else None):
            if closer is None:
                continue
            try:
                await closer()
            except Exception:  # noqa: BLE001 - shutting down; nothing left to save
                log.warning("error while closing consumer", exc_info=True)

    # --- processing --------------------------------------------------------

    async def _handle_fetch(
        self, batches: dict[TopicPartition, list[ConsumerRecord]], received: datetime
    ) -> None:
        """One fetch: each topic's messages, all its partitions together, then every
        partition's offset in one commit.

        Together, because a batch handler's transaction, and the commit, cost the
        same for ten events as for a hundred: taken a partition at a time, camera
        frames waited on three transactions and three commits a round, which was
        most of their time in fire-detect (ADR 0015). Order within a partition
        (which is order per key) is kept; the partitions' events are not ordered
        among themselves, by Kafka or here.
        """
        by_topic: dict[str, list[ConsumerRecord]] = {}
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batches.items():
            if records:
                by_topic.setdefault(tp.topic, []).extend(records)
                offsets[tp] = records[-1].offset + 1
        for topic, records in by_topic.items():
            await self._handle_topic(topic, records, received)
        if not offsets:
            return
        assert self._consumer is not None  # noqa: S101 - set while running
        await self._consumer.commit(offsets)
        for tp, position in offsets.items():
            highwater = self._consumer.highwater(tp)
            if highwater is not None:
                self.metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(
                    max(0, highwater - position)
                )

    async def _handle_topic(
        self, topic: str, records: list[ConsumerRecord], received: datetime
    ) -> None:
        sub = self._by_topic[topic]
        deliveries: list[Delivery] = []
        by_place: dict[tuple[int, int], ConsumerRecord] = {}
        age = self.metrics.event_age_seconds.labels(topic=topic)
        for record in records:
            try:
                delivery = self._decode(record, sub)
            except _Poison as exc:
                await self._dead_letter(record, exc.__cause__ or exc, attempts=0)
                continue
            if delivery is not None:
                deliveries.append(delivery)
                by_place[(record.partition, record.offset)] = record
                age.observe(max(0.0, (received - delivery.event.time).total_seconds()))
            else:
                # Not for this service (another type, or one its `accepts` passes over).
                self.metrics.events_consumed.labels(topic=topic, outcome="skipped").inc()

        if sub.batch_handler is not None and len(deliveries) > 1:
            try:
                with self.metrics.consumer_batch_seconds.labels(topic=topic).time():
                    await self._apply(deliveries, sub.batch_handler)
                deliveries = []
            except Exception:  # noqa: BLE001 - fall back to one by one to isolate the culprit
                log.warning("batch failed; processing one by one", exc_info=True)
        for delivery in deliveries:
            await self._process_one(delivery, sub, by_place[(delivery.partition, delivery.offset)])

    def _decode(self, record: ConsumerRecord, sub: Subscription) -> Delivery | None:
        try:
            event = CloudEvent.from_headers(record.headers or (), record.value)
            if sub.event_types is not None and event.type not in sub.event_types:
                return None
            payload = spec_for_type(event.type).decode(event)
        except EnvelopeError as exc:
            raise _Poison(str(exc)) from exc
        if sub.accepts is not None and not sub.accepts(payload):
            return None
        key = record.key.decode(errors="replace") if record.key is not None else None
        return Delivery(record.topic, record.partition, record.offset, key, event, payload)

    async def _apply(self, deliveries: Sequence[Delivery], handler: BatchHandler) -> None:
        """Inbox + effect in one transaction; duplicates are filtered out first."""
        async with UnitOfWork(
            self.sessions, source=self.source, topic_prefix=self.topic_prefix
        ) as uow:
            params = {
                "group_id": self.group_id,
                "ids": [d.event.id for d in deliveries],
                "types": [d.event.type for d in deliveries],
                "topics": [d.topic for d in deliveries],
            }
            fresh_ids = {row[0] for row in await uow.session.execute(_RECORD_FRESH, params)}
            # An id delivered twice within one batch is applied once, at its first place.
            first_of_id: dict[str, Delivery] = {}
            for d in deliveries:
                if d.event.id in fresh_ids:
                    first_of_id.setdefault(d.event.id, d)
            unique = list(first_of_id.values())
            if unique:
                # One event: its trace is the work's trace, so the handler's logs and
                # the events it emits continue it. A batch mixes traces; each event
                # is still logged under its own below.
                token = current_traceparent.set(unique[0].event.traceparent)
                try:
                    await handler(unique, uow)
                finally:
                    current_traceparent.reset(token)
            await uow.commit()
        applied_ids = {id(d) for d in unique}
        for d in deliveries:
            # Only the first delivery of a fresh id had an effect; later copies,
            # in this batch or from the inbox, are duplicates.
            applied = id(d) in applied_ids
            self.metrics.events_consumed.labels(
                topic=d.topic, outcome="applied" if applied else "duplicate"
            ).inc()
            if len(deliveries) <= _LOG_EACH_UP_TO:
                token = current_traceparent.set(d.event.traceparent)
                try:
                    log.info(
                        "event applied" if applied else "duplicate event skipped",
                        extra={
                            "event_type": d.event.type,
                            "event_id": d.event.id,
                            "topic": d.topic,
                            "offset": d.offset,
                        },
                    )
                finally:
                    current_traceparent.reset(token)
        if len(deliveries) > _LOG_EACH_UP_TO:
            log.info(
                "batch applied", extra={"topic": deliveries[0].topic, "events": len(deliveries)}
            )

    async def _process_one(
        self, delivery: Delivery, sub: Subscription, record: ConsumerRecord
    ) -> None:
        async def single(items: Sequence[Delivery], uow: UnitOfWork) -> None:
            for item in items:
                await sub.handler(item, uow)

        last_exc: BaseException | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._apply([delivery], single)
                return
            except Exception as exc:  # noqa: BLE001 - counted, retried, then dead-lettered
                last_exc = exc
                self.metrics.events_failed.labels(topic=delivery.topic).inc()
                log.warning(
                    "handler failed",
                    extra={
                        "topic": delivery.topic,
                        "offset": delivery.offset,
                        "event_id": delivery.event.id,
                        "attempt": attempt,
                        "error": repr(exc),
                    },
                )
                if attempt < self.max_attempts:
                    await asyncio.sleep(self.retry_backoff_s * 2 ** (attempt - 1))
        assert last_exc is not None  # noqa: S101 - the loop ran at least once
        await self._dead_letter(record, last_exc, attempts=self.max_attempts)

    async def _dead_letter(
        self, record: ConsumerRecord, error: BaseException, *, attempts: int
    ) -> None:
        headers = list(record.headers or ()) + [
            (_DLQ_ERROR, repr(error)[:4000].encode()),
            ("dlq-error-type", type(error).__name__.encode()),
            ("dlq-original-topic", record.topic.encode()),
            ("dlq-original-partition", str(record.partition).encode()),
            ("dlq-original-offset", str(record.offset).encode()),
            ("dlq-consumer-group", self.group_id.encode()),
            ("dlq-attempts", str(attempts).encode()),
        ]
        # The DLQ write must succeed before the offset moves, or the message is lost.
        delay = 0.5
        while True:
            try:
                assert self._dlq is not None  # noqa: S101 - set while running
                await self._dlq.send_raw(
                    f"{record.topic}.dlq", key=record.key, headers=headers, value=record.value
                )
                break
            except Exception:  # noqa: BLE001 - retried until the broker takes it
                if self._stopping.is_set():
                    raise
                log.warning("DLQ publish failed; retrying", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        self.metrics.events_dead_lettered.labels(topic=record.topic).inc()
        log.error(
            "event dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "error": repr(error),
            },
        )
