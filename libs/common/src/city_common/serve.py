"""Run a service with uvicorn: ``python -m <package>`` calls ``serve``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from city_common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def serve(factory: Callable[[S], FastAPI], settings: S) -> None:
    app = factory(settings)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # our JSON logging is configured by the app factory
        access_log=False,
        timeout_graceful_shutdown=15,
    )
