"""Helpers for integration tests against the real PostgreSQL and Kafka of the dev stack.

Each test module gets databases and topics of its own, so the suites never see
each other's data, nor that of a ``make run`` stack sharing the same cluster.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from sqlalchemy import MetaData

from city_common.auth import issue_token
from city_common.db.migrations import upgrade
from city_common.settings import ServiceSettings

PG_HOST = os.environ.get("CITY_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CITY_PG_PORT", "15432"))
PG_USER = os.environ.get("CITY_PG_USER", "city")
PG_PASSWORD = os.environ.get("CITY_PG_PASSWORD", "city")
KAFKA_BOOTSTRAP = os.environ.get(
    "CITY_KAFKA_BOOTSTRAP", f"127.0.0.1:{os.environ.get('CITY_KAFKA_PORT', '19092')}"
)


# Databases this process created, dropped by drop_created_databases() at the end
# of a test session (the root conftest.py does that).
_created: list[str] = []


def database_url(name: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}:{PG_PASSWORD}@{PG_HOST}:{PG_PORT}/{name}"


async def fresh_database(name: str) -> str:
    """Drop and recreate database ``name`` with PostGIS; returns its async URL."""
    conn = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD, database="postgres"
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        _created.append(name)
    finally:
        await conn.close()
    conn = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD, database=name
    )
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    finally:
        await conn.close()
    return database_url(name)


async def execute_sql(url: str, statement: str, *args: object) -> None:
    """Run one statement in the database of ``url`` (to set up or age test data)."""
    conn = await asyncpg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        password=PG_PASSWORD,
        database=url.rsplit("/", 1)[1],
    )
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


async def drop_created_databases() -> int:
    """Drop every database this process created; returns how many."""
    if not _created:
        return 0
    conn = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD, database="postgres"
    )
    try:
        for name in list(dict.fromkeys(_created)):
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
    dropped = len(set(_created))
    _created.clear()
    return dropped


async def migrated_database(package: str, name: str | None = None) -> str:
    """A fresh database at the head of ``package``'s migrations."""
    url = await fresh_database(name or f"test_{package}")
    # Alembic's env runs its own event loop; keep it off the test's loop.
    await asyncio.to_thread(upgrade, package, url)
    return url


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


S = TypeVar("S", bound=ServiceSettings)


def settings_for_test(cls: type[S], database: str, **overrides: object) -> S:
    values: dict[str, object] = {
        "database_url": database,
        "kafka_bootstrap": KAFKA_BOOTSTRAP,
        "environment": "test",
        "log_json": True,
        "outbox_poll_interval_s": 0.05,
        "consumer_retry_backoff_s": 0.05,
    }
    values.update(overrides)
    return cls.model_validate(values)


def bearer(settings: ServiceSettings, *roles: str, subject: str = "tester") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, subject, list(roles))}"}


@asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay, consumer) running, and a client for it."""
    from asgi_lifespan import LifespanManager

    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def read_topic(
    topic: str, *, expected: int, timeout_s: float = 30.0
) -> list[tuple[bytes | None, dict[str, bytes], bytes | None]]:
    """Read a topic from the beginning until ``expected`` messages (or the timeout)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=KAFKA_BOOTSTRAP,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    out: list[tuple[bytes | None, dict[str, bytes], bytes | None]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(out) < expected and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for r in records:
                    out.append((r.key, {k: v for k, v in (r.headers or ())}, r.value))
    finally:
        await consumer.stop()
    return out


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], *, timeout_s: float = 30.0, interval_s: float = 0.2
) -> None:
    """Await ``predicate()`` (an async callable returning bool) until true or timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        if await predicate():
            return
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval_s)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def served(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve ``app`` with a real uvicorn server on loopback; yields its base URL.

    Needed where the ASGI transport falls short: streaming responses (SSE) and
    one service calling another over real HTTP.
    """
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def migration_drift(package: str, metadata: MetaData) -> list[object]:
    """Differences between ``package``'s migrated schema and its declared tables.

    The platform's outbox and inbox are compared too; only PostGIS's own table and
    Alembic's version table are left out. An empty list means the migrations
    build exactly what the code declares.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    from city_common.db.messaging import messaging_metadata

    url = await migrated_database(package, f"test_drift_{package}_{uuid.uuid4().hex[:6]}")
    declared = MetaData()
    for table in (*metadata.tables.values(), *messaging_metadata.tables.values()):
        table.to_metadata(declared)

    def include(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return not (type_ == "table" and name in {"spatial_ref_sys", "alembic_version"})

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff: list[object] = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"include_object": include}),
                    declared,
                )
            )
    finally:
        await engine.dispose()
    return diff


PROBLEM_JSON = "application/problem+json"


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, object]:
    """An RFC 9457 problem of ``status``; with ``field``, one of its errors names it."""
    assert response.status_code == status, response.text  # noqa: S101 - a test helper
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text  # noqa: S101
    problem: dict[str, object] = response.json()
    assert problem["status"] == status and problem["title"], problem  # noqa: S101
    if field is not None:
        assert field in problem_fields(response), problem  # noqa: S101
    return problem


def problem_fields(response: httpx.Response) -> list[str]:
    """The fields a validation problem names."""
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text  # noqa: S101
    return [str(e["field"]) for e in response.json().get("errors", [])]


def metric_value(metrics: str, name: str, **labels: str) -> float:
    """The sample ``name`` with these labels on a /metrics page; 0 when absent."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def consumed(metrics: str, topic: str, outcome: str) -> float:
    """``events_consumed_total`` for a topic and outcome, from a /metrics page."""
    return metric_value(metrics, "events_consumed_total", topic=topic, outcome=outcome)


def keyed(
    raw: list[tuple[bytes | None, dict[str, bytes], bytes | None]],
) -> list[tuple[str, dict[str, bytes], object]]:
    """Messages read back from a topic as (key, headers, JSON data)."""
    import json

    out: list[tuple[str, dict[str, bytes], object]] = []
    for key, headers, value in raw:
        assert key is not None and value is not None  # noqa: S101
        out.append((key.decode(), headers, json.loads(value)))
    return out
