"""Wires air-water onto the platform; the API, the consumer and the tests all start here."""

from __future__ import annotations

from fastapi import FastAPI

from air_water.entrypoints import api, events
from city_common.runtime import ServiceDefinition
from city_common.runtime import create_app as platform_app
from city_common.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="air-water",
    package="air_water",
    title="Yongchuan air-water",
    description=(
        "Air and surface water monitoring: stations, their readings judged against "
        "GB 3095 and GB 3838, and the exceedances they raise until the grid closes them."
    ),
    routers=(api.router,),
    subscriptions=events.subscriptions,
    produces=("env.exceedances",),
)


def create_app(settings: ServiceSettings) -> FastAPI:
    return platform_app(DEFINITION, settings)
