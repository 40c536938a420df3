"""SQL for the command centre's views: the case map and the statistics.

Both are one statement each, and PostgreSQL builds the JSON: at 100,000 cases
the map's FeatureCollection comes out of ``json_agg`` as one text value, which
the route sends as it is (no rows turned into Python objects and back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from grid_events.domain.model import FINISHED
from grid_events.domain.stats import BBox, GroupBy, Period

# The district's own time zone for day/week/month buckets: China Standard Time,
# UTC+8 all year, as domain.model.CHINA_STANDARD_TIME.
_TZ = "Asia/Shanghai"

# The area's subtree through the parent chain (cells nest by parent_id).
_SUBTREE = """
    WITH RECURSIVE subtree(id) AS (
        SELECT id FROM grid_cells WHERE id = :area
        UNION
        SELECT g.id FROM grid_cells g JOIN subtree s ON g.parent_id = s.id
    )
"""


@dataclass(frozen=True, slots=True)
class CaseFilter:
    categories: Sequence[str] = ()
    statuses: Sequence[str] = ()
    area: str | None = None
    bbox: BBox | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        """SQL conditions on ``c`` (cases) and their bound values."""
        conditions: list[str] = ["TRUE"]
        params: dict[str, Any] = {}
        if self.categories:
            conditions.append("c.category = ANY(:categories)")
            params["categories"] = list(self.categories)
        if self.statuses:
            conditions.append("c.status = ANY(:statuses)")
            params["statuses"] = list(self.statuses)
        if self.area is not None:
            # As an array computed once (an InitPlan), the subtree's ids become an
            # index condition on ix_cases_cell_opened; as IN (subquery) the planner
            # guesses hundreds of cells and hash-joins every open case instead.
            conditions.append("c.cell_id = ANY(ARRAY(SELECT id FROM subtree))")
            params["area"] = self.area
        if self.bbox is not None:
            # && uses the GiST index on location; the box is in the same SRID.
            conditions.append("c.location && ST_MakeEnvelope(:west, :south, :east, :north, 4326)")
            params.update(
                west=self.bbox.west,
                south=self.bbox.south,
                east=self.bbox.east,
                north=self.bbox.north,
            )
        if self.opened_from is not None:
            conditions.append("c.opened_at >= :opened_from")
            params["opened_from"] = self.opened_from
        if self.opened_to is not None:
            conditions.append("c.opened_at < :opened_to")
            params["opened_to"] = self.opened_to
        return " AND ".join(conditions), params

    @property
    def prefix(self) -> str:
        return _SUBTREE if self.area is not None else ""


async def _custom_plans(session: AsyncSession) -> None:
    """Plan the next statements for their actual values, in this transaction only.

    asyncpg prepares every statement, and after five runs PostgreSQL may keep a
    generic plan: one that cannot tell a rare category or a single cell from every
    open case, and walks the whole opened_at index for either (measured: 3-8x slower
    in bench/grid/map_bench.py). Planning takes about a millisecond.
    """
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def area_exists(session: AsyncSession, area_id: str) -> bool:
    found = await session.scalar(text("SELECT 1 FROM grid_cells WHERE id = :id"), {"id": area_id})
    return found is not None


async def map_cases(
    session: AsyncSession, selection: CaseFilter, *, limit: int, now: datetime
) -> str:
    """The matching cases as a GeoJSON FeatureCollection (text), newest first.

    ``limit + 1`` rows are read so the answer can say whether the limit cut it.
    """
    where, params = selection.where()
    await _custom_plans(session)
    statement = text(
        f"""
        {selection.prefix}
        {"," if selection.prefix else "WITH"} hits AS (
            SELECT c.id, c.category, c.status, c.priority, c.cell_id, c.opened_at,
                   c.due_at, c.location,
                   (c.due_at < :now AND c.closed_at IS NULL
                    AND c.status <> ALL(:finished)) AS overdue,
                   row_number() OVER (ORDER BY c.opened_at DESC, c.id) AS n
            FROM cases c
            WHERE {where}
            ORDER BY c.opened_at DESC, c.id
            LIMIT :limit_plus_one
        )
        SELECT json_build_object(
            'type', 'FeatureCollection',
            'features', coalesce(json_agg(json_build_object(
                'type', 'Feature',
                'id', h.id,
                -- Built from the coordinates: ST_AsGeoJSON's text parsed back
                -- into json costs twice as much per feature.
                'geometry', json_build_object(
                    'type', 'Point',
                    'coordinates', json_build_array(ST_X(h.location), ST_Y(h.location))
                ),
                'properties', json_build_object(
                    'id', h.id, 'category', h.category, 'status', h.status,
                    'priority', h.priority, 'cell_id', h.cell_id,
                    'opened_at', h.opened_at, 'due_at', h.due_at, 'overdue', h.overdue
                )
            ) ORDER BY h.n) FILTER (WHERE h.n <= :limit), '[]'::json),
            'limit', CAST(:limit AS integer),
            'truncated', count(*) > :limit
        )::text
        FROM hits h
        """  # noqa: S608 - fixed fragments, every value bound
    )
    document = await session.scalar(
        statement,
        {
            **params,
            "limit": limit,
            "limit_plus_one": limit + 1,
            "now": now,
            "finished": sorted(FINISHED),
        },
    )
    return str(document)


def _group_key(group_by: GroupBy, period: Period) -> str:
    if group_by is GroupBy.CATEGORY:
        return "c.category"
    if group_by is GroupBy.STATUS:
        return "c.status"
    if group_by is GroupBy.AREA:
        return "coalesce(a.area_id, '(none)')"
    # date_trunc's unit is one of three fixed words, never the caller's text.
    unit = {Period.DAY: "day", Period.WEEK: "week", Period.MONTH: "month"}[period]
    return f"to_char(date_trunc('{unit}', c.opened_at AT TIME ZONE '{_TZ}'), 'YYYY-MM-DD')"


# Each case's ancestor at the requested level (itself when its cell is that level).
_ANCESTOR = """
    WITH RECURSIVE chain(cell_id, id, level, parent_id) AS (
        SELECT g.id, g.id, g.level, g.parent_id FROM grid_cells g
        UNION ALL
        SELECT ch.cell_id, p.id, p.level, p.parent_id
        FROM chain ch JOIN grid_cells p ON p.id = ch.parent_id
        WHERE ch.level <> :area_level
    ),
    ancestor AS (
        SELECT cell_id, id AS area_id FROM chain WHERE level = :area_level
    )
