"""SQL for the administrative hierarchy: validity checks, upserts, GeoJSON export."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from grid_events.domain.hierarchy import AreaFeature


async def levels_of(session: AsyncSession, ids: Collection[str]) -> dict[str, str]:
    """The level of each stored area among ``ids``."""
    if not ids:
        return {}
    rows = await session.execute(
        text("SELECT id, level FROM grid_cells WHERE id = ANY(:ids)"), {"ids": list(ids)}
    )
    return {r.id: r.level for r in rows}


async def geometry_defects(session: AsyncSession, geometries: Sequence[str]) -> list[str | None]:
    """ST_IsValidReason of each GeoJSON geometry text, None where it is valid.

    One round trip for the whole file; a geometry PostGIS cannot even parse (which
    the shape check should have caught) reads as its parse error.
    """
    if not geometries:
        return []
    rows = await session.execute(
        text(
            """
            SELECT ord, ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason
            FROM unnest(CAST(:docs AS text[])) WITH ORDINALITY AS d(doc, ord)
            CROSS JOIN LATERAL (
                SELECT ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON(d.doc)), 4326) AS g
            ) AS x
            ORDER BY ord
            """
        ),
        {"docs": list(geometries)},
    )
    return [None if r.valid else str(r.reason) for r in rows]


async def upsert_area(session: AsyncSession, feature: AreaFeature) -> str:
    """Insert or update one area; answers created, updated or unchanged.

    Unchanged is decided in SQL (the geometry compared as EWKB), so re-importing
    the same file writes nothing.
    """
    row = (
        await session.execute(
            text(
                """
                WITH incoming AS (
                    SELECT ST_Multi(
                        ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON(:geometry)), 4326)
                    ) AS geom
                ),
                current AS (
                    SELECT g.name, g.level, g.parent_id, g.geom FROM grid_cells g WHERE g.id = :id
                ),
                upserted AS (
                    INSERT INTO grid_cells (id, name, level, parent_id, geom)
                    SELECT :id, :name, :level, :parent_id, incoming.geom FROM incoming
                    ON CONFLICT (id) DO UPDATE
                    SET name = EXCLUDED.name, level = EXCLUDED.level,
                        parent_id = EXCLUDED.parent_id, geom = EXCLUDED.geom
                    WHERE (grid_cells.name, grid_cells.level, grid_cells.parent_id,
                           ST_AsEWKB(grid_cells.geom))
                          IS DISTINCT FROM
                          (EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent_id,
                           ST_AsEWKB(EXCLUDED.geom))
                    RETURNING 1
                )
                SELECT
                    (SELECT count(*) FROM current) AS existed,
                    (SELECT count(*) FROM upserted) AS written
                """
            ),
            {
                "id": feature.id,
                "name": feature.name,
                "level": feature.level.value,
                "parent_id": feature.parent_id,
                "geometry": json.dumps(feature.geometry),
            },
        )
    ).one()
    if not row.existed:
        return "created"
    return "updated" if row.written else "unchanged"


async def children_levels(session: AsyncSession, area_id: str) -> set[str]:
    rows = await session.execute(
        text("SELECT DISTINCT level FROM grid_cells WHERE parent_id = :id"), {"id": area_id}
    )
    return {r.level for r in rows}


_AREA_FIELDS = """
    g.id, g.name, g.level, g.parent_id,
    (SELECT count(*) FROM grid_cells c WHERE c.parent_id = g.id) AS children
"""


async def get_area(session: AsyncSession, area_id: str) -> dict[str, Any] | None:
    row = (
        await session.execute(
            text(
                f"""
                SELECT {_AREA_FIELDS},
                       ST_AsGeoJSON(g.geom, 7)::json AS geometry,
                       ST_Area(g.geom::geography) AS area_m2,
                       ST_AsGeoJSON(ST_Envelope(g.geom))::json -> 'coordinates' AS envelope
                FROM grid_cells g WHERE g.id = :id
                """  # noqa: S608 - a constant column list, values bound
            ),
            {"id": area_id},
        )
    ).first()
    if row is None:
        return None
    data = dict(row._mapping)
    ring = data.pop("envelope")[0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    data["bbox"] = [min(lons), min(lats), max(lons), max(lats)]
    return data


def _area_filter(level: str | None, parent_id: str | None) -> tuple[str, dict[str, Any]]:
    conditions: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if level is not None:
        conditions.append("g.level = :level")
        params["level"] = level
    if parent_id is not None:
        conditions.append("g.parent_id = :parent_id")
        params["parent_id"] = parent_id
    return " AND ".join(conditions), params


async def list_areas(
    session: AsyncSession, *, level: str | None, parent_id: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    where, params = _area_filter(level, parent_id)
    total = await session.scalar(
        text(f"SELECT count(*) FROM grid_cells g WHERE {where}"),  # noqa: S608 - fixed fragments
        params,
    )
    rows = await session.execute(
        text(
            f"SELECT {_AREA_FIELDS} FROM grid_cells g WHERE {where} "  # noqa: S608
            "ORDER BY g.id LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit, "offset": offset},
    )
    return [dict(r._mapping) for r in rows], int(total or 0)


async def export_areas(session: AsyncSession, *, level: str | None, parent_id: str | None) -> str:
    """The matching areas as one GeoJSON FeatureCollection, built by PostgreSQL.

    The output is the import's input: importing it elsewhere rebuilds the hierarchy.
    """
    where, params = _area_filter(level, parent_id)
    document = await session.scalar(
        text(
            f"""
            SELECT json_build_object(
                'type', 'FeatureCollection',
                'features', coalesce(json_agg(json_build_object(
                    'type', 'Feature',
                    'id', g.id,
                    'geometry', ST_AsGeoJSON(g.geom, 7)::json,
                    'properties', json_build_object(
                        'id', g.id, 'name', g.name, 'level', g.level, 'parent_id', g.parent_id
                    )
                -- Parents before children, so that the file imports in one pass.
                ) ORDER BY array_position(
                    ARRAY['district', 'town', 'village', 'cell']::text[], g.level::text
                ), g.id), '[]'::json)
            )::text
            FROM grid_cells g WHERE {where}
            """  # noqa: S608 - fixed fragments, values bound
        ),
        params,
    )
    return str(document)
