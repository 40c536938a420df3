"""Health facilities, casualty readiness and access records. Pure logic, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from city_common.events.schemas import FireAlarmStatus


class FacilityLevel(StrEnum):
    TERTIARY = "tertiary"
    SECONDARY = "secondary"
    PRIMARY = "primary"
    KIOSK = "kiosk"  # a village clinic or health kiosk


# A forest fire's casualties go to a hospital within this straight-line (geodesic)
# distance; beyond it the emergency centre routes them, not a readiness notice.
READINESS_RADIUS_M = 30_000.0

# Alarm states after which no casualties are expected any more.
_STAND_DOWN = frozenset(
    {FireAlarmStatus.EXTINGUISHED, FireAlarmStatus.DISMISSED, FireAlarmStatus.CLOSED}
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A facility and its distance from an incident."""

    facility_id: str
    emergency_beds: int
    distance_m: float


def receiving_facility(
    candidates: Iterable[Candidate], *, radius_m: float = READINESS_RADIUS_M
) -> Candidate | None:
    """The facility to ready for casualties: the nearest with an emergency bed, in reach.

    Equally near facilities are told apart by more beds, then by id, so the choice
    does not depend on the order the candidates came in.
    """
    able = [c for c in candidates if c.emergency_beds > 0 and c.distance_m <= radius_m]
    if not able:
        return None
    return min(able, key=lambda c: (c.distance_m, -c.emergency_beds, c.facility_id))


def stands_down(status: FireAlarmStatus) -> bool:
    """Whether an alarm in this state releases the readiness it caused."""
    return status in _STAND_DOWN


class AccessAction(StrEnum):
    READ = "read"
    LIST = "list"
    SEARCH = "search"
    CREATE = "create"


@dataclass(frozen=True, slots=True)
class Accessor:
    """Who touches the service's data, for the access audit."""

    subject: str
    roles: tuple[str, ...]
    trace_id: str

    @classmethod
    def of(cls, subject: str, roles: Iterable[str], trace_id: str) -> Accessor:
        # Sorted so that one caller's roles always read the same in the audit.
        return cls(subject=subject, roles=tuple(sorted(set(roles))), trace_id=trace_id)
