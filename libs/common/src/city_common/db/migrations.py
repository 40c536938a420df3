"""Alembic helpers: each service keeps its own migrations inside its package.

Migrations are their own step (``city-migrate <package>``), never run at import
time; readiness reports an app whose database is not at head as not ready.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.resources
import os
from collections.abc import Sequence

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from city_common.db.messaging import messaging_metadata


def script_location(package: str) -> str:
    return str(importlib.resources.files(package) / "migrations")


def alembic_config(package: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location(package))
    # Alembic's config reads % as interpolation; a percent-encoded password needs %%.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revisions(package: str) -> set[str]:
    cfg = Config()
    cfg.set_main_option("script_location", script_location(package))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def upgrade(package: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(package, url), revision)


def run_env(service_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``."""
    target: Sequence[MetaData] = [service_metadata, messaging_metadata]
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or os.environ["CITY_DATABASE_URL"]

    def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
        # PostGIS owns these; autogenerate must not try to drop them.
        return not (type_ == "table" and name in {"spatial_ref_sys"})

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection: Connection) -> None:
        # Replicas starting together (init containers, compose jobs) migrate one at
        # a time; the lock is released with the session.
        connection.exec_driver_sql("SELECT pg_advisory_lock(7263300001)")
        # End the transaction the lock query began, or Alembic would run inside it
        # and never commit; a session-level advisory lock outlives the commit.
        connection.commit()
        context.configure(
            connection=connection, target_metadata=target, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = async_engine_from_config(
            {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        async with engine.connect() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Upgrade a service's database to head.")
    parser.add_argument("package", help="the service's Python package, e.g. fire_detect")
    parser.add_argument("--url", default=os.environ.get("CITY_DATABASE_URL"))
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("--url or CITY_DATABASE_URL is required")
    url = args.url.replace("postgresql://", "postgresql+asyncpg://", 1)
    upgrade(args.package, url, args.revision)


if __name__ == "__main__":
    main()
