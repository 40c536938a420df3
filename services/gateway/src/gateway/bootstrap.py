"""Wires the gateway onto the platform."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from city_common.events.registry import TOPICS
from city_common.runtime import Runtime, ServiceDefinition
from city_common.runtime import create_app as platform_app
from gateway.adapters.live_feed import LiveFeed
from gateway.adapters.proxy import ServiceProxy
from gateway.config import Settings
from gateway.domain.ratelimit import RateLimiter
from gateway.entrypoints import api, dashboard

# Frames are binary and high-rate; the dashboard follows their effects instead.
LIVE_TOPICS = tuple(t for t in TOPICS if t != "camera.frames")


@asynccontextmanager
async def gateway_resources(runtime: Runtime) -> AsyncIterator[None]:
    settings = runtime.settings
    assert isinstance(settings, Settings)  # noqa: S101 - create_app takes Settings
    proxy = ServiceProxy(settings.service_urls, timeout_s=settings.proxy_timeout_s)
    runtime.state["proxy"] = proxy
    runtime.state["limiter"] = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    feed_task: asyncio.Task[None] | None = None
    if settings.live_feed_enabled:
        feed = LiveFeed(
            settings.kafka_bootstrap,
            [settings.topic_prefix + t for t in LIVE_TOPICS],
            runtime.metrics,
            buffer=settings.live_feed_buffer,
        )
        runtime.state["feed"] = feed
        feed_task = asyncio.create_task(feed.run(), name="live-feed")
    try:
        yield
    finally:
        if feed_task is not None:
            runtime.state["feed"].stop()
            await asyncio.wait([feed_task], timeout=5)
            feed_task.cancel()
        await proxy.close()


DEFINITION = ServiceDefinition(
    name="gateway",
    package="gateway",
    title="Yongchuan city platform API",
    description=(
        "The public entry of the Yongchuan city platform: every service's API under "
        "/api/v1/<service>/, behind JWT authentication, role checks and rate limits; "
        "live events for the dashboard and apps."
    ),
    routers=(api.router, dashboard.router),
    lifespan_hooks=(gateway_resources,),
)


def create_app(settings: Settings) -> FastAPI:
    return platform_app(DEFINITION, settings)
