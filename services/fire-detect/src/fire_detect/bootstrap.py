"""Wires fire-detect onto the platform; the API, the consumer and the tests all start here."""

from __future__ import annotations

from fastapi import FastAPI

from city_common.runtime import ServiceDefinition
from city_common.runtime import create_app as platform_app
from city_common.settings import ServiceSettings
from fire_detect.entrypoints import api, events

DEFINITION = ServiceDefinition(
    name="fire-detect",
    package="fire_detect",
    title="Yongchuan fire-detect",
    description=(
        "Forest fire alarms, from the forest cameras' frames and from rangers' reports, "
        "followed from raised to closed; the forest's water sources, access roads, hazards, "
        "ranger stations and villages, nearest first."
    ),
    routers=(api.router,),
    subscriptions=events.subscriptions,
    produces=("fire.alarms",),
)


def create_app(settings: ServiceSettings) -> FastAPI:
    return platform_app(DEFINITION, settings)
