"""Wires fire-detect onto the platform; the API, the consumer and the tests all start here."""

from __future__ import annotations

from fastapi import FastAPI

from city_common.runtime import ServiceDefinition
from city_common.runtime import create_app as platform_app
from city_common.settings import ServiceSettings
from fire_detect.entrypoints import api, events, notify_api, response_api
from fire_detect.service_layer.notifications import run_delivery_worker

DEFINITION = ServiceDefinition(
    name="fire-detect",
    package="fire_detect",
    title="Yongchuan fire-detect",
    description=(
        "Forest fire alarms, from the forest cameras' frames and from rangers' reports, "
        "followed from raised to closed; the forest's water sources, access roads, hazards, "
        "ranger stations and villages, nearest first. Each alarm is pushed to the people "
        "subscribed to its area by webhook or SMS, every delivery recorded and retried."
    ),
    # response_api first: its /alarms/kpis must win over /alarms/{alarm_id}.
    routers=(response_api.router, api.router, notify_api.router),
    subscriptions=events.subscriptions,
    produces=("fire.alarms",),
    # Sends the notices each alarm step queued, retrying with backoff (ADR 0011).
    background=(run_delivery_worker,),
)


def create_app(settings: ServiceSettings) -> FastAPI:
    return platform_app(DEFINITION, settings)
