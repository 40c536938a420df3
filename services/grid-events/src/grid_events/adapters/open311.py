"""SQL for Open311: API keys, service requests and the places an address names."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from city_common.geo import GeoPoint
from grid_events.adapters.orm import cases, grid_cells, housing, open311_api_keys, service_requests

_REQUEST_COLUMNS = (
    service_requests.c.id,
    service_requests.c.token,
    service_requests.c.case_id,
    service_requests.c.service_code,
    service_requests.c.description,
    service_requests.c.address,
    service_requests.c.address_id,
    service_requests.c.media_url,
    service_requests.c.requested_at,
    func.ST_X(service_requests.c.location).label("long"),
    func.ST_Y(service_requests.c.location).label("lat"),
    cases.c.status.label("case_status"),
    cases.c.department,
    cases.c.updated_at,
)


def _requests() -> Any:
    return select(*_REQUEST_COLUMNS).join(cases, cases.c.id == service_requests.c.case_id)


# --- API keys -------------------------------------------------------------------------


async def add_api_key(session: AsyncSession, *, key_id: str, name: str, key_hash: str) -> None:
    await session.execute(insert(open311_api_keys).values(id=key_id, name=name, key_hash=key_hash))


async def active_api_key(session: AsyncSession, key_hash: str) -> str | None:
    """The id of the unrevoked key with this hash."""
    return await session.scalar(
        select(open311_api_keys.c.id).where(
            open311_api_keys.c.key_hash == key_hash, open311_api_keys.c.revoked_at.is_(None)
        )
    )


async def list_api_keys(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            open311_api_keys.c.id,
            open311_api_keys.c.name,
            open311_api_keys.c.created_at,
            open311_api_keys.c.revoked_at,
        ).order_by(open311_api_keys.c.created_at, open311_api_keys.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def revoke_api_key(session: AsyncSession, key_id: str) -> bool:
    result = await session.execute(
        update(open311_api_keys)
        .where(open311_api_keys.c.id == key_id, open311_api_keys.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(open311_api_keys.c.id)
    )
    return result.first() is not None


async def api_key_exists(session: AsyncSession, key_id: str) -> bool:
    found = await session.scalar(
        select(open311_api_keys.c.id).where(open311_api_keys.c.id == key_id)
    )
    return found is not None


# --- places -----------------------------------------------------------------------------


async def housing_place(
    session: AsyncSession, *, housing_id: str | None = None, address: str | None = None
) -> GeoPoint | None:
    """Where a registered building is: its own point, or a point inside its cell."""
    condition = (
        housing.c.id == housing_id if housing_id is not None else housing.c.address == address
    )
    point = func.coalesce(housing.c.location, func.ST_PointOnSurface(grid_cells.c.geom))
    row = (
        await session.execute(
            select(func.ST_X(point), func.ST_Y(point))
            .select_from(housing.join(grid_cells, grid_cells.c.id == housing.c.cell_id))
            .where(condition)
        )
    ).first()
    return GeoPoint.of(float(row[0]), float(row[1])) if row else None


# --- service requests ------------------------------------------------------------------


async def add_service_request(session: AsyncSession, *, location: GeoPoint, **values: Any) -> None:
    await session.execute(
        insert(service_requests).values(location=func.ST_GeomFromEWKT(location.to_wkt()), **values)
    )


async def service_request(session: AsyncSession, request_id: str) -> dict[str, Any] | None:
    row = (await session.execute(_requests().where(service_requests.c.id == request_id))).first()
    return dict(row._mapping) if row else None


async def service_request_for_token(session: AsyncSession, token: str) -> dict[str, Any] | None:
    row = (await session.execute(_requests().where(service_requests.c.token == token))).first()
    return dict(row._mapping) if row else None


async def find_service_requests(
    session: AsyncSession,
    *,
    ids: Sequence[str],
    codes: Sequence[str],
    since: datetime,
    until: datetime,
    closed_statuses: Collection[str],
    wanted: Collection[str],
    limit: int,
) -> list[dict[str, Any]]:
    """Requests newest first; ``ids`` override every other filter (the spec)."""
    stmt = _requests()
    if ids:
        stmt = stmt.where(service_requests.c.id.in_(list(ids)))
    else:
        conditions = [
            service_requests.c.requested_at >= since,
            service_requests.c.requested_at <= until,
        ]
        if codes:
            conditions.append(service_requests.c.service_code.in_(list(codes)))
        if set(wanted) == {"open"}:
            conditions.append(cases.c.status.not_in(list(closed_statuses)))
        elif set(wanted) == {"closed"}:
            conditions.append(cases.c.status.in_(list(closed_statuses)))
        stmt = stmt.where(and_(*conditions))
    rows = await session.execute(
        stmt.order_by(service_requests.c.requested_at.desc(), service_requests.c.id).limit(limit)
    )
    return [dict(r._mapping) for r in rows]
