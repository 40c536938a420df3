"""Use cases of air-water: each takes a unit of work and commits or not at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from air_water.adapters import repository as repo
from air_water.domain.standards import (
    PHYSICAL_MAXIMUM,
    AirStandard,
    Averaging,
    Medium,
    assess,
    measured_in,
)
from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging.consumer import Delivery
from city_common.web.problems import Problem, conflict, not_found

# Station loggers keep their own clocks; a reading this far ahead of ours is
# still taken as "now", anything later is a clock or client fault.
CLOCK_SKEW = timedelta(minutes=2)


def _invalid(field: str, reason: str) -> Problem:
    return Problem(
        422,
        "Validation failed",
        f"invalid input: {field}",
        type_="https://yongchuan.city/problems/validation-failed",
        errors=[{"field": field, "reason": reason}],
    )


async def register_station(
    uow: UnitOfWork,
    *,
    station_id: str,
    medium: Medium,
    name: str,
    cell_id: str,
    location: GeoPoint,
) -> dict[str, Any]:
    """Add a monitoring station of the air or water network."""
    added = await repo.add_station(
        uow.session,
        station_id=station_id,
        medium=medium.value,
        name=name,
        cell_id=cell_id,
        location=location,
    )
    if not added:
        raise conflict(f"monitoring station {station_id!r} already exists")
    station = await repo.get_station(uow.session, station_id)
    assert station is not None  # noqa: S101 - inserted just above
    await uow.commit()
    return station


async def get_station(uow: UnitOfWork, station_id: str) -> dict[str, Any]:
    station = await repo.get_station(uow.session, station_id)
    if station is None:
        raise not_found("monitoring station", station_id)
    return station


async def record_observation(
    uow: UnitOfWork,
    *,
    station_id: str,
    pollutant: str,
    value: float,
    unit: str,
    observed_at: datetime,
    averaging: Averaging,
    standard: AirStandard,
) -> dict[str, Any]:
    """Store a station's reading; one over its limit opens an exceedance and announces it."""
    station = await get_station(uow, station_id)
    medium = Medium(station["medium"])
    if not measured_in(medium, pollutant):
        raise _invalid("body.pollutant", f"a {medium.value} station does not measure {pollutant}")
    if value > PHYSICAL_MAXIMUM.get(pollutant, float("inf")):
        raise _invalid("body.value", f"{pollutant} cannot exceed {PHYSICAL_MAXIMUM[pollutant]}")
    if observed_at > datetime.now(UTC) + CLOCK_SKEW:
        raise _invalid("body.observed_at", "an observation cannot lie in the future")
    observation = await repo.add_observation(
        uow.session,
        station_id=station_id,
        pollutant=pollutant,
        value=value,
        unit=unit,
        averaging=averaging.value,
        observed_at=observed_at,
    )
    if observation is None:
        raise conflict(
            f"station {station_id!r} already reported {pollutant} ({averaging.value}) "
            f"for {observed_at.isoformat()}"
        )
    breach = assess(medium, pollutant, averaging, value, standard=standard)
    observation["exceedance_id"] = None
    if breach is not None:
        exceedance_id = f"exc-{uuid.uuid4().hex[:16]}"
        location = GeoPoint.model_validate(station["location"])
        await repo.add_exceedance(
            uow.session,
            id=exceedance_id,
            station_id=station_id,
            observation_id=observation["id"],
            cell_id=station["cell_id"],
            medium=medium.value,
            pollutant=pollutant,
            concentration=value,
            limit=breach.limit,
            unit=unit,
            averaging=averaging.value,
            standard=breach.standard,
            observed_at=observed_at,
            location=location,
            status="open",
        )
        uow.emit(
            spec_for_type("city.env.exceedance.detected.v1"),
            s.ExceedanceDetected(
                exceedance_id=exceedance_id,
                cell_id=station["cell_id"],
                medium=s.EnvMedium(medium.value),
                pollutant=pollutant,
                concentration=value,
                limit=breach.limit,
                # The comparison with the surrounding cells' hourly mean is not made yet.
                surrounding_mean=None,
                unit=unit,
                observed_hour=observed_at.astimezone(UTC).replace(
                    minute=0, second=0, microsecond=0
                ),
                location=location,
            ),
        )
        observation["exceedance_id"] = exceedance_id
    await uow.commit()
    return observation


async def get_exceedance(uow: UnitOfWork, exceedance_id: str) -> dict[str, Any]:
    exceedance = await repo.get_exceedance(uow.session, exceedance_id)
    if exceedance is None:
        raise not_found("exceedance", exceedance_id)
    return exceedance


async def on_grid_case(delivery: Delivery, uow: UnitOfWork) -> None:
    """Close the loop: the grid case raised for an exceedance was closed, so is the exceedance."""
    payload = delivery.payload
    if not isinstance(payload, s.GridCaseChanged):
        return
    if payload.status is not s.GridCaseStatus.CLOSED or payload.source.kind != "exceedance":
        return
    resolution = f"grid case {payload.case_id} closed"
    closed = await repo.close_exceedance(
        uow.session,
        payload.source.ref,
        closed_at=payload.at,
        resolution=resolution,
        case_id=payload.case_id,
    )
    if closed is None:
        return  # not ours, or closed already
    uow.emit(
        spec_for_type("city.env.exceedance.closed.v1"),
        s.ExceedanceClosed(
            exceedance_id=closed["id"],
            cell_id=closed["cell_id"],
            closed_at=payload.at,
            resolution=resolution,
        ),
    )
