"""Escalation: a case whose due time passed goes one level up the hierarchy.

Restart-safe: everything the job needs is in the database (the due times), so a
restarted job escalates what fell due while it was away, once. Replica-safe: each
pass claims its cases with FOR UPDATE SKIP LOCKED, and an escalation is recorded
under the due time it answers (unique per case), so no due time escalates twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.runtime import Runtime
from grid_events.adapters import repository as repo
from grid_events.adapters import workflow_repo as wrepo
from grid_events.config import Settings
from grid_events.domain.dispatch import Holder, escalation_target
from grid_events.domain.workflow import ACTIVE, WorkflowPolicy, system_actor
from grid_events.service_layer.workflow import emit_case

log = logging.getLogger(__name__)

ESCALATION_ACTOR = system_actor("escalation")


async def _areas_above(uow: UnitOfWork, case: dict[str, Any]) -> list[str | None]:
    """The areas over the current holder's, nearest first; None is the district-wide level."""
    session = uow.session
    worker = case["assignee_worker_id"]
    if worker is not None:
        # A worker holds the case at the deepest area of its cell that they cover.
        cell_chain = await wrepo.ancestry(session, case["cell_id"])
        covered = await wrepo.areas_of_worker(session, worker)
        held_at = next((a for a in cell_chain if a in covered), case["cell_id"])
    else:
        department = await wrepo.get_department(session, case["department"] or "")
        held_at = department["area_id"] if department else None
        if held_at is None:
            return []  # a district-wide department: nothing is above it
    chain: list[str | None] = list((await wrepo.ancestry(session, held_at))[1:])
    return [*chain, None]


async def escalate_case(
    uow: UnitOfWork, policy: WorkflowPolicy, case: dict[str, Any], *, now: datetime
) -> bool:
    """Escalate one claimed case; False when its due time was escalated already."""
    session = uow.session
    department = await wrepo.get_department(session, case["department"] or "")
    kind = department["kind"] if department else case["department"]
    above = await wrepo.staff_at(session, await _areas_above(uow, case), kind=kind)
    target = escalation_target(
        Holder(case["department"], case["assignee_worker_id"]), department_kind=kind, above=above
    )
    level = case["escalation_level"] + 1
    due_at = policy.due_times.due_at(case["priority"], now)
    recorded = await wrepo.add_transition(
        session,
        case_id=case["id"],
        action="escalate",
        from_status=case["status"],
        to_status=case["status"],
        actor=ESCALATION_ACTOR,
        at=now,
        note=f"due {case['due_at'].isoformat()} passed: escalation level {level}",
        department=target.department,
        assignee_worker_id=target.worker,
        due_at=due_at,
        missed_due_at=case["due_at"],
    )
    if not recorded:
        return False
    await wrepo.update_case(
        session,
        case["id"],
        escalation_level=level,
        due_at=due_at,
        department=target.department,
        assignee_worker_id=target.worker,
    )
    updated = await repo.get_case(session, case["id"])
    assert updated is not None  # noqa: S101 - locked by the claim
    emit_case(uow, updated, s.GridCaseStatus.ESCALATED, now)
    return True


async def escalate_due(
    uow: UnitOfWork, policy: WorkflowPolicy, *, now: datetime, limit: int = 100
) -> list[str]:
    """Escalate up to ``limit`` cases due by ``now`` and commit; returns their ids.

    ``now`` is the job's clock: the background loop passes the wall clock, tests
    pass any time they like.
    """
    claimed = await wrepo.claim_overdue(
        uow.session, now=now, statuses=[s.value for s in ACTIVE], limit=limit
    )
    escalated = [case["id"] for case in claimed if await escalate_case(uow, policy, case, now=now)]
    await uow.commit()
    return escalated


async def run_escalation(runtime: Runtime) -> None:
    """Background task: escalate what falls due, pass after pass, until the app stops
    (``Runtime.pause`` returns at once then)."""
    settings = runtime.settings
    assert isinstance(settings, Settings)  # noqa: S101 - bootstrap builds the app with them
    if not settings.escalation_enabled:
        return
    policy, batch_size = settings.workflow_policy, settings.escalation_batch_size
    while not runtime.stopping.is_set():
        try:
            async with runtime.uow() as uow:
                done = await escalate_due(uow, policy, now=datetime.now(UTC), limit=batch_size)
        except Exception:  # noqa: BLE001 - the job outlives a bad pass (database away)
            log.exception("escalation pass failed")
            done = []
        if len(done) >= batch_size:
            continue  # more are due: no pause
        await runtime.pause(settings.escalation_interval_s)
