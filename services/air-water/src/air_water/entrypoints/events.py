"""What air-water consumes: grid cases, to close the exceedances they were raised for."""

from __future__ import annotations

from collections.abc import Sequence

from air_water.service_layer import handlers
from city_common.messaging.consumer import Subscription
from city_common.runtime import Runtime


def subscriptions(_: Runtime) -> Sequence[Subscription]:
    return (
        Subscription(
            "grid.cases",
            handlers.on_grid_case,
            # Only a closed case ends an exceedance; the other case changes are not ours.
            event_types=frozenset({"city.grid.case.closed.v1"}),
        ),
    )
