"""Use cases of the case workflow: routing by the rules, lifecycle steps, the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.web.problems import Problem, conflict, not_found, validation_failed
from grid_events.adapters import repository as repo
from grid_events.adapters import workflow_repo as wrepo
from grid_events.domain.dispatch import Dispatch, dispatch_for
from grid_events.domain.workflow import (
    EVENT_BY_STATUS,
    CaseStatus,
    TransitionRefused,
    Verb,
    WorkflowPolicy,
    allowed_verbs,
    may_take,
    next_status,
    source_cleared,
    system_actor,
)


def emit_case(
    uow: UnitOfWork, case: dict[str, Any], status: s.GridCaseStatus, at: datetime
) -> None:
    """Announce a case's step on grid.cases (written to the outbox with the change)."""
    uow.emit(
        spec_for_type(f"city.grid.case.{status.value}.v1"),
        s.GridCaseChanged(
            case_id=case["id"],
            status=status,
            category=case["category"],
            at=at,
            cell_id=case["cell_id"],
            department=case["department"],
            source=s.GridCaseSource(kind=case["source_kind"], ref=case["source_ref"]),
            location=GeoPoint.model_validate(case["location"]),
        ),
    )


async def route(uow: UnitOfWork, *, category: str, cell_id: str | None) -> Dispatch:
    """Where the dispatch rules send a case of ``category`` in ``cell_id``."""
    ancestry = await wrepo.ancestry(uow.session, cell_id)
    return await route_along(uow, category=category, ancestry=ancestry)


async def route_along(uow: UnitOfWork, *, category: str, ancestry: Sequence[str]) -> Dispatch:
    """``route`` for a cell whose ancestry (the cell first) is known already."""
    rules = await wrepo.rules_for(uow.session, category)
    return dispatch_for(rules, category=category, ancestry=ancestry)


@dataclass(frozen=True, slots=True)
class StepRequest:
    """A step asked for; the holder fields matter to ``dispatch`` only."""

    verb: Verb
    actor: str
    at: datetime
    note: str | None = None
    department: str | None = None
    assignee_worker_id: str | None = None
    priority: int | None = None


async def record_reported(
    uow: UnitOfWork, case: dict[str, Any], *, actor: str, at: datetime
) -> None:
    """The first line of a case's timeline: who reported it, and where it is routed."""
    await wrepo.add_transition(
        uow.session,
        case_id=case["id"],
        action="report",
        from_status=None,
        to_status=CaseStatus.REPORTED.value,
        actor=actor[:128],
        at=at,
        department=case["department"],
    )


async def _holder_for_dispatch(
    uow: UnitOfWork, case: dict[str, Any], step: StepRequest, routed: Dispatch | None
) -> tuple[str, str | None, int]:
    """The department, worker and priority a dispatch gives: as asked, else by the rules.

    ``routed``: the rules' answer for this case, already asked in this transaction.
    """
    decided = (
        routed
        if routed is not None
        else await route(uow, category=case["category"], cell_id=case["cell_id"])
    )
    department = step.department or decided.department
    if step.department is not None and await wrepo.get_department(uow.session, department) is None:
        raise validation_failed(
            "body.department", f"department {department!r} does not exist", code="unknown_reference"
        )
    worker = step.assignee_worker_id
    if worker is not None:
        if await wrepo.get_worker(uow.session, worker) is None:
            raise validation_failed(
                "body.assignee_worker_id",
                f"grid worker {worker!r} does not exist",
                code="unknown_reference",
            )
    elif step.department is None and decided.assign_cell_worker and case["cell_id"]:
        # Nobody on duty in the cell: the department holds the case alone.
        worker = await wrepo.on_duty_worker_of_cell(uow.session, case["cell_id"])
    priority = step.priority if step.priority is not None else decided.priority
    return department, worker, priority


