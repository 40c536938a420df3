"""SQL for departments, grid workers, dispatch rules, case steps and escalation."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from grid_events.adapters.orm import (
    case_transitions,
    cases,
    departments,
    dispatch_rules,
    grid_worker_areas,
    grid_workers,
)
from grid_events.adapters.repository import MAX_DEPTH
from grid_events.domain.dispatch import AreaStaff, DispatchRule
from grid_events.domain.model import FINISHED

_ANCESTRY = text(
    """
    WITH RECURSIVE up(id, parent_id, n) AS (
        SELECT id, parent_id, 0 FROM grid_cells WHERE id = :area_id
        UNION ALL
        SELECT g.id, g.parent_id, up.n + 1
        FROM grid_cells g JOIN up ON g.id = up.parent_id
        WHERE up.n < :max_depth
    )
    SELECT id FROM up ORDER BY n
    """
)


async def ancestry(session: AsyncSession, area_id: str | None) -> list[str]:
    """The area first, then its parents up to the top; empty for no area."""
    if area_id is None:
        return []
    rows = await session.execute(_ANCESTRY, {"area_id": area_id, "max_depth": MAX_DEPTH})
    return [r[0] for r in rows]


async def area_level(session: AsyncSession, area_id: str) -> str | None:
    level: str | None = await session.scalar(
        text("SELECT level FROM grid_cells WHERE id = :id"), {"id": area_id}
    )
    return level


# --- departments ---------------------------------------------------------------------

_DEPARTMENT_COLUMNS = (
    departments.c.id,
    departments.c.name,
    departments.c.kind,
    departments.c.area_id,
    departments.c.created_at,
    departments.c.updated_at,
)


async def get_department(session: AsyncSession, department_id: str) -> dict[str, Any] | None:
    row = (
        await session.execute(select(*_DEPARTMENT_COLUMNS).where(departments.c.id == department_id))
    ).first()
    return dict(row._mapping) if row else None


async def department_at(session: AsyncSession, kind: str, area_id: str | None) -> str | None:
    """The department of ``kind`` at exactly ``area_id`` (None: district-wide)."""
    area = departments.c.area_id.is_(None) if area_id is None else departments.c.area_id == area_id
    return await session.scalar(select(departments.c.id).where(departments.c.kind == kind, area))


async def add_department(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(departments).values(**values))


async def update_department(session: AsyncSession, department_id: str, **values: Any) -> None:
    await session.execute(
        update(departments)
        .where(departments.c.id == department_id)
        .values(updated_at=func.now(), **values)
    )


async def delete_department(session: AsyncSession, department_id: str) -> None:
    await session.execute(delete(departments).where(departments.c.id == department_id))


async def department_in_use(session: AsyncSession, department_id: str) -> str | None:
    """What still refers to the department (rules, workers), or None."""
    if await session.scalar(
        select(func.count()).where(dispatch_rules.c.department_id == department_id)
    ):
        return "dispatch rules route cases to it"
    if await session.scalar(
        select(func.count()).where(grid_workers.c.department_id == department_id)
    ):
        return "grid workers belong to it"
    if await cases_held(session, department=department_id):
        return "it holds unfinished cases"
    return None


async def cases_held(
    session: AsyncSession, *, department: str | None = None, worker: str | None = None
) -> int:
    """How many unfinished cases a department or a worker holds."""
    holder = (
        cases.c.department == department
        if department is not None
        else cases.c.assignee_worker_id == worker
    )
    count = await session.scalar(
        select(func.count()).where(holder, cases.c.status.not_in(list(FINISHED)))
    )
    return int(count or 0)


async def list_departments(
    session: AsyncSession, *, kind: str | None, area_id: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if kind:
        conditions.append(departments.c.kind == kind)
    if area_id:
        conditions.append(departments.c.area_id == area_id)
    total = await session.scalar(select(func.count()).select_from(departments).where(*conditions))
    rows = await session.execute(
        select(*_DEPARTMENT_COLUMNS)
        .where(*conditions)
        .order_by(departments.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total or 0)


# --- grid workers --------------------------------------------------------------------

_WORKER_COLUMNS = (
    grid_workers.c.id,
    grid_workers.c.name_masked,
    grid_workers.c.phone_masked,
    grid_workers.c.role,
    grid_workers.c.duty_status,
    grid_workers.c.department_id,
    grid_workers.c.created_at,
    grid_workers.c.updated_at,
)


async def _with_areas(session: AsyncSession, rows: Sequence[Any]) -> list[dict[str, Any]]:
    workers = [dict(r._mapping) for r in rows]
    ids = [w["id"] for w in workers]
    areas: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        found = await session.execute(
            select(grid_worker_areas.c.worker_id, grid_worker_areas.c.area_id)
            .where(grid_worker_areas.c.worker_id.in_(ids))
            .order_by(grid_worker_areas.c.area_id)
        )
        for worker_id, area in found:
            areas[worker_id].append(area)
    for worker in workers:
        worker["area_ids"] = areas[worker["id"]]
    return workers


async def get_worker(session: AsyncSession, worker_id: str) -> dict[str, Any] | None:
    rows = (
        await session.execute(select(*_WORKER_COLUMNS).where(grid_workers.c.id == worker_id))
    ).all()
    found = await _with_areas(session, rows)
    return found[0] if found else None


async def add_worker(session: AsyncSession, *, area_ids: Collection[str], **values: Any) -> None:
    await session.execute(insert(grid_workers).values(**values))
    await set_worker_areas(session, values["id"], area_ids)


async def set_worker_areas(
    session: AsyncSession, worker_id: str, area_ids: Collection[str]
) -> None:
    await session.execute(
        delete(grid_worker_areas).where(grid_worker_areas.c.worker_id == worker_id)
    )
    if area_ids:
        await session.execute(
            insert(grid_worker_areas),
            [{"worker_id": worker_id, "area_id": a} for a in sorted(set(area_ids))],
        )


async def update_worker(session: AsyncSession, worker_id: str, **values: Any) -> None:
    await session.execute(
        update(grid_workers)
        .where(grid_workers.c.id == worker_id)
        .values(updated_at=func.now(), **values)
    )


async def delete_worker(session: AsyncSession, worker_id: str) -> None:
    await session.execute(
        delete(grid_worker_areas).where(grid_worker_areas.c.worker_id == worker_id)
    )
    await session.execute(delete(grid_workers).where(grid_workers.c.id == worker_id))


async def list_workers(
    session: AsyncSession,
    *,
    role: str | None,
    duty_status: str | None,
    area_id: str | None,
    department_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if role:
        conditions.append(grid_workers.c.role == role)
    if duty_status:
        conditions.append(grid_workers.c.duty_status == duty_status)
    if department_id:
        conditions.append(grid_workers.c.department_id == department_id)
    if area_id:
        conditions.append(
            grid_workers.c.id.in_(
                select(grid_worker_areas.c.worker_id).where(grid_worker_areas.c.area_id == area_id)
            )
        )
    total = await session.scalar(select(func.count()).select_from(grid_workers).where(*conditions))
    rows = (
        await session.execute(
            select(*_WORKER_COLUMNS)
            .where(*conditions)
            .order_by(grid_workers.c.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return await _with_areas(session, rows), int(total or 0)


async def on_duty_worker_of_cell(session: AsyncSession, cell_id: str) -> str | None:
    """An on-duty grid worker covering the cell (the first by id: stable)."""
    return await session.scalar(
        select(grid_workers.c.id)
        .join(grid_worker_areas, grid_worker_areas.c.worker_id == grid_workers.c.id)
        .where(
            grid_worker_areas.c.area_id == cell_id,
            grid_workers.c.role == "grid_worker",
            grid_workers.c.duty_status == "on_duty",
        )
        .order_by(grid_workers.c.id)
        .limit(1)
    )


async def areas_of_worker(session: AsyncSession, worker_id: str) -> set[str]:
    rows = await session.execute(
        select(grid_worker_areas.c.area_id).where(grid_worker_areas.c.worker_id == worker_id)
    )
    return {r[0] for r in rows}


async def staff_at(
    session: AsyncSession, area_ids: Sequence[str | None], *, kind: str | None
) -> list[AreaStaff]:
    """For each area (None: district-wide), its department of ``kind`` and on-duty leaders."""
    staff: list[AreaStaff] = []
    for area_id in area_ids:
        found: dict[str, str] = {}
        if kind is not None:
            department = await department_at(session, kind, area_id)
            if department is not None:
                found[kind] = department
        leaders: list[str] = []
        if area_id is not None:
            rows = await session.execute(
                select(grid_workers.c.id)
                .join(grid_worker_areas, grid_worker_areas.c.worker_id == grid_workers.c.id)
                .where(
                    grid_worker_areas.c.area_id == area_id,
                    grid_workers.c.role == "grid_leader",
                    grid_workers.c.duty_status == "on_duty",
                )
                .order_by(grid_workers.c.id)
            )
            leaders = [r[0] for r in rows]
        staff.append(AreaStaff(area_id, found, leaders))
    return staff


# --- dispatch rules ------------------------------------------------------------------

_RULE_COLUMNS = (
    dispatch_rules.c.id,
    dispatch_rules.c.category,
    dispatch_rules.c.area_id,
    dispatch_rules.c.priority,
    dispatch_rules.c.department_id,
    dispatch_rules.c.assign_cell_worker,
    dispatch_rules.c.created_at,
    dispatch_rules.c.updated_at,
)


async def rules_for(session: AsyncSession, category: str) -> list[DispatchRule]:
    """The rules that may apply to a category: its own and the wildcard ones."""
    rows = await session.execute(
        select(*_RULE_COLUMNS).where(dispatch_rules.c.category.in_([category, "*"]))
    )
    return [
        DispatchRule(
            id=r.id,
            category=r.category,
            area_id=r.area_id,
            priority=r.priority,
            department=r.department_id,
            assign_cell_worker=r.assign_cell_worker,
        )
        for r in rows
    ]


async def get_rule(session: AsyncSession, rule_id: str) -> dict[str, Any] | None:
    row = (
        await session.execute(select(*_RULE_COLUMNS).where(dispatch_rules.c.id == rule_id))
    ).first()
    return dict(row._mapping) if row else None


async def rule_for(session: AsyncSession, category: str, area_id: str | None) -> str | None:
    area = (
        dispatch_rules.c.area_id.is_(None)
        if area_id is None
        else dispatch_rules.c.area_id == area_id
    )
    return await session.scalar(
        select(dispatch_rules.c.id).where(dispatch_rules.c.category == category, area)
    )


async def add_rule(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(dispatch_rules).values(**values))


async def update_rule(session: AsyncSession, rule_id: str, **values: Any) -> None:
    await session.execute(
        update(dispatch_rules)
        .where(dispatch_rules.c.id == rule_id)
        .values(updated_at=func.now(), **values)
    )


async def delete_rule(session: AsyncSession, rule_id: str) -> None:
    await session.execute(delete(dispatch_rules).where(dispatch_rules.c.id == rule_id))


async def list_rules(
    session: AsyncSession,
    *,
    category: str | None,
    area_id: str | None,
    department_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = []
    if category:
        conditions.append(dispatch_rules.c.category == category)
    if area_id:
        conditions.append(dispatch_rules.c.area_id == area_id)
    if department_id:
        conditions.append(dispatch_rules.c.department_id == department_id)
    total = await session.scalar(
        select(func.count()).select_from(dispatch_rules).where(*conditions)
    )
    rows = await session.execute(
        select(*_RULE_COLUMNS)
        .where(*conditions)
        .order_by(
            dispatch_rules.c.category, dispatch_rules.c.area_id.nulls_first(), dispatch_rules.c.id
        )
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total or 0)


# --- case steps ----------------------------------------------------------------------

_HOLD_COLUMNS = (
    cases.c.id,
    cases.c.status,
    cases.c.category,
    cases.c.cell_id,
    cases.c.department,
    cases.c.assignee_worker_id,
    cases.c.priority,
    cases.c.due_at,
    cases.c.escalation_level,
    cases.c.resolved_at,
)


async def lock_case(session: AsyncSession, case_id: str) -> dict[str, Any] | None:
    """The case's workflow state, locked until the transaction ends (steps serialise)."""
    row = (
        await session.execute(select(*_HOLD_COLUMNS).where(cases.c.id == case_id).with_for_update())
    ).first()
    return dict(row._mapping) if row else None


