"""Unit of work: one transaction, rolled back unless ``commit()`` is called.

Events are collected with ``emit()`` and written to the outbox inside the same
transaction as the state change, so a rolled-back transaction publishes nothing.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from city_common.events.envelope import CloudEvent
from city_common.events.registry import EventSpec
from city_common.events.schemas import EventPayload

OUTBOX_CHANNEL = "outbox"
# The unit's events in emission order (the bigserial id is the publication order of
# a key), and the relays LISTENing woken, in one statement and one round trip of a
# text fixed at import. The notification is delivered at commit, once per
# transaction, never on rollback; relays poll anyway, so a lost one only waits.
_WRITE_OUTBOX = text(
    """
    WITH written AS (
        INSERT INTO outbox (event_id, topic, key, event_type, headers, payload)
        SELECT e.event_id, e.topic, e.key, e.event_type, CAST(e.headers AS jsonb), e.payload
        FROM unnest(
            CAST(:ids AS varchar[]), CAST(:topics AS varchar[]), CAST(:keys AS varchar[]),
            CAST(:types AS varchar[]), CAST(:headers AS text[]), CAST(:payloads AS bytea[])
        ) WITH ORDINALITY AS e(event_id, topic, key, event_type, headers, payload, n)
        ORDER BY e.n
        RETURNING 1
    )
    SELECT pg_notify(:channel, '') FROM (SELECT count(*) FROM written) AS done
    """
)


class UnitOfWork:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, source: str, topic_prefix: str = ""
    ) -> None:
        self._sessions = sessions
        self.source = source
        self.topic_prefix = topic_prefix
        self._session: AsyncSession | None = None
        self._pending: list[tuple[str, str, CloudEvent]] = []
        self.committed = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._pending = []
        self.committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self.committed:
                await session.rollback()
        finally:
            await session.close()
            self._session = None

    def emit(
        self,
        spec: EventSpec,
        payload: EventPayload,
        *,
        data: bytes | None = None,
        content_type: str | None = None,
    ) -> CloudEvent:
        """Queue an event; it reaches the outbox only if this unit commits."""
        key, event = spec.build(payload, source=self.source, data=data, content_type=content_type)
        self._pending.append((self.topic_prefix + spec.topic, key, event))
        return event

    async def flush_events(self) -> None:
        if not self._pending:
            return
        pending = self._pending
        await self.session.execute(
            _WRITE_OUTBOX,
            {
                "ids": [event.id for _, _, event in pending],
                "topics": [topic for topic, _, _ in pending],
                "keys": [key for _, key, _ in pending],
                "types": [event.type for _, _, event in pending],
                # JSONB keeps the header list in order; values are text.
                "headers": [
                    json.dumps([[name, value.decode()] for name, value in event.to_headers()])
                    for _, _, event in pending
                ],
                "payloads": [event.data for _, _, event in pending],
                "channel": OUTBOX_CHANNEL,
            },
        )
        self._pending = []

    async def commit(self) -> None:
        await self.flush_events()
        await self.session.commit()
        self.committed = True

    async def rollback(self) -> None:
        self._pending = []
        await self.session.rollback()