"""


async def case_stats(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    period: Period,
    area_level: str,
    area: str | None,
) -> list[dict[str, Any]]:
    """Per group: cases opened in [start, end), how many closed, how many of those in
    time, and the median hours from opening to closing."""
    selection = CaseFilter(area=area, opened_from=start, opened_to=end)
    where, params = selection.where()
    key = _group_key(group_by, period)
    prefixes = []
    if group_by is GroupBy.AREA:
        prefixes.append(_ANCESTOR.strip().removeprefix("WITH RECURSIVE"))
        params["area_level"] = area_level
    if area is not None:
        prefixes.append(_SUBTREE.strip().removeprefix("WITH RECURSIVE"))
    head = "WITH RECURSIVE " + ",".join(prefixes) if prefixes else ""
    join = "LEFT JOIN ancestor a ON a.cell_id = c.cell_id" if group_by is GroupBy.AREA else ""
    await _custom_plans(session)
    rows = await session.execute(
        text(
            f"""
            {head}
            SELECT {key} AS key,
                   count(*) AS cases,
                   count(c.closed_at) AS closed,
                   count(*) FILTER (WHERE c.closed_at IS NOT NULL AND c.due_at IS NOT NULL)
                       AS closed_with_due,
                   count(*) FILTER (WHERE c.closed_at <= c.due_at) AS closed_within_due,
                   percentile_cont(0.5) WITHIN GROUP (
                       ORDER BY extract(epoch FROM c.closed_at - c.opened_at)
                   ) FILTER (WHERE c.closed_at IS NOT NULL) AS median_close_s
            FROM cases c {join}
            WHERE {where}
            GROUP BY 1
            ORDER BY 1
            """  # noqa: S608 - fixed fragments, every value bound
        ),
        params,
    )
    return [dict(r._mapping) for r in rows]


async def case_totals(
    session: AsyncSession, *, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """The seed's kind of figures over cases opened in [start, end)."""
    where, params = CaseFilter(opened_from=start, opened_to=end).where()
    row = (
        await session.execute(
            text(
                f"""
                SELECT count(*) AS cases,
                       coalesce(sum(c.report_count), 0) AS reports,
                       count(c.closed_at) AS closed,
                       count(*) FILTER (WHERE c.closed_at IS NOT NULL AND c.due_at IS NOT NULL)
                           AS closed_with_due,
                       count(*) FILTER (WHERE c.closed_at <= c.due_at) AS closed_within_due,
                       percentile_cont(0.5) WITHIN GROUP (
                           ORDER BY extract(epoch FROM c.closed_at - c.opened_at)
                       ) FILTER (WHERE c.closed_at IS NOT NULL) AS median_close_s
                FROM cases c WHERE {where}
                """  # noqa: S608 - fixed fragments, every value bound
            ),
            params,
        )
    ).one()
    return dict(row._mapping)


async def dispute_totals(
    session: AsyncSession, *, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    conditions: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if start is not None:
        conditions.append("d.registered_at >= :start")
        params["start"] = start
    if end is not None:
        conditions.append("d.registered_at < :end")
        params["end"] = end
    row = (
        await session.execute(
            text(
                f"""
                SELECT count(*) AS registered,
                       count(*) FILTER (WHERE d.outcome = 'agreement') AS resolved,
                       count(*) FILTER (WHERE d.outcome = 'referral') AS referred,
                       count(*) FILTER (WHERE d.outcome IS NULL) AS pending,
                       count(d.closed_at) AS closed
                FROM disputes d WHERE {" AND ".join(conditions)}
                """  # noqa: S608 - fixed fragments, every value bound
            ),
            params,
        )
    ).one()
    return dict(row._mapping)
