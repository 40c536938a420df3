"""SQL for residents, housing, organisations and the audit of identity reads.

Reads return plain dicts of the masked columns only; the ciphertexts leave this
module through :func:`resident_secrets` alone, which only the identity use case calls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, TextClause, func, insert, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from grid_events.adapters.orm import grid_cells, housing, organisations, pii_access_audit, residents

Listing = tuple[list[dict[str, Any]], int]

_RESIDENT_COLUMNS = (
    residents.c.id,
    residents.c.cell_id,
    residents.c.id_masked,
    residents.c.name_masked,
    residents.c.phone_masked,
    residents.c.sex,
    residents.c.birth_year,
    residents.c.residence,
    residents.c.address,
    residents.c.created_at,
    residents.c.updated_at,
)
_HOUSING_COLUMNS = (
    housing.c.id,
    housing.c.cell_id,
    housing.c.address,
    housing.c.use,
    housing.c.floors,
    housing.c.area_m2,
    func.ST_AsGeoJSON(housing.c.location).label("location"),
    housing.c.created_at,
    housing.c.updated_at,
)
_ORGANISATION_COLUMNS = (
    organisations.c.id,
    organisations.c.cell_id,
    organisations.c.name,
    organisations.c.uscc,
    organisations.c.kind,
    organisations.c.address,
    organisations.c.employees,
    organisations.c.created_at,
    organisations.c.updated_at,
)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    if isinstance(data.get("location"), str):
        data["location"] = json.loads(data["location"])
    return data


async def cell_ids(session: AsyncSession) -> frozenset[str]:
    """Every cell and area id; an import checks its rows against them in memory."""
    return frozenset((await session.scalars(select(grid_cells.c.id))).all())


# --- upserts on natural keys ------------------------------------------------------


# Fingerprints of one import batch by natural key. The batch travels as one array
# joined with the table: an IN list of a thousand parameters becomes, once the
# statement is prepared generically, a linear filter over the whole table per batch.
_FINGERPRINTS_BY_PSEUDONYM = text(
    """
    SELECT r.id_hmac, r.fingerprint
    FROM unnest(CAST(:keys AS bytea[])) AS k(id_hmac)
    JOIN residents AS r ON r.id_hmac = k.id_hmac
    """
)
_FINGERPRINTS_BY_ADDRESS = text(
    """
    SELECT h.address, h.fingerprint
    FROM unnest(CAST(:keys AS text[])) AS k(address)
    JOIN housing AS h ON h.address = k.address
    """
)
_FINGERPRINTS_BY_CODE = text(
    """
    SELECT o.uscc, o.fingerprint
    FROM unnest(CAST(:keys AS text[])) AS k(uscc)
    JOIN organisations AS o ON o.uscc = k.uscc
    """
)


async def _fingerprints(
    session: AsyncSession, query: TextClause, keys: Sequence[Any]
) -> dict[Any, bytes]:
    if not keys:
        return {}
    rows = await session.execute(query, {"keys": list(keys)})
    return {r[0]: r[1] for r in rows}


async def resident_fingerprints(
    session: AsyncSession, pseudonyms: Sequence[bytes]
) -> dict[bytes, bytes]:
    return await _fingerprints(session, _FINGERPRINTS_BY_PSEUDONYM, pseudonyms)


async def housing_fingerprints(session: AsyncSession, addresses: Sequence[str]) -> dict[str, bytes]:
    return await _fingerprints(session, _FINGERPRINTS_BY_ADDRESS, addresses)


async def organisation_fingerprints_by_code(
    session: AsyncSession, codes: Sequence[str]
) -> dict[str, bytes]:
    return await _fingerprints(session, _FINGERPRINTS_BY_CODE, codes)


async def organisation_fingerprints_by_name(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], bytes]:
    if not pairs:
        return {}
    names, cells = (list(column) for column in zip(*pairs, strict=True))
    rows = await session.execute(
        text(
            """
            SELECT o.name, o.cell_id, o.fingerprint
            FROM unnest(CAST(:names AS text[]), CAST(:cells AS text[])) AS v(name, cell_id)
            JOIN organisations AS o ON o.name = v.name AND o.cell_id = v.cell_id
            WHERE o.uscc IS NULL
            """
        ),
        {"names": names, "cells": cells},
    )
    return {(r[0], r[1]): r[2] for r in rows}


def _upsert_statement(
    table: Table, columns: Sequence[str], conflict: list[str], where: ColumnElement[bool] | None
) -> ReturningInsert[tuple[bool]]:
    stmt = pg_insert(table)
    keep = {"id", "created_at", *conflict}
    changes: dict[str, Any] = {c: stmt.excluded[c] for c in columns if c not in keep}
    changes["updated_at"] = func.now()
    return stmt.on_conflict_do_update(
        index_elements=conflict,
        index_where=where,
        set_=changes,
        where=table.c.fingerprint.is_distinct_from(stmt.excluded.fingerprint),
    ).returning(literal_column("xmax = 0").label("inserted"))


async def _upsert(
    session: AsyncSession,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    conflict: list[str],
    where: ColumnElement[bool] | None = None,
) -> tuple[int, int]:
    """Insert new rows, update those whose fingerprint differs; (created, updated).

    A row whose fingerprint is the stored one is neither updated nor returned, so a
    re-import writes nothing for it (no new row version, no ``updated_at`` bump).
    The rows go as parameters of one statement (SQLAlchemy batches them into
    multi-row VALUES), so the statement compiles once, not once per batch.
    """
    if not rows:
        return 0, 0
    upsert = _upsert_statement(table, list(rows[0]), conflict, where)
    inserted = (await session.scalars(upsert, rows)).all()
    created = sum(1 for flag in inserted if flag)
    return created, len(inserted) - created


async def upsert_residents(session: AsyncSession, rows: list[dict[str, Any]]) -> tuple[int, int]:
    return await _upsert(session, residents, rows, conflict=["id_hmac"])


async def upsert_housing(session: AsyncSession, rows: list[dict[str, Any]]) -> tuple[int, int]:
    return await _upsert(session, housing, rows, conflict=["address"])


async def attach_credit_codes(session: AsyncSession, codes: Sequence[tuple[str, str, str]]) -> None:
    """Give organisations registered by name alone the credit code a later row brings.

    Without this, an organisation first registered without its code and later with
    it would be stored twice: the two natural keys would never meet.
    """
    if not codes:
        return
    names, cells, uscc = (list(column) for column in zip(*codes, strict=True))
    await session.execute(
        text(
            """
            UPDATE organisations AS o SET uscc = v.uscc, updated_at = now()
            FROM unnest(CAST(:names AS text[]), CAST(:cells AS text[]), CAST(:uscc AS text[]))
                 AS v(name, cell_id, uscc)
            WHERE o.uscc IS NULL AND o.name = v.name AND o.cell_id = v.cell_id
              AND NOT EXISTS (SELECT 1 FROM organisations x WHERE x.uscc = v.uscc)
            """
        ),
        {"names": names, "cells": cells, "uscc": uscc},
    )


async def upsert_organisations(
    session: AsyncSession, rows: list[dict[str, Any]]
) -> tuple[int, int]:
    coded = [r for r in rows if r["uscc"] is not None]
    named = [r for r in rows if r["uscc"] is None]
    c1, u1 = await _upsert(session, organisations, coded, conflict=["uscc"])
    c2, u2 = await _upsert(
        session,
        organisations,
        named,
        conflict=["name", "cell_id"],
        where=organisations.c.uscc.is_(None),
    )
    return c1 + c2, u1 + u2


# --- reads ------------------------------------------------------------------------


async def _one(session: AsyncSession, columns: Sequence[Any], where: Any) -> dict[str, Any] | None:
    row = (await session.execute(select(*columns).where(where))).first()
    return _row(row) if row else None


async def _page(
    session: AsyncSession,
    table: Table,
    columns: Sequence[Any],
    *,
    cell_id: str | None,
    limit: int,
    offset: int,
) -> Listing:
    where = [table.c.cell_id == cell_id] if cell_id else []
    total = await session.scalar(select(func.count()).select_from(table).where(*where))
    rows = await session.execute(
        select(*columns).where(*where).order_by(table.c.id).limit(limit).offset(offset)
    )
    return [_row(r) for r in rows], int(total or 0)


async def get_resident(session: AsyncSession, resident_id: str) -> dict[str, Any] | None:
    return await _one(session, _RESIDENT_COLUMNS, residents.c.id == resident_id)


async def resident_by_pseudonym(session: AsyncSession, id_hmac: bytes) -> dict[str, Any] | None:
    return await _one(session, _RESIDENT_COLUMNS, residents.c.id_hmac == id_hmac)


async def resident_secrets(session: AsyncSession, resident_id: str) -> dict[str, Any] | None:
    """The pseudonym and the sealed values of one resident (the identity use case only)."""
    row = (
        await session.execute(
            select(
                residents.c.id,
                residents.c.id_hmac,
                residents.c.id_ciphertext,
                residents.c.name_ciphertext,
                residents.c.phone_ciphertext,
            ).where(residents.c.id == resident_id)
        )
    ).first()
    return dict(row._mapping) if row else None


async def list_residents(
    session: AsyncSession, *, cell_id: str | None, limit: int, offset: int
) -> Listing:
    return await _page(
        session, residents, _RESIDENT_COLUMNS, cell_id=cell_id, limit=limit, offset=offset
    )


async def get_housing(session: AsyncSession, housing_id: str) -> dict[str, Any] | None:
    return await _one(session, _HOUSING_COLUMNS, housing.c.id == housing_id)


async def housing_by_address(session: AsyncSession, address: str) -> dict[str, Any] | None:
    return await _one(session, _HOUSING_COLUMNS, housing.c.address == address)


async def list_housing(
    session: AsyncSession, *, cell_id: str | None, limit: int, offset: int
) -> Listing:
    return await _page(
        session, housing, _HOUSING_COLUMNS, cell_id=cell_id, limit=limit, offset=offset
    )


async def get_organisation(session: AsyncSession, organisation_id: str) -> dict[str, Any] | None:
    return await _one(session, _ORGANISATION_COLUMNS, organisations.c.id == organisation_id)


async def organisation_by_key(
    session: AsyncSession, *, uscc: str | None, name: str, cell_id: str
) -> dict[str, Any] | None:
    if uscc is not None:
        return await _one(session, _ORGANISATION_COLUMNS, organisations.c.uscc == uscc)
    return await _one(
        session,
        _ORGANISATION_COLUMNS,
        (organisations.c.name == name)
        & (organisations.c.cell_id == cell_id)
        & organisations.c.uscc.is_(None),
    )


async def list_organisations(
    session: AsyncSession, *, cell_id: str | None, limit: int, offset: int
) -> Listing:
    return await _page(
        session,
        organisations,
        _ORGANISATION_COLUMNS,
        cell_id=cell_id,
        limit=limit,
        offset=offset,
    )


# --- audit ------------------------------------------------------------------------


async def record_pii_access(
    session: AsyncSession,
    *,
    subject: str,
    roles: str,
    action: str,
    resident_id: str | None,
    trace_id: str | None,
) -> None:
    await session.execute(
        insert(pii_access_audit).values(
            subject=subject[:128],
            roles=roles[:256],
            action=action,
            resident_id=resident_id,
            trace_id=trace_id,
        )
    )


async def list_pii_access(
    session: AsyncSession, *, resident_id: str | None, limit: int, offset: int
) -> Listing:
    where = [pii_access_audit.c.resident_id == resident_id] if resident_id else []
    total = await session.scalar(select(func.count()).select_from(pii_access_audit).where(*where))
    rows = await session.execute(
        select(pii_access_audit)
        .where(*where)
        .order_by(pii_access_audit.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total or 0)
