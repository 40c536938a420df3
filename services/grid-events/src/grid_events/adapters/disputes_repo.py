"""SQL for disputes, their parties, mediation sessions and follow-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from grid_events.adapters.orm import (
    dispute_follow_ups,
    dispute_parties,
    dispute_sessions,
    disputes,
)

_COLUMNS = (
    disputes.c.id,
    disputes.c.kind,
    disputes.c.status,
    disputes.c.cell_id,
    disputes.c.summary,
    disputes.c.mediator_id,
    disputes.c.registered_by,
    disputes.c.registered_at,
    disputes.c.updated_at,
    disputes.c.outcome,
    disputes.c.outcome_on,
    disputes.c.agreement_text,
    disputes.c.referred_to,
    disputes.c.referred_body,
    disputes.c.referral_reason,
    disputes.c.closed_at,
)


async def add_dispute(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(disputes).values(**values))


async def add_party(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(dispute_parties).values(**values))


async def get_dispute(
    session: AsyncSession, dispute_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    stmt = select(*_COLUMNS).where(disputes.c.id == dispute_id)
    if for_update:
        # Two mediators recording at once must see each other's step.
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).first()
    return dict(row._mapping) if row else None


async def parties_of(session: AsyncSession, dispute_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            dispute_parties.c.id,
            dispute_parties.c.role,
            dispute_parties.c.name_masked,
            dispute_parties.c.phone_masked,
        )
        .where(dispute_parties.c.dispute_id == dispute_id)
        .order_by(dispute_parties.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def sessions_of(session: AsyncSession, dispute_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            dispute_sessions.c.id,
            dispute_sessions.c.held_on,
            dispute_sessions.c.mediator_id,
            dispute_sessions.c.notes,
            dispute_sessions.c.outcome,
            dispute_sessions.c.recorded_by,
            dispute_sessions.c.recorded_at,
        )
        .where(dispute_sessions.c.dispute_id == dispute_id)
        .order_by(dispute_sessions.c.held_on, dispute_sessions.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def follow_ups_of(session: AsyncSession, dispute_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            dispute_follow_ups.c.id,
            dispute_follow_ups.c.followed_up_on,
            dispute_follow_ups.c.note,
            dispute_follow_ups.c.recorded_by,
            dispute_follow_ups.c.recorded_at,
        )
        .where(dispute_follow_ups.c.dispute_id == dispute_id)
        .order_by(dispute_follow_ups.c.followed_up_on, dispute_follow_ups.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def add_session(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(dispute_sessions).values(**values))


async def add_follow_up(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(dispute_follow_ups).values(**values))


async def update_dispute(session: AsyncSession, dispute_id: str, **values: Any) -> None:
    await session.execute(
        update(disputes).where(disputes.c.id == dispute_id).values(updated_at=func.now(), **values)
    )


async def close_dispute(session: AsyncSession, dispute_id: str, *, status: str) -> None:
    await session.execute(
        update(disputes)
        .where(disputes.c.id == dispute_id)
        .values(status=status, closed_at=func.now(), updated_at=func.now())
    )


async def delete_dispute(session: AsyncSession, dispute_id: str) -> None:
    # Parties, sessions and follow-ups go with it (ON DELETE CASCADE).
    await session.execute(delete(disputes).where(disputes.c.id == dispute_id))


async def list_disputes(
    session: AsyncSession,
    *,
    statuses: list[str],
    kinds: list[str],
    cell_id: str | None,
    mediator_id: str | None,
    registered_from: datetime | None,
    registered_to: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions: list[ColumnElement[bool]] = []
    if statuses:
        conditions.append(disputes.c.status.in_(statuses))
    if kinds:
        conditions.append(disputes.c.kind.in_(kinds))
    if cell_id is not None:
        conditions.append(disputes.c.cell_id == cell_id)
    if mediator_id is not None:
        conditions.append(disputes.c.mediator_id == mediator_id)
    if registered_from is not None:
        conditions.append(disputes.c.registered_at >= registered_from)
    if registered_to is not None:
        conditions.append(disputes.c.registered_at < registered_to)
    total = await session.scalar(select(func.count()).select_from(disputes).where(*conditions))
    rows = await session.execute(
        select(*_COLUMNS)
        .where(*conditions)
        .order_by(disputes.c.registered_at.desc(), disputes.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total or 0)
