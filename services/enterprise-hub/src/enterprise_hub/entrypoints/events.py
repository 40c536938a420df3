"""What enterprise-hub consumes: exceedances, to notify the enterprises around them."""

from __future__ import annotations

from collections.abc import Sequence

from city_common.messaging.consumer import Subscription
from city_common.runtime import Runtime
from enterprise_hub.service_layer import handlers


def subscriptions(_: Runtime) -> Sequence[Subscription]:
    return (
        Subscription(
            "env.exceedances",
            handlers.on_exceedance,
            event_types=frozenset({"city.env.exceedance.detected.v1"}),
        ),
    )
