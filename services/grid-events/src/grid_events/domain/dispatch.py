"""Dispatch rules and escalation targets: who gets a case. Pure logic, no I/O.

A rule says: cases of ``category`` (or any, ``*``) located in the subtree of
``area_id`` (or anywhere, ``None``) go to ``department`` with ``priority``, and,
with ``assign_cell_worker``, to the on-duty grid worker of the case's cell.

The most specific rule wins: a rule naming the category beats a wildcard one
(forest fires go to forestry even in a town whose other cases go to its own
office), and among those a deeper area beats a shallower one (the town's forestry
station beats the district's bureau for a fire in that town).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from grid_events.domain.model import department_for

WILDCARD: Final = "*"

# Priority when no rule matches; the department then comes from DEPARTMENT_BY_CATEGORY.
DEFAULT_PRIORITY_BY_CATEGORY: Final[dict[str, int]] = {
    "forest_fire": 1,
    "public_safety": 2,
    "traffic_incident": 2,
    "air_pollution": 2,
    "water_pollution": 2,
    "camera_fault": 3,
    "other": 3,
}
DEFAULT_PRIORITY: Final = 3


@dataclass(frozen=True, slots=True)
class DispatchRule:
    id: str
    category: str
    area_id: str | None
    priority: int
    department: str
    assign_cell_worker: bool = False


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Where a case goes: the department, whether the cell's worker takes it, how urgent."""

    department: str
    priority: int
    assign_cell_worker: bool
    rule_id: str | None


def specificity(rule: DispatchRule, *, category: str, ancestry: Sequence[str]) -> tuple[int, int]:
    """How closely ``rule`` fits; (-1, -1) when it does not apply at all.

    ``ancestry`` is the case's cell first, then its parents up to the top area.
    The depth of an area is counted from the top (the top area is 1), so a
    rule for anywhere (depth 0) is the shallowest.
    """
    if rule.category not in (WILDCARD, category):
        return (-1, -1)
    if rule.area_id is None:
        depth = 0
    elif rule.area_id in ancestry:
        depth = len(ancestry) - list(ancestry).index(rule.area_id)
    else:
        return (-1, -1)
    return (int(rule.category != WILDCARD), depth)


def choose_rule(
    rules: Iterable[DispatchRule], *, category: str, ancestry: Sequence[str]
) -> DispatchRule | None:
    """The most specific rule for a case, or None when none applies."""
    best: DispatchRule | None = None
    best_fit = (-1, -1)
    # Ties cannot happen between stored rules (one per category and area); going
    # through them by id keeps the choice stable should they.
    for rule in sorted(rules, key=lambda r: r.id):
        fit = specificity(rule, category=category, ancestry=ancestry)
        if fit[0] >= 0 and fit > best_fit:
            best, best_fit = rule, fit
    return best


def dispatch_for(
    rules: Iterable[DispatchRule], *, category: str, ancestry: Sequence[str]
) -> Dispatch:
    """The rule's decision, else DEPARTMENT_BY_CATEGORY with the category's priority."""
    rule = choose_rule(rules, category=category, ancestry=ancestry)
    if rule is not None:
        return Dispatch(rule.department, rule.priority, rule.assign_cell_worker, rule.id)
    return Dispatch(
        department_for(category),
        DEFAULT_PRIORITY_BY_CATEGORY.get(category, DEFAULT_PRIORITY),
        False,
        None,
    )


# --- escalation ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a case: a department, and optionally one grid worker of it."""

    department: str | None
    worker: str | None


@dataclass(frozen=True, slots=True)
class AreaStaff:
    """Who answers for one area above the holder: departments by kind, grid leaders."""

    area_id: str | None
    departments: Mapping[str, str]
    leaders: Sequence[str] = ()


def escalation_target(
    current: Holder, *, department_kind: str | None, above: Sequence[AreaStaff]
) -> Holder:
    """The holder one level up: the nearest area above with someone to answer.

    ``above`` lists the areas over the current holder's, nearest first. In each, the
    department of the same kind (the vertical link) takes the case from a
    department; failing that, the area's grid leader takes it over from the worker.
    With nobody above, a worker's case goes to the department itself; a
    department's case stays where it is (its escalation level still rises, which
    is what the command centre watches).
    """
    for area in above:
        department = area.departments.get(department_kind) if department_kind else None
        if department is not None and department != current.department:
            return Holder(department, None)
        leaders = [w for w in area.leaders if w != current.worker]
        if leaders:
            return Holder(current.department, leaders[0])
    if current.worker is not None:
        return Holder(current.department, None)
    return current
