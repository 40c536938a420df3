"""What traffic-signal consumes: the grid cases opened for its incidents."""

from __future__ import annotations

from collections.abc import Sequence

from city_common.messaging.consumer import Subscription
from city_common.runtime import Runtime
from traffic_signal.service_layer import handlers


def subscriptions(_: Runtime) -> Sequence[Subscription]:
    return (Subscription("grid.cases", handlers.on_grid_case),)
