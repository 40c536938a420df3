"""Wires health-record onto the platform; the API, the consumer and the tests all start here."""

from __future__ import annotations

from fastapi import FastAPI

from city_common.runtime import ServiceDefinition
from city_common.runtime import create_app as platform_app
from city_common.settings import ServiceSettings
from health_record.entrypoints import api, events

DEFINITION = ServiceDefinition(
    name="health-record",
    package="health_record",
    title="Yongchuan health-record",
    description=(
        "The district's public health facilities, their readiness for the casualties of "
        "a forest fire, and the audit of every access to this service's data."
    ),
    routers=(api.router,),
    subscriptions=events.subscriptions,
    produces=(),
)


def create_app(settings: ServiceSettings) -> FastAPI:
    return platform_app(DEFINITION, settings)