async def update_case(session: AsyncSession, case_id: str, **values: Any) -> None:
    await session.execute(
        update(cases).where(cases.c.id == case_id).values(updated_at=func.now(), **values)
    )


async def add_transition(session: AsyncSession, **values: Any) -> bool:
    """Record a step; False when an escalation of the same due time is already recorded."""
    stmt = (
        pg_insert(case_transitions)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["case_id", "missed_due_at"],
            index_where=case_transitions.c.missed_due_at.is_not(None),
        )
        .returning(case_transitions.c.id)
    )
    return (await session.scalar(stmt)) is not None


async def timeline(session: AsyncSession, case_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            case_transitions.c.action,
            case_transitions.c.from_status,
            case_transitions.c.to_status,
            case_transitions.c.actor,
            case_transitions.c.at,
            case_transitions.c.note,
            case_transitions.c.department,
            case_transitions.c.assignee_worker_id,
            case_transitions.c.due_at,
        )
        .where(case_transitions.c.case_id == case_id)
        .order_by(case_transitions.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def claim_overdue(
    session: AsyncSession, *, now: datetime, statuses: Collection[str], limit: int
) -> list[dict[str, Any]]:
    """Overdue cases still being worked, locked; rows another replica holds are skipped."""
    rows = await session.execute(
        select(*_HOLD_COLUMNS)
        .where(
            cases.c.due_at <= now,
            cases.c.closed_at.is_(None),
            cases.c.status.in_(list(statuses)),
        )
        .order_by(cases.c.due_at, cases.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [dict(r._mapping) for r in rows]
