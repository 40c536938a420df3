"""Wires enterprise-hub onto the platform; the API, the consumer and the tests all start here."""

from __future__ import annotations

from fastapi import FastAPI

from city_common.runtime import ServiceDefinition
from city_common.runtime import create_app as platform_app
from city_common.settings import ServiceSettings
from enterprise_hub.entrypoints import api, events

DEFINITION = ServiceDefinition(
    name="enterprise-hub",
    package="enterprise_hub",
    title="Yongchuan enterprise-hub",
    description=(
        "Services to the district's enterprises: the register by unified social credit "
        "code, the policies that apply to each, and compliance notices after an "
        "environmental exceedance nearby."
    ),
    routers=(api.router,),
    subscriptions=events.subscriptions,
    produces=("enterprise.policies",),
)


def create_app(settings: ServiceSettings) -> FastAPI:
    return platform_app(DEFINITION, settings)
