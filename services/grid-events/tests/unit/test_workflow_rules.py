"""The case lifecycle, dispatch rules and escalation targets: pure logic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grid_events.domain.dispatch import (
    AreaStaff,
    DispatchRule,
    Holder,
    choose_rule,
    dispatch_for,
    escalation_target,
)
from grid_events.domain.model import FINISHED
from grid_events.domain.workflow import (
    ACTIVE,
    DEFAULT_DUE_TIMES,
    TRANSITIONS,
    CaseStatus,
    TransitionRefused,
    Verb,
    allowed_verbs,
    may_take,
    next_status,
    source_cleared,
)

# cell-1 lies in village-1, in town-1, in the district.
ANCESTRY = ["cell-1", "village-1", "town-1", "district"]


def test_the_happy_path_runs_from_reported_to_closed() -> None:
    status = CaseStatus.REPORTED
    for verb, expected in (
        (Verb.DISPATCH, CaseStatus.DISPATCHED),
        (Verb.ACCEPT, CaseStatus.ACCEPTED),
        (Verb.START, CaseStatus.IN_PROGRESS),
        (Verb.RESOLVE, CaseStatus.RESOLVED),
        (Verb.VERIFY, CaseStatus.VERIFIED),
        (Verb.CLOSE, CaseStatus.CLOSED),
    ):
        status = next_status(status, verb)
        assert status is expected


@pytest.mark.parametrize(
    ("current", "verb"),
    [
        ("reported", Verb.ACCEPT),
        ("dispatched", Verb.RESOLVE),
        ("in_progress", Verb.CLOSE),
        ("resolved", Verb.CLOSE),
        ("closed", Verb.DISPATCH),
        ("rejected", Verb.REOPEN),
        ("opened", Verb.DISPATCH),  # the old name is not a status any more
    ],
)
def test_a_step_that_does_not_follow_is_refused_naming_the_status(current: str, verb: Verb) -> None:
    with pytest.raises(TransitionRefused) as refused:
        next_status(current, verb)
    assert refused.value.current == current and current in str(refused.value)


def test_terminal_statuses_take_no_step_and_finished_ones_take_no_reports() -> None:
    for status in (CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.DUPLICATE):
        assert allowed_verbs(status) == []
        assert status in FINISHED
    assert not ACTIVE & FINISHED
    assert FINISHED <= {status.value for status in CaseStatus}
    assert allowed_verbs("resolved") == [Verb.VERIFY, Verb.REOPEN]
    # Every status a step leads to is one the table knows.
    assert {to for to in TRANSITIONS.values()} <= set(CaseStatus)


def test_an_automatic_source_closes_from_any_unfinished_status_but_not_twice() -> None:
    for status in ("reported", "dispatched", "accepted", "in_progress", "resolved", "verified"):
        assert source_cleared(status) is CaseStatus.CLOSED
    with pytest.raises(TransitionRefused):
        source_cleared("closed")


def test_roles_and_assignment_decide_who_may_step() -> None:
    worker = frozenset({"grid_worker"})
    office = frozenset({"dispatcher"})
    assert may_take(Verb.ACCEPT, worker, subject="w-1", assignee="w-1")
    assert not may_take(Verb.ACCEPT, worker, subject="w-2", assignee="w-1")
    assert not may_take(Verb.ACCEPT, worker, subject="w-1", assignee=None)
    assert not may_take(Verb.DISPATCH, worker, subject="w-1", assignee="w-1")
    assert not may_take(Verb.VERIFY, worker, subject="w-1", assignee="w-1")
    assert may_take(Verb.ACCEPT, office, subject="d-1", assignee="w-1")
    assert may_take(Verb.CLOSE, frozenset({"admin"}), subject="a", assignee=None)
    assert not may_take(Verb.RESOLVE, frozenset({"citizen"}), subject="c", assignee="c")


def test_due_times_follow_the_priority() -> None:
    since = datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert DEFAULT_DUE_TIMES.due_at(1, since) == since + timedelta(hours=2)
    assert DEFAULT_DUE_TIMES.due_at(4, since) == since + timedelta(days=7)
    with pytest.raises(ValueError, match="priority"):
        DEFAULT_DUE_TIMES.for_priority(5)


def chosen(rules: list[DispatchRule], category: str, ancestry: list[str]) -> str | None:
    found = choose_rule(rules, category=category, ancestry=ancestry)
    return found.id if found else None


def rule(rule_id: str, category: str, area: str | None, department: str) -> DispatchRule:
    return DispatchRule(rule_id, category, area, 2, department)


def test_a_category_rule_beats_a_wildcard_even_for_a_deeper_area() -> None:
    rules = [
        rule("r-any", "*", None, "urban_management"),
        rule("r-town-any", "*", "town-1", "town-1-office"),
        rule("r-fire", "forest_fire", None, "forestry"),
    ]
    assert chosen(rules, "forest_fire", ANCESTRY) == "r-fire"
    assert chosen(rules, "other", ANCESTRY) == "r-town-any"
    assert chosen(rules, "other", ["cell-9", "town-2"]) == "r-any"


def test_a_deeper_area_beats_a_shallower_one_and_other_areas_do_not_match() -> None:
    rules = [
        rule("r-district", "forest_fire", "district", "forestry"),
        rule("r-village", "forest_fire", "village-1", "village-1-forestry"),
        rule("r-town", "forest_fire", "town-1", "town-1-forestry"),
        rule("r-elsewhere", "forest_fire", "town-2", "town-2-forestry"),
    ]
    assert chosen(rules, "forest_fire", ANCESTRY) == "r-village"
    in_town_2 = ["cell-7", "town-2", "district"]
    assert chosen(rules, "forest_fire", in_town_2) == "r-elsewhere"
    # A case without a cell matches only rules for anywhere.
    assert chosen(rules, "forest_fire", []) is None


def test_without_a_matching_rule_the_category_table_decides() -> None:
    decided = dispatch_for([], category="forest_fire", ancestry=ANCESTRY)
    assert (decided.department, decided.priority, decided.rule_id) == ("forestry", 1, None)
    assert dispatch_for([], category="no_such", ancestry=[]).department == "urban_management"
    ruled = dispatch_for(
        [DispatchRule("r", "other", None, 4, "grid_office", assign_cell_worker=True)],
        category="other",
        ancestry=ANCESTRY,
    )
    assert (ruled.department, ruled.priority, ruled.assign_cell_worker) == ("grid_office", 4, True)


def test_escalation_goes_to_the_same_kind_one_area_up_then_to_leaders() -> None:
    above = [
        AreaStaff("town-1", {}, leaders=("leader-t",)),
        AreaStaff("district", {"forestry": "forestry"}),
    ]
    town_station = Holder("forestry-town-9", None)
    assert escalation_target(town_station, department_kind="forestry", above=above) == Holder(
        "forestry-town-9", "leader-t"
    )
    no_leader = [AreaStaff("town-1", {}), AreaStaff("district", {"forestry": "forestry"})]
    assert escalation_target(town_station, department_kind="forestry", above=no_leader) == Holder(
        "forestry", None
    )


def test_escalation_with_nobody_above() -> None:
    worker = Holder("urban_management", "w-1")
    assert escalation_target(worker, department_kind="urban_management", above=[]) == Holder(
        "urban_management", None
    )
    top = Holder("forestry", None)
    assert escalation_target(top, department_kind="forestry", above=[]) == top
    # The holder's own department one level up is no escalation: look further.
    same = [AreaStaff(None, {"urban_management": "urban_management"})]
    assert escalation_target(worker, department_kind="urban_management", above=same) == Holder(
        "urban_management", None
    )
