"""Wires video-ingest onto the platform; the API, the consumer and the tests all start here."""

from __future__ import annotations

from fastapi import FastAPI

from city_common.runtime import ServiceDefinition
from city_common.runtime import create_app as platform_app
from video_ingest.config import Settings
from video_ingest.entrypoints import api, background, events

DEFINITION = ServiceDefinition(
    name="video-ingest",
    package="video_ingest",
    title="Yongchuan video-ingest",
    description=(
        "The registry of forest, traffic and public-safety cameras; intake of their frames, "
        "pushed or polled from their snapshot URLs through their preset poses, passed on to "
        "fire detection; each camera's latest snapshot, health and active fire alarms."
    ),
    routers=(api.router,),
    subscriptions=events.subscriptions,
    produces=(events.FRAMES_TOPIC, "camera.status"),
    background=(
        events.fit_frame_topic,
        background.cruise_cameras,
        background.watch_camera_health,
        background.refresh_priority_cameras,
    ),
    readiness=(events.frame_topic_fits,),
    lifespan_hooks=(background.cruise_resources, background.frame_intake_resources),
)


def create_app(settings: Settings) -> FastAPI:
    # This service's own settings: the routes and the frame topic read the frame limit.
    return platform_app(DEFINITION, settings)
