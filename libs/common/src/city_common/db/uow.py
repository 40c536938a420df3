"""Unit of work: one transaction, rolled back unless ``commit()`` is called.

Events are collected with ``emit()`` and written to the outbox inside the same
transaction as the state change, so a rolled-back transaction publishes nothing.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from city_common.db.messaging import outbox
from city_common.events.envelope import CloudEvent
from city_common.events.registry import EventSpec
from city_common.events.schemas import EventPayload

OUTBOX_CHANNEL = "outbox"
_WAKE_RELAY = text(f"NOTIFY {OUTBOX_CHANNEL}")


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
        rows = [
            {
                "event_id": event.id,
                "topic": topic,
                "key": key,
                "event_type": event.type,
                # JSONB keeps the header list in order; values are text by the binding.
                "headers": [[name, value.decode()] for name, value in event.to_headers()],
                "payload": event.data,
            }
            for topic, key, event in self._pending
        ]
        await self.session.execute(insert(outbox), rows)
        # Wakes the relays LISTENing (delivered at commit, once per transaction, and
        # not at all on rollback); they poll anyway, so a lost wake-up only waits.
        await self.session.execute(_WAKE_RELAY)
        self._pending = []

    async def commit(self) -> None:
        await self.flush_events()
        await self.session.commit()
        self.committed = True

    async def rollback(self) -> None:
        self._pending = []
        await self.session.rollback()
