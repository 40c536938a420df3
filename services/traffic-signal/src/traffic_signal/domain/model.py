"""Traffic incidents and the grid cases that follow them. Pure logic, no I/O."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from city_common.events.schemas import GridCaseSource


class IncidentStatus(StrEnum):
    ACTIVE = "active"
    CLEARED = "cleared"


class IncidentAlreadyCleared(Exception):
    """Clearing is a one-way step: a cleared incident cannot be cleared again."""


def clear(status: IncidentStatus) -> IncidentStatus:
    """The status of an incident after the road is cleared."""
    if status is IncidentStatus.CLEARED:
        raise IncidentAlreadyCleared("the incident is already cleared")
    return IncidentStatus.CLEARED


def incident_of_case(source: GridCaseSource) -> str | None:
    """The incident id a grid case was raised for, if a traffic incident raised it."""
    return source.ref if source.kind == "traffic_incident" else None


def is_newer_case_state(recorded_at: datetime | None, incoming_at: datetime) -> bool:
    """Whether a case update should replace the one recorded on the incident.

    Updates of one case arrive in order (the case id is the Kafka key), but a new
    case for the same incident may travel on another partition; the later one wins.
    """
    return recorded_at is None or incoming_at >= recorded_at
