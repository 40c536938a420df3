"""Wires traffic-signal onto the platform; the API, the consumer and the tests all start here."""

from __future__ import annotations

from fastapi import FastAPI

from city_common.runtime import ServiceDefinition
from city_common.runtime import create_app as platform_app
from city_common.settings import ServiceSettings
from traffic_signal.entrypoints import api, events

DEFINITION = ServiceDefinition(
    name="traffic-signal",
    package="traffic_signal",
    title="Yongchuan traffic-signal",
    description=(
        "The intersections of the signal network with their green-wave corridors, and the "
        "traffic incidents reported on the roads, followed until their grid case closes."
    ),
    routers=(api.router,),
    subscriptions=events.subscriptions,
    produces=("traffic.incidents",),
)


def create_app(settings: ServiceSettings) -> FastAPI:
    return platform_app(DEFINITION, settings)
