"""Wires grid-events onto the platform; the API, the consumer and the tests all start here."""

from __future__ import annotations

from fastapi import FastAPI

from city_common.runtime import ServiceDefinition
from city_common.runtime import create_app as platform_app
from city_common.settings import ServiceSettings
from grid_events.adapters.crypto import PiiCipher
from grid_events.config import Settings
from grid_events.entrypoints import (
    api,
    areas_api,
    base_data_api,
    disputes_api,
    events,
    open311_api,
    views_api,
    workflow_api,
)
from grid_events.service_layer.escalation import run_escalation

DEFINITION = ServiceDefinition(
    name="grid-events",
    package="grid_events",
    title="Yongchuan grid-events",
    description=(
        "Grid governance and the city incident hub: administrative areas and grid cells, "
        "the base data of residents, housing and organisations, cases from grid workers, "
        "citizens and the other city systems, dispatch, disputes, and the command "
        "centre's map and statistics."
    ),
    routers=(
        api.router,
        base_data_api.router,
        open311_api.router,
        open311_api.keys_router,
        areas_api.router,
        disputes_api.router,
        views_api.router,
        workflow_api.router,
    ),
    subscriptions=events.subscriptions,
    produces=("grid.cases",),
    # Escalation of overdue cases, for the app's lifetime (see service_layer/escalation).
    background=(run_escalation,),
)


def create_app(settings: ServiceSettings) -> FastAPI:
    own = settings if isinstance(settings, Settings) else Settings(**settings.model_dump())
    app = platform_app(DEFINITION, own)
    # Built once per app from its settings; the routes reach it through the runtime.
    app.state.runtime.state["pii"] = PiiCipher.from_settings(own)
    return app
