"""Bootstrap of a service: one place that wires settings, database, Kafka and the app.

``create_app(definition, settings)`` builds everything at call time (nothing is
built at import) and returns a FastAPI app whose lifespan starts and stops the
outbox relay and the consumer; tests call the same function with test settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from city_common.auth import TokenVerifier
from city_common.db.database import Database
from city_common.db.migrations import head_revisions
from city_common.db.uow import UnitOfWork
from city_common.events.registry import TOPIC_CONFIGS
from city_common.messaging.consumer import ConsumerRunner, Subscription
from city_common.messaging.outbox import OutboxRelay
from city_common.messaging.producer import KafkaPublisher
from city_common.messaging.topics import ensure_topics
from city_common.observability.logging import configure_logging
from city_common.observability.metrics import Metrics
from city_common.settings import ServiceSettings
from city_common.web.middleware import ObservabilityMiddleware
from city_common.web.problems import PROBLEM_JSON, install_problem_handlers

log = logging.getLogger(__name__)

ReadinessCheck = Callable[["Runtime"], Awaitable[None]]
# A resource held for the app's lifetime (an HTTP client, a live feed): entered
# before the app serves, exited after it stops.
LifespanHook = Callable[["Runtime"], AbstractAsyncContextManager[None]]
BackgroundTask = Callable[["Runtime"], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes a service itself; everything else comes from the platform."""

    name: str
    package: str
    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    subscriptions: Callable[[Runtime], Sequence[Subscription]] | None = None
    produces: Sequence[str] = ()
    uses_database: bool = True
    background: Sequence[BackgroundTask] = ()
    readiness: Sequence[ReadinessCheck] = ()
    lifespan_hooks: Sequence[LifespanHook] = ()
    version: str = "0.1.0"
    openapi_tags: Sequence[dict[str, Any]] = ()