async def apply_step(
    uow: UnitOfWork,
    policy: WorkflowPolicy,
    case: dict[str, Any],
    step: StepRequest,
    *,
    system: bool = False,
    routed: Dispatch | None = None,
) -> dict[str, Any]:
    """Take one step on a locked case: change it, record it, announce it.

    ``system`` steps are those of an automatic source whose incident cleared: they
    close the case from wherever it is. ``routed``: where the rules send the case,
    when the caller has just asked them (a dispatch need not ask again).
    """
    current = case["status"]
    to = source_cleared(current) if system else next_status(current, step.verb)
    values: dict[str, Any] = {"status": to.value}
    department, worker, due_at = case["department"], case["assignee_worker_id"], case["due_at"]
    if step.verb is Verb.DISPATCH and not system:
        department, worker, priority = await _holder_for_dispatch(uow, case, step, routed)
        due_at = policy.due_times.due_at(priority, step.at)
        values.update(
            department=department, assignee_worker_id=worker, priority=priority, due_at=due_at
        )
    if to is CaseStatus.RESOLVED or (system and case.get("resolved_at") is None):
        values["resolved_at"] = step.at
    if step.verb is Verb.REOPEN:
        values["resolved_at"] = None
    if to in (CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.DUPLICATE):
        values["closed_at"] = step.at
    updated = await repo.update_case(uow.session, case["id"], **values)
    assert updated is not None  # noqa: S101 - locked by the caller
    await wrepo.add_transition(
        uow.session,
        case_id=case["id"],
        action=step.verb.value,
        from_status=current,
        to_status=to.value,
        actor=step.actor[:128],
        at=step.at,
        note=step.note,
        department=department,
        assignee_worker_id=worker,
        due_at=due_at,
    )
    event = EVENT_BY_STATUS.get(to)
    if event is not None:
        emit_case(uow, updated, event, step.at)
    return updated


async def dispatch_on_intake(
    uow: UnitOfWork,
    policy: WorkflowPolicy,
    case_id: str,
    *,
    source_kind: str,
    at: datetime,
    held: dict[str, Any] | None = None,
    routed: Dispatch | None = None,
) -> dict[str, Any]:
    """An automatic source's case goes straight to whom the rules name.

    ``held``: the case as this transaction inserted or locked it, so that it need
    not be read (and locked) again; ``routed``: the rules' answer for it, if asked.
    """
    locked = held if held is not None else await wrepo.lock_case(uow.session, case_id)
    assert locked is not None  # noqa: S101 - inserted by the caller
    step = StepRequest(
        Verb.DISPATCH, system_actor(source_kind), at, note="dispatched by the rules on intake"
    )
    return await apply_step(uow, policy, locked, step, routed=routed)


async def close_for_source(
    uow: UnitOfWork,
    policy: WorkflowPolicy,
    case_id: str,
    *,
    source_kind: str,
    at: datetime,
    note: str,
) -> dict[str, Any] | None:
    """The source's incident cleared and no other automatic report is open: close."""
    locked = await wrepo.lock_case(uow.session, case_id)
    if locked is None:
        return None
    try:
        step = StepRequest(Verb.CLOSE, system_actor(source_kind), at, note=note)
        return await apply_step(uow, policy, locked, step, system=True)
    except TransitionRefused:
        return None  # finished already: nothing is left to close


async def take_step(
    uow: UnitOfWork,
    policy: WorkflowPolicy,
    *,
    case_id: str,
    step: StepRequest,
    roles: frozenset[str],
) -> dict[str, Any]:
    """A person's step on a case (the API): checked against the lifecycle and their roles."""
    case = await wrepo.lock_case(uow.session, case_id)
    if case is None:
        raise not_found("case", case_id)
    if not may_take(step.verb, roles, subject=step.actor, assignee=case["assignee_worker_id"]):
        raise Problem(
            403,
            "Forbidden",
            f"the step {step.verb.value!r} is not yours to take on case {case_id!r}",
        )
    try:
        updated = await apply_step(uow, policy, case, step)
    except TransitionRefused as exc:
        problem = conflict(f"{exc}; its current status is {exc.current!r}")
        problem.extra.update(
            current_status=exc.current,
            allowed=[v.value for v in allowed_verbs(exc.current)],
        )
        raise problem from None
    await uow.commit()
    return updated


async def case_timeline(uow: UnitOfWork, case_id: str) -> list[dict[str, Any]]:
    """Every step of a case, oldest first."""
    if await repo.get_case(uow.session, case_id) is None:
        raise not_found("case", case_id)
    return await wrepo.timeline(uow.session, case_id)
