"""The live event feed for the dashboard and apps: Kafka to server-sent events.

Every gateway instance must see every event (each holds its own SSE clients), so
the feed reads all partitions without a consumer group, from the latest offset,
and commits nothing: it is a view, not a processor.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer

from city_common.events.envelope import CloudEvent, EnvelopeError
from city_common.events.registry import spec_for_type
from city_common.observability.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    id: str
    type: str
    topic: str
    time: str
    subject: str | None
    data: dict[str, Any]
    trace_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "topic": self.topic,
            "time": self.time,
            "subject": self.subject,
            "data": self.data,
            "trace_id": self.trace_id,
        }


class LiveFeed:
    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        metrics: Metrics,
        *,
        buffer: int = 200,
        subscriber_queue: int = 500,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._metrics = metrics
        self.recent: deque[LiveEvent] = deque(maxlen=buffer)
        self._subscribers: set[asyncio.Queue[LiveEvent]] = set()
        self._queue_size = subscriber_queue
        self._stopping = asyncio.Event()
        self.connected = asyncio.Event()

    def subscribe(self) -> asyncio.Queue[LiveEvent]:
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=self._queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[LiveEvent]) -> None:
        self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish_local(self, event: LiveEvent) -> None:
        self.recent.append(event)
        for queue in list(self._subscribers):
            if queue.full():
                # A slow client loses its oldest events rather than stalling everyone.
                queue.get_nowait()
            queue.put_nowait(event)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            consumer = AIOKafkaConsumer(
                *self._topics,
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="latest",
            )
            try:
                await consumer.start()
                self.connected.set()
                while not self._stopping.is_set():
                    batches = await consumer.getmany(timeout_ms=500, max_records=500)
                    for records in batches.values():
                        for record in records:
                            self._accept(record.topic, record.headers or (), record.value)
            except Exception:  # noqa: BLE001 - the feed must survive broker outages
                log.warning("live feed lost Kafka; reconnecting", exc_info=True)
                await asyncio.sleep(2.0)
            finally:
                self.connected.clear()
                await consumer.stop()

    def _accept(
        self, topic: str, headers: Sequence[tuple[str, bytes]], value: bytes | None
    ) -> None:
        try:
            event = CloudEvent.from_headers(headers, value)
            payload = spec_for_type(event.type).decode(event)
        except EnvelopeError:
            # Not ours to dead-letter: the owning consumers do that. Just skip it.
            log.info("live feed skipped an invalid event", extra={"topic": topic})
            return
        self._metrics.events_consumed.labels(topic=topic, outcome="streamed").inc()
        traceparent = event.traceparent
        self.publish_local(
            LiveEvent(
                id=event.id,
                type=event.type,
                topic=topic,
                time=event.time.isoformat(),
                subject=event.subject,
                data=json.loads(payload.model_dump_json()),
                trace_id=traceparent.split("-")[1] if traceparent else None,
            )
        )
