"""Command-centre views: the map's filters and the statistics' grouping. Pure, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from grid_events.domain.model import FINISHED


class CaseStatus(StrEnum):
    """Every status a case can be in (the workflow's lifecycle).

    ``opened`` is the name cases had before the lifecycle named it ``reported``;
    filters accept both so that stored cases stay findable.
    """

    REPORTED = "reported"
    OPENED = "opened"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


# The map shows these when no status is asked for: the cases still being worked.
OPEN_STATUSES: tuple[str, ...] = tuple(s.value for s in CaseStatus if s.value not in FINISHED)


class GroupBy(StrEnum):
    CATEGORY = "category"
    AREA = "area"
    STATUS = "status"
    PERIOD = "period"


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# The map answers at most this many features: beyond it a browser map struggles, and
# the command centre narrows the filter (the answer says when it was cut).
MAP_LIMIT_DEFAULT = 5_000
MAP_LIMIT_MAX = 20_000
# Statistics over longer spans group by month at least.
STATS_DEFAULT_SPAN = timedelta(days=30)
STATS_MAX_SPAN = timedelta(days=3 * 366)
# A year of days, three years of weeks or months: a chart has no room for more.
MAX_BUCKETS = 400


class FilterError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class BBox:
    west: float
    south: float
    east: float
    north: float


def parse_bbox(raw: str) -> BBox:
    """``west,south,east,north`` in WGS 84 degrees (the order of RFC 7946 §5)."""
    parts = raw.split(",")
    if len(parts) != 4:
        raise FilterError("query.bbox", "four numbers: west,south,east,north")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise FilterError("query.bbox", "four numbers: west,south,east,north") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise FilterError("query.bbox", "coordinates must be finite numbers")
    if not (
        -180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90
    ):
        raise FilterError("query.bbox", "coordinates must lie within WGS 84 bounds")
    if west >= east or south >= north:
        # A box crossing the antimeridian is of no use in Chongqing; refuse it plainly.
        raise FilterError("query.bbox", "west must be less than east and south less than north")
    return BBox(west, south, east, north)


def check_time_range(start: datetime | None, end: datetime | None, field: str) -> None:
    for value, name in ((start, "from"), (end, "to")):
        if value is not None and value.tzinfo is None:
            raise FilterError(
                f"query.{field}{name}", "needs a UTC offset, e.g. 2026-11-23T08:00:00+08:00"
            )
    if start is not None and end is not None and start >= end:
        raise FilterError(f"query.{field}from", f"must be before {field}to")


@dataclass(frozen=True, slots=True)
class StatsWindow:
    start: datetime
    end: datetime


def stats_window(
    start: datetime | None, end: datetime | None, now: datetime, group_by: GroupBy, period: Period
) -> StatsWindow:
    """The span statistics cover: ``to`` defaults to now, ``from`` to 30 days before it."""
    check_time_range(start, end, "")
    stop = end or now
    begin = start or stop - STATS_DEFAULT_SPAN
    if begin >= stop:
        raise FilterError("query.from", "must be before to")
    if stop - begin > STATS_MAX_SPAN:
        raise FilterError("query.to", "the span is at most three years")
    if group_by is GroupBy.PERIOD:
        days = {Period.DAY: 1, Period.WEEK: 7, Period.MONTH: 28}[period]
        if (stop - begin) / timedelta(days=days) > MAX_BUCKETS:
            raise FilterError("query.period", f"more than {MAX_BUCKETS} periods: use a longer one")
    return StatsWindow(begin, stop)


def share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None
