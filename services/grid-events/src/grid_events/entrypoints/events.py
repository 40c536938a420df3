"""What grid-events consumes: incidents raised by the other city systems."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from city_common.messaging.consumer import Subscription
from city_common.runtime import Runtime
from grid_events.config import Settings
from grid_events.service_layer import handlers


def subscriptions(runtime: Runtime) -> Sequence[Subscription]:
    settings = runtime.settings
    assert isinstance(settings, Settings)  # noqa: S101 - bootstrap builds the app with them
    rule, policy = settings.dedup_rule, settings.workflow_policy
    return (
        Subscription("fire.alarms", partial(handlers.on_fire_alarm, rule=rule, policy=policy)),
        Subscription(
            "camera.status",
            partial(handlers.on_camera_status, rule=rule, policy=policy),
            # A camera's registration is not an incident.
            event_types=frozenset({"city.camera.offline.v1", "city.camera.online.v1"}),
        ),
        Subscription("env.exceedances", partial(handlers.on_exceedance, rule=rule, policy=policy)),
        Subscription(
            "traffic.incidents", partial(handlers.on_traffic_incident, rule=rule, policy=policy)
        ),
    )