@dataclass
class Runtime:
    definition: ServiceDefinition
    settings: ServiceSettings
    metrics: Metrics
    db: Database | None
    heads: set[str] = field(default_factory=set)
    relay: OutboxRelay | None = None
    consumer: ConsumerRunner | None = None
    kafka_probe: KafkaPublisher | None = None
    state: dict[str, Any] = field(default_factory=dict)
    # Set when the app shuts down: background loops wait with ``pause`` and end
    # within a moment instead of being cancelled mid-pass.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def database(self) -> Database:
        if self.db is None:
            raise RuntimeError(f"{self.definition.name} has no database")
        return self.db

    async def pause(self, seconds: float) -> bool:
        """Sleep between a background loop's passes; True once the app is stopping
        (at once, not after the full pause), when the loop should return."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        return self.stopping.is_set()

    def uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.database.sessions,
            source=f"/city/{self.definition.name}",
            topic_prefix=self.settings.topic_prefix,
        )

    # --- readiness ---------------------------------------------------------

    async def check_database(self) -> None:
        db = self.database
        await asyncio.wait_for(db.ping(), 3)
        current = await db.current_revisions()
        if current != self.heads:
            raise RuntimeError(
                f"migrations not at head: database {sorted(current)}, code {sorted(self.heads)}"
            )

    async def check_kafka(self) -> None:
        if self.kafka_probe is None:
            self.kafka_probe = KafkaPublisher(
                self.settings.kafka_bootstrap, client_id=f"{self.definition.name}-probe"
            )
        try:
            await asyncio.wait_for(self.kafka_probe.start(), 5)
            await self.kafka_probe.check()
        except BaseException:
            probe, self.kafka_probe = self.kafka_probe, None
            await probe.stop()
            raise

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, ReadinessCheck] = {"kafka": Runtime.check_kafka}
        if self.db is not None:
            checks["database"] = Runtime.check_database
        for extra in self.definition.readiness:
            checks[getattr(extra, "__name__", "check")] = extra
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check(self)
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                results[name] = f"failed: {exc!r}"[:300]
        return results

    # --- background work ---------------------------------------------------

    async def _start_messaging(self) -> None:
        """Provision topics, then run relay and consumer; retries until Kafka answers."""
        s = self.settings
        topics = [s.topic_prefix + t for t in self.definition.produces]
        if self.consumer is not None:
            topics += self.consumer.topics
        delay = 0.5
        while True:
            try:
                configs = {s.topic_prefix + t: c for t, c in TOPIC_CONFIGS.items()}
                await ensure_topics(
                    s.kafka_bootstrap,
                    topics,
                    configs=configs,
                    partitions=s.kafka_topic_partitions,
                    replication=s.kafka_topic_replication,
                )
                break
            except Exception:  # noqa: BLE001 - Kafka may start after us
                log.warning("Kafka not reachable yet; retrying", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        runners: list[Awaitable[None]] = []
        if self.relay is not None:
            runners.append(self.relay.run())
        if self.consumer is not None:
            runners.append(self.consumer.run())
        await asyncio.gather(*runners)

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._start_messaging(), name="messaging"))
        for task in self.definition.background:
            self._tasks.append(asyncio.create_task(task(self), name=task.__name__))

    async def stop(self) -> None:
        self.stopping.set()
        if self.relay is not None:
            self.relay.stop()
        if self.consumer is not None:
            self.consumer.stop()
        # Give the loops a moment to finish their batch and commit, then cancel.
        _, pending = await asyncio.wait(self._tasks, timeout=10) if self._tasks else ((), ())
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.kafka_probe is not None:
            await self.kafka_probe.stop()
        if self.db is not None:
            await self.db.dispose()


def build_runtime(definition: ServiceDefinition, settings: ServiceSettings) -> Runtime:
    metrics = Metrics(definition.name)
    db = (
        Database(settings.database_url, pool_size=settings.db_pool_size)
        if definition.uses_database
        else None
    )
    runtime = Runtime(definition=definition, settings=settings, metrics=metrics, db=db)
    if db is not None:
        runtime.heads = head_revisions(definition.package)
        if settings.outbox_enabled:
            runtime.relay = OutboxRelay(
                db.sessions,
                lambda: KafkaPublisher(
                    settings.kafka_bootstrap, client_id=f"{definition.name}-outbox"
                ),
                metrics,
                batch_size=settings.outbox_batch_size,
                poll_interval_s=settings.outbox_poll_interval_s,
                retention=timedelta(hours=settings.outbox_retention_hours),
                listen_dsn=db.dsn if settings.outbox_listen else None,
            )
        if settings.consumer_enabled and definition.subscriptions is not None:
            subs = definition.subscriptions(runtime)
            if subs:
                runtime.consumer = ConsumerRunner(
                    bootstrap=settings.kafka_bootstrap,
                    # Namespaced like the topics: deployments (and test runs) that
                    # share a cluster must not share a group, or each one's members
                    # joining and leaving would rebalance the others' consumers.
                    group_id=f"{settings.topic_prefix}{definition.name}",
                    subscriptions=subs,
                    sessions=db.sessions,
                    source=f"/city/{definition.name}",
                    metrics=metrics,
                    max_attempts=settings.consumer_max_attempts,
                    retry_backoff_s=settings.consumer_retry_backoff_s,
                    batch_size=settings.consumer_batch_size,
                    topic_prefix=settings.topic_prefix,
                    fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
                )
    return runtime


async def get_runtime(request: Request) -> Runtime:
    # Every dependency is a coroutine, however trivial: FastAPI runs a plain function
    # in its thread pool, and that hop cost a fifth of video-ingest's CPU per frame.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_uow(runtime: RuntimeDep) -> AsyncIterator[UnitOfWork]:
    async with runtime.uow() as uow:
        yield uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


def _platform_router() -> APIRouter:
    router = APIRouter(tags=["platform"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz(runtime: RuntimeDep) -> dict[str, str]:
        return {"status": "ok", "service": runtime.definition.name}

    @router.get(
        "/readyz",
        summary="Readiness: database reachable and at head, Kafka reachable",
        responses={503: {"description": "Not ready", "content": {PROBLEM_JSON: {}}}},
    )
    async def readyz(request: Request, runtime: RuntimeDep) -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        if ready:
            return JSONResponse(
                {"status": "ready", "service": runtime.definition.name, "checks": checks}
            )
        return JSONResponse(
            {
                "type": "https://yongchuan.city/problems/not-ready",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "a dependency is not ready",
                "instance": request.url.path,
                "service": runtime.definition.name,
                "checks": checks,
            },
            status_code=503,
            media_type=PROBLEM_JSON,
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics(runtime: RuntimeDep) -> Response:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router


def create_app(definition: ServiceDefinition, settings: ServiceSettings) -> FastAPI:
    configure_logging(definition.name, settings.log_level, json_output=settings.log_json)
    runtime = build_runtime(definition, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as hooks:
            for hook in definition.lifespan_hooks:
                await hooks.enter_async_context(hook(runtime))
            runtime.start()
            log.info("service started", extra={"service": definition.name})
            try:
                yield
            finally:
                await runtime.stop()
                log.info("service stopped", extra={"service": definition.name})

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
        openapi_tags=list(definition.openapi_tags) or None,
    )
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(settings) if settings.auth_enabled else None
    app.add_middleware(
        ObservabilityMiddleware, metrics=runtime.metrics, max_body_bytes=settings.max_body_bytes
    )
    install_problem_handlers(app)
    app.include_router(_platform_router())
    for router in definition.routers:
        app.include_router(router)
    blocking = threadpool_callables(app)
    if blocking:
        raise TypeError(
            "endpoints and dependencies must be coroutines (FastAPI runs a plain function "
            f"in its thread pool, a costly hop per request): {', '.join(blocking)}"
        )
    return app


def _is_coroutine_callable(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    # Security schemes and other callable objects: their __call__ decides.
    method = getattr(call, "__call__", None)  # noqa: B004 - the method itself is inspected
    return not inspect.isroutine(call) and (
        inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)
    )


def threadpool_callables(app: FastAPI) -> list[str]:
    """The endpoints and dependencies of ``app`` that FastAPI would run in its thread pool.

    At 776 frames a second the hop to a worker thread and back (a queue, a condition
    variable, the GIL handed over twice) cost video-ingest a fifth of its CPU for
    three trivial dependencies; none of the platform's needs a thread.
    """
    found: set[str] = set()

    def visit(dependant: Dependant, where: str) -> None:
        for dependency in dependant.dependencies:
            call = dependency.call
            if call is not None and not _is_coroutine_callable(call):
                found.add(f"{getattr(call, '__qualname__', repr(call))} (in {where})")
            visit(dependency, where)

    def walk(routes: Sequence[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                where = f"{sorted(route.methods or [])} {route.path}"
                if not _is_coroutine_callable(route.endpoint):
                    found.add(f"{route.endpoint.__qualname__} ({where})")
                visit(route.dependant, where)
            elif (included := getattr(route, "original_router", None)) is not None:
                # FastAPI >= 0.165 keeps an included router whole instead of copying
                # its routes into the app's.
                walk(included.routes)

    walk(app.routes)
    return sorted(found)
