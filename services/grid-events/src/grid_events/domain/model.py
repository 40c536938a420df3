"""Grid cases: what the command centre dispatches. Pure logic, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from city_common.events.schemas import GridCaseSource

# Which department a case of each category goes to first. The dispatch-rules
# issue replaces this table with configurable rules (category + place).
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
