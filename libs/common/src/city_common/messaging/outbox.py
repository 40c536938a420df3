"""The outbox relay: publishes committed outbox rows, in order per key.

Claiming: only a key's oldest unpublished row (its head) can be claimed, with
``FOR UPDATE SKIP LOCKED``; the claimer then publishes that key's pending rows in
id order. A second relay skips the locked head, and the key's later rows are not
heads, so two relays never publish one key out of order.

Delivery is at least once: a crash after the broker acknowledged but before the
rows were marked repeats them, and consumers' inboxes absorb the repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from city_common.db.uow import OUTBOX_CHANNEL
from city_common.messaging.producer import KafkaPublisher
from city_common.observability.metrics import Metrics

log = logging.getLogger(__name__)

_CLAIM_HEADS = text(
    """
    WITH heads AS (
        SELECT DISTINCT ON (key) id FROM outbox
        WHERE published_at IS NULL
        ORDER BY key, id
    )
    SELECT o.key FROM outbox o JOIN heads h ON o.id = h.id
    WHERE o.published_at IS NULL AND o.available_at <= now()
    ORDER BY o.id
    LIMIT :keys
    FOR UPDATE OF o SKIP LOCKED
    """
)
_PENDING_OF_KEYS = text(
    """
    SELECT id, topic, key, headers, payload, created_at FROM outbox
    WHERE published_at IS NULL AND key = ANY(:keys)
    ORDER BY id
    LIMIT :limit
    """
)
_MARK = text("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY(:ids)")
# With no retention, a published row is deleted at once: no second version of the row,
# no index entries for it, nothing left for the purge. Kafka holds what was published.
_DELETE_PUBLISHED = text("DELETE FROM outbox WHERE id = ANY(:ids)")
# Backoff 0.5 s, 1 s, 2 s, ... capped at 30 s: after a broker outage every row has
# failed a few times, and none should wait long once the broker is back.
_FAILED = text(
    """
    UPDATE outbox SET attempts = attempts + 1, last_error = :error,
        available_at = now() + make_interval(secs => least(30, 0.5 * power(2, attempts)))
    WHERE id = ANY(:ids)
    """
)
_BACKLOG = text(
    "SELECT count(*), count(*) FILTER (WHERE attempts > 0) FROM outbox WHERE published_at IS NULL"
)
_PURGE = text("DELETE FROM outbox WHERE published_at < now() - make_interval(secs => :secs)")


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher_factory: Callable[[], KafkaPublisher],
        metrics: Metrics,
        *,
        batch_size: int = 200,
        poll_interval_s: float = 0.1,
        retention: timedelta = timedelta(hours=24),
        listen_dsn: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._publisher_factory = publisher_factory
        self._publisher: KafkaPublisher | None = None
        self._metrics = metrics
        self._batch_size = batch_size
        # Keys claimed per round: shrinks to 1 after a failure, so that an event the
        # broker refuses is isolated instead of failing (and repeating) whole batches.
        self._claim_keys = batch_size
        self._poll = poll_interval_s
        self._retention = retention
        # Zero retention: published rows are deleted in the transaction that saw them
        # acknowledged (video-ingest's frames: kept a day, 776 frames/s of ~30 kB
        # would be some 2 TB).
        self._keep_published = retention > timedelta(0)
        self._stopping = asyncio.Event()
        # With a DSN the relay LISTENs for the commits that wrote outbox rows and
        # publishes at once, instead of up to a poll interval later; polling stays as
        # the fallback (a lost connection, a notification missed).
        self._listen_dsn = listen_dsn
        self._listener: asyncpg.Connection | None = None
        self._wake = asyncio.Event()
        self.wakeups = 0

    async def _ensure_publisher(self) -> KafkaPublisher:
        if self._publisher is None:
            publisher = self._publisher_factory()
            await publisher.start()
            self._publisher = publisher
        return self._publisher

    async def _drop_publisher(self) -> None:
        # After a failure the producer's idempotence state may be stale; start clean.
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            try:
                await publisher.stop()
            except Exception:  # noqa: BLE001 - already failing; the new producer matters
                log.warning("error stopping failed producer", exc_info=True)

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were published."""
        publisher = await self._ensure_publisher()
        async with self._sessions() as session, session.begin():
            claimed = await session.execute(_CLAIM_HEADS, {"keys": self._claim_keys})
            keys = [row[0] for row in claimed]
            if not keys:
                return 0
            rows = (
                await session.execute(_PENDING_OF_KEYS, {"keys": keys, "limit": self._batch_size})
            ).all()
            try:
                outcomes = await publisher.send_each(
                    (
                        row.topic,
                        row.key,
                        [(name, value.encode()) for name, value in row.headers],
                        bytes(row.payload),
                    )
                    for row in rows
                )
            except Exception as exc:  # noqa: BLE001 - nothing was sent; all rows failed
                outcomes = [exc] * len(rows)
            # Per key, only the prefix acknowledged in order counts as published:
            # a row after a failed one waits, so the key's order holds on retry.
            published: list[int] = []
            failed: list[int] = []
            errors: list[BaseException] = []
            broken: set[str] = set()
            acknowledged = datetime.now(UTC)
            for row, outcome in zip(rows, outcomes, strict=True):
                if outcome is None and row.key not in broken:
                    published.append(row.id)
                    self._metrics.events_produced.labels(topic=row.topic).inc()
                    self._metrics.outbox_publish_delay.labels(topic=row.topic).observe(
                        max(0.0, (acknowledged - row.created_at).total_seconds())
                    )
                else:
                    broken.add(row.key)
                    failed.append(row.id)
                    if outcome is not None:
                        errors.append(outcome)
            if published:
                done = _MARK if self._keep_published else _DELETE_PUBLISHED
                await session.execute(done, {"ids": published})
            if failed:
                await session.execute(
                    _FAILED, {"ids": failed, "error": repr(errors[0] if errors else "")[:2000]}
                )
        if failed:
            # Isolate what the broker refuses, and start a fresh producer: after a
            # failure its idempotence state may be stale.
            self._claim_keys = 1
            await self._drop_publisher()
            log.warning(
                "outbox rows not published; retrying with backoff",
                extra={
                    "failed": len(failed),
                    "published": len(published),
                    "error": repr(errors[0]) if errors else None,
                },
            )
        else:
            self._claim_keys = min(self._batch_size, self._claim_keys * 2)
        return len(published)

    async def refresh_backlog(self) -> int:
        async with self._sessions() as session:
            backlog, failing = (await session.execute(_BACKLOG)).one()
        self._metrics.outbox_backlog.set(backlog)
        self._metrics.outbox_failing.set(failing)
        return int(backlog)

    async def purge_published(self) -> None:
        if not self._keep_published:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(_PURGE, {"secs": self._retention.total_seconds()})

    def stop(self) -> None:
        self._stopping.set()

    def _on_notify(self, *_: object) -> None:
        self.wakeups += 1
        self._wake.set()

    async def _ensure_listening(self) -> None:
        if self._listen_dsn is None:
            return
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = None
        try:
            listener = await asyncpg.connect(self._listen_dsn, timeout=5)
            await listener.add_listener(OUTBOX_CHANNEL, self._on_notify)
            self._listener = listener
        except (OSError, asyncpg.PostgresError, TimeoutError):
            log.warning("outbox relay cannot LISTEN; polling only", exc_info=True)

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            try:
                await listener.close(timeout=5)
            except Exception:  # noqa: BLE001 - closing; the server drops it anyway
                listener.terminate()

    async def _idle(self, timeout_s: float) -> None:
        """Wait for a commit's wake-up, the stop, or the poll interval."""
        waits = [asyncio.ensure_future(self._stopping.wait())]
        if self._listener is not None:
            waits.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
        self._wake.clear()

    async def run(self) -> None:
        backoff = self._poll
        loops = 0
        try:
            while not self._stopping.is_set():
                await self._ensure_listening()
                try:
                    published = await self.publish_pending()
                    backoff = self._poll
                    if loops % 20 == 0:
                        await self.refresh_backlog()
                    if loops % 6000 == 0:
                        await self.purge_published()
                    loops += 1
                    if published >= self._batch_size:
                        continue  # more is waiting; no sleep
                except Exception:  # noqa: BLE001 - the relay must outlive broker and DB outages
                    log.warning("outbox relay failed; retrying", exc_info=True)
                    backoff = min(backoff * 2, 5.0)
                await self._idle(backoff)
        finally:
            await self._close_listener()
            await self._drop_publisher()
