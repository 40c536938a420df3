"""Idempotent Kafka producer (acks=all) and topic provisioning."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaProducer

from city_common.events.envelope import CloudEvent

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes]]


class KafkaPublisher:
    """Wraps one ``AIOKafkaProducer``; recreated by the relay after a failure.

    Idempotence (which implies acks=all) keeps retries from duplicating or
    reordering messages within a partition.
    """

    def __init__(self, bootstrap: str, *, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        return self._producer is not None

    async def start(self) -> None:
        if self._producer is not None:
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            request_timeout_ms=10_000,
            max_request_size=8 * 1024 * 1024,
            # The producer sends one batch per partition per request and waits for
            # its answer: with the default 16 KiB batches a camera frame (~50 KiB)
            # travels alone, three frames a round trip on a three-partition topic,
            # and the relay fell behind at 200 frames/s. 1 MiB batches carry ~20.
            max_batch_size=1024 * 1024,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    def _require(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("publisher not started")
        return self._producer

    async def send_many(
        self, messages: Iterable[tuple[str, str | None, Headers, bytes | None]]
    ) -> None:
        """Send in order and wait until every message is acknowledged."""
        producer = self._require()
        futures = []
        for topic, key, headers, value in messages:
            futures.append(
                await producer.send(
                    topic,
                    value=value,
                    key=key.encode() if key is not None else None,
                    headers=list(headers),
                )
            )
        if futures:
            await asyncio.gather(*futures)

    async def send_each(
        self, messages: Iterable[tuple[str, str | None, Headers, bytes | None]]
    ) -> list[BaseException | None]:
        """Send in order; the outcome of each message (None when acknowledged)."""
        producer = self._require()
        futures = []
        for topic, key, headers, value in messages:
            futures.append(
                await producer.send(
                    topic,
                    value=value,
                    key=key.encode() if key is not None else None,
                    headers=list(headers),
                )
            )
        results = await asyncio.gather(*futures, return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]

    async def send_raw(
        self, topic: str, *, key: bytes | None, headers: Headers, value: bytes | None
    ) -> None:
        """Send bytes as they are (used to forward a message to its DLQ)."""
        await self._require().send_and_wait(topic, value=value, key=key, headers=list(headers))

    async def publish(self, topic: str, key: str, event: CloudEvent) -> None:
        await self.send_many([(topic, key, event.to_headers(), event.data)])

    async def check(self, timeout_s: float = 3.0) -> None:
        """Raise unless a broker answers a metadata request."""
        producer = self._require()
        ok = await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout_s)
        if not ok.brokers():
            raise ConnectionError("no Kafka broker in metadata")
