"""One engine and session factory per service process, built by ``bootstrap()``."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# A pooled connection idle longer than this is pinged before it is handed out.
IDLE_PING_S = 10.0


def _ping_when_idle(engine: AsyncEngine, idle_s: float) -> None:
    """Ping a pooled connection before use only when it sat idle for ``idle_s``.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip and a
    rollback per transaction, a fifth of video-ingest's CPU at 776 frames a second.
    A connection in steady use has just proven itself; one that sat idle may have
    been cut by a database restart or a firewall, and gets the ping. A disconnect
    on a busy connection still fails that one transaction, and SQLAlchemy then
    invalidates the whole pool, so the next ones reconnect (its "optimistic"
    disconnect handling); the problem handlers answer it with a 503.
    """

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _idle_from(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_s:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool discards this connection and checks out another (3 tries).
            raise DisconnectionError("pooled connection lost while idle") from exc


class Database:
    def __init__(
        self, url: str, *, pool_size: int = 5, echo: bool = False, idle_ping_s: float = IDLE_PING_S
    ) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            echo=echo,
            # A statement that hangs must not hold a request forever.
            connect_args={"timeout": 5, "command_timeout": 30},
        )
        _ping_when_idle(self.engine, idle_ping_s)
        # expire_on_commit=False: objects stay readable after commit, when the
        # route serialises them, without a second round trip.
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dsn(self) -> str:
        """The URL as asyncpg takes it (for a connection of its own: LISTEN)."""
        url = make_url(self.url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def current_revisions(self) -> set[str]:
        async with self.engine.connect() as conn:
            exists = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
            if not exists:
                return set()
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}

    def session(self) -> AsyncSession:
        return self.sessions()

    async def dispose(self) -> None:
        await self.engine.dispose()
