"""Grid cases: what the command centre dispatches. Pure logic, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta, timezone

from city_common.events.schemas import GridCaseSource

# China Standard Time has no daylight saving: the district's dates and the times
# shown to citizens use it.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

# Which department a case of each category goes to when no dispatch rule matches
# (the rules, category + place, are in domain/dispatch.py and their table).
DEPARTMENT_BY_CATEGORY: dict[str, str] = {
    "forest_fire": "forestry",
    "camera_fault": "urban_management",
    "air_pollution": "environment",
    "water_pollution": "environment",
    "traffic_incident": "transport",
    "public_safety": "police",
    "other": "urban_management",
}

CATEGORY_BY_SOURCE: dict[str, str] = {
    "fire_alarm": "forest_fire",
    "camera": "camera_fault",
    "traffic_incident": "traffic_incident",
}


@dataclass(frozen=True, slots=True)
class CaseIntake:
    category: str
    department: str


def classify(source: GridCaseSource, *, medium: str | None = None) -> CaseIntake:
    """Category and first department of a case raised automatically by another system."""
    if source.kind == "exceedance":
        category = "water_pollution" if medium == "water" else "air_pollution"
    else:
        category = CATEGORY_BY_SOURCE.get(source.kind, "other")
    return CaseIntake(category, DEPARTMENT_BY_CATEGORY[category])


def department_for(category: str) -> str:
    return DEPARTMENT_BY_CATEGORY.get(category, DEPARTMENT_BY_CATEGORY["other"])


@dataclass(frozen=True, slots=True)
class Accessor:
    """Who reads personal data, for the audit of identity lookups and recoveries."""

    subject: str
    roles: tuple[str, ...]
    trace_id: str | None

    @classmethod
    def of(cls, subject: str, roles: Iterable[str], trace_id: str | None) -> Accessor:
        # Sorted so that one caller's roles always read the same in the audit.
        return cls(subject=subject, roles=tuple(sorted(set(roles))), trace_id=trace_id)


# --- de-duplication ------------------------------------------------------------

# Each camera needs its own repair: camera faults never merge into one case.
NEVER_MERGED: frozenset[str] = frozenset({"camera_fault"})
# Statuses in which a case no longer takes reports (a new report opens a new case):
# the ends of the lifecycle in domain/workflow.py, and resolved/verified, where the
# holder's work is done.
FINISHED: frozenset[str] = frozenset({"resolved", "verified", "closed", "rejected", "duplicate"})
# Sources that close their own loop: their report ends when their incident clears.
AUTOMATIC_SOURCES: frozenset[str] = frozenset(
    {"fire_alarm", "camera", "exceedance", "traffic_incident"}
)


@dataclass(frozen=True, slots=True)
class DedupRule:
    """Reports of one category within ``radius_m`` and ``window`` of an open case join it.

    The window counts from the case's latest report, so a fire reported again and
    again over an afternoon stays one case; the distance is geodesic, measured from
    the case's first report.
    """

    radius_m: float
    window: timedelta

    def merges(self, category: str) -> bool:
        return self.radius_m > 0 and category not in NEVER_MERGED
