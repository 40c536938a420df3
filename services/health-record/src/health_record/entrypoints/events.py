"""What health-record consumes: forest fire alarms, to ready a facility for casualties."""

from __future__ import annotations

from collections.abc import Sequence

from city_common.messaging.consumer import Subscription
from city_common.runtime import Runtime
from health_record.service_layer import handlers


def subscriptions(_: Runtime) -> Sequence[Subscription]:
    return (
        Subscription(
            "fire.alarms",
            handlers.on_fire_alarm,
            # Verification and dispatch change nothing for the hospitals.
            event_types=frozenset(
                {
                    "city.fire.alarm.raised.v1",
                    "city.fire.alarm.extinguished.v1",
                    "city.fire.alarm.dismissed.v1",
                }
            ),
        ),
    )
