"""Wires grid-events onto the platform; the API, the consumer and the tests all start here."""

from __future__ import annotations

from fastapi import FastAPI

from city_common.runtime import ServiceDefinition
from city_common.runtime import create_app as platform_app
from city_common.settings import ServiceSettings
from grid_events.entrypoints import api, events

DEFINITION = ServiceDefinition(
    name="grid-events",
    package="grid_events",
    title="Yongchuan grid-events",
    description=(
        "Grid governance and the city incident hub: administrative areas and grid cells, "
        "cases from grid workers, citizens and the other city systems, dispatch."
    ),
    routers=(api.router,),
    subscriptions=events.subscriptions,
    produces=("grid.cases",),
)


def create_app(settings: ServiceSettings) -> FastAPI:
    return platform_app(DEFINITION, settings)
