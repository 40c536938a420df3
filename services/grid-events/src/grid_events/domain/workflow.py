"""The case lifecycle: which step may follow which, and who may take it. Pure logic.

reported → dispatched → accepted → in_progress → resolved → verified → closed, or
rejected / duplicate. Each step is a verb; ``TRANSITIONS`` is the whole table, so
an invalid step is refused here, before any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from city_common.auth import Role
from city_common.events.schemas import GridCaseStatus


class CaseStatus(StrEnum):
    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class Verb(StrEnum):
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    START = "start"
    RESOLVE = "resolve"
    VERIFY = "verify"
    REOPEN = "reopen"
    CLOSE = "close"
    REJECT = "reject"
    MARK_DUPLICATE = "mark_duplicate"


S = CaseStatus
V = Verb

# (status, verb) -> the status it leads to. Re-dispatching a dispatched case hands
# it to another holder; "reopen" sends a resolution that failed verification back.
TRANSITIONS: Final[dict[tuple[CaseStatus, Verb], CaseStatus]] = {
    (S.REPORTED, V.DISPATCH): S.DISPATCHED,
    (S.REPORTED, V.REJECT): S.REJECTED,
    (S.REPORTED, V.MARK_DUPLICATE): S.DUPLICATE,
    (S.DISPATCHED, V.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, V.ACCEPT): S.ACCEPTED,
    (S.DISPATCHED, V.REJECT): S.REJECTED,
    (S.DISPATCHED, V.MARK_DUPLICATE): S.DUPLICATE,
    (S.ACCEPTED, V.START): S.IN_PROGRESS,
    (S.ACCEPTED, V.RESOLVE): S.RESOLVED,
    (S.ACCEPTED, V.MARK_DUPLICATE): S.DUPLICATE,
    (S.IN_PROGRESS, V.RESOLVE): S.RESOLVED,
    (S.RESOLVED, V.VERIFY): S.VERIFIED,
    (S.RESOLVED, V.REOPEN): S.IN_PROGRESS,
    (S.VERIFIED, V.CLOSE): S.CLOSED,
}

# Statuses in which the holder still has to act: the due time runs, escalation applies.
ACTIVE: Final[frozenset[CaseStatus]] = frozenset({S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS})
TERMINAL: Final[frozenset[CaseStatus]] = frozenset({S.CLOSED, S.REJECTED, S.DUPLICATE})

# The command centre routes and checks; the holder (a grid worker or the
# department's staff, who log in as dispatchers) works the case. Admin passes all.
_COMMAND: Final = frozenset({Role.OPERATOR, Role.DISPATCHER})
_HOLDER: Final = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.GRID_WORKER})
ROLES_BY_VERB: Final[dict[Verb, frozenset[str]]] = {
    V.DISPATCH: _COMMAND,
    V.ACCEPT: _HOLDER,
    V.START: _HOLDER,
    V.RESOLVE: _HOLDER,
    V.VERIFY: _COMMAND,
    V.REOPEN: _COMMAND,
    V.CLOSE: _COMMAND,
    V.REJECT: _COMMAND,
    V.MARK_DUPLICATE: _COMMAND,
}

# What grid.cases says about a step (the contract in libs/common has five statuses).
# A rejected or duplicate case is over for whoever raised it: "closed" closes their loop.
EVENT_BY_STATUS: Final[dict[CaseStatus, GridCaseStatus]] = {
    S.DISPATCHED: GridCaseStatus.DISPATCHED,
    S.RESOLVED: GridCaseStatus.RESOLVED,
    S.CLOSED: GridCaseStatus.CLOSED,
    S.REJECTED: GridCaseStatus.CLOSED,
    S.DUPLICATE: GridCaseStatus.CLOSED,
}

SYSTEM_ACTOR_PREFIX: Final = "system:"


class TransitionRefused(Exception):  # noqa: N818 - reads as what happened
    """The step does not follow from the case's current status."""

    def __init__(self, current: str, verb: str) -> None:
        super().__init__(f"a case in status {current!r} cannot take the step {verb!r}")
        self.current = current
        self.verb = verb


def next_status(current: str, verb: Verb) -> CaseStatus:
    """The status ``verb`` leads to from ``current``; raises TransitionRefused if none."""
    try:
        return TRANSITIONS[(CaseStatus(current), verb)]
    except (KeyError, ValueError):
        raise TransitionRefused(current, verb.value) from None


def allowed_verbs(current: str) -> list[Verb]:
    """The steps a case in ``current`` may take next, in lifecycle order."""
    return [verb for (status, verb) in TRANSITIONS if status == current]


def source_cleared(current: str) -> CaseStatus:
    """An automatic source's incident ended (alarm extinguished, camera back): close.

    The system closes from any status short of the end: the incident the case was
    about no longer exists, so nobody is left to verify it.
    """
    if current in TERMINAL:
        raise TransitionRefused(current, "close")
    return S.CLOSED


def may_take(verb: Verb, roles: frozenset[str], *, subject: str, assignee: str | None) -> bool:
    """Whether a caller with ``roles`` may take ``verb`` on a case held by ``assignee``.

    A grid worker without an office role works only the cases assigned to them.
    """
    if Role.ADMIN in roles:
        return True
    if not roles & ROLES_BY_VERB[verb]:
        return False
    if roles & _COMMAND:
        return True
    return assignee is not None and assignee == subject


# --- due times ---------------------------------------------------------------------

PRIORITIES: Final = (1, 2, 3, 4)


@dataclass(frozen=True, slots=True)
class DueTimes:
    """How long the holder has, by priority (1 most urgent)."""

    p1: timedelta
    p2: timedelta
    p3: timedelta
    p4: timedelta

    def for_priority(self, priority: int) -> timedelta:
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be 1-4, not {priority}")
        return (self.p1, self.p2, self.p3, self.p4)[priority - 1]

    def due_at(self, priority: int, since: datetime) -> datetime:
        return since + self.for_priority(priority)


DEFAULT_DUE_TIMES: Final = DueTimes(
    timedelta(hours=2), timedelta(hours=24), timedelta(hours=72), timedelta(days=7)
)


@dataclass(frozen=True, slots=True)
class WorkflowPolicy:
    """The settings intake and dispatch follow: due times, and who is dispatched at once."""

    due_times: DueTimes = DEFAULT_DUE_TIMES
    auto_dispatch_sources: frozenset[str] = frozenset(
        {"fire_alarm", "camera", "exceedance", "traffic_incident"}
    )


def system_actor(source_kind: str) -> str:
    """How an automatic source signs the steps it takes (``system:fire_alarm``)."""
    return f"{SYSTEM_ACTOR_PREFIX}{source_kind}"
