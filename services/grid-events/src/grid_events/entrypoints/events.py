"""What grid-events consumes: incidents raised by the other city systems."""

from __future__ import annotations

from collections.abc import Sequence

from city_common.messaging.consumer import Subscription
from city_common.runtime import Runtime
from grid_events.service_layer import handlers


def subscriptions(_: Runtime) -> Sequence[Subscription]:
    return (
        Subscription("fire.alarms", handlers.on_fire_alarm),
        Subscription("camera.status", handlers.on_camera_status),
        Subscription("env.exceedances", handlers.on_exceedance),
        Subscription("traffic.incidents", handlers.on_traffic_incident),
    )
