"""The map's and the statistics' filter checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grid_events.domain.model import FINISHED
from grid_events.domain.stats import (
    OPEN_STATUSES,
    FilterError,
    GroupBy,
    Period,
    check_time_range,
    parse_bbox,
    share,
    stats_window,
)

NOW = datetime(2026, 11, 24, 8, tzinfo=UTC)


def test_bbox_is_west_south_east_north() -> None:
    box = parse_bbox("105.8,29.2,106.1,29.5")
    assert (box.west, box.south, box.east, box.north) == (105.8, 29.2, 106.1, 29.5)


@pytest.mark.parametrize(
    "raw", ["105.8,29.2,106.1", "a,b,c,d", "106.1,29.2,105.8,29.5", "0,0,181,1", "nan,0,1,1"]
)
def test_bad_bboxes(raw: str) -> None:
    with pytest.raises(FilterError) as raised:
        parse_bbox(raw)
    assert raised.value.field == "query.bbox"


def test_open_statuses_leave_out_the_finished_ones() -> None:
    assert "dispatched" in OPEN_STATUSES and "reported" in OPEN_STATUSES
    assert not set(OPEN_STATUSES) & FINISHED


def test_time_ranges_need_offsets_and_order() -> None:
    with pytest.raises(FilterError, match="UTC offset"):
        check_time_range(datetime(2026, 1, 1), None, "opened_")
    with pytest.raises(FilterError) as raised:
        check_time_range(NOW, NOW - timedelta(hours=1), "opened_")
    assert raised.value.field == "query.opened_from"


def test_stats_window_defaults_to_the_last_30_days() -> None:
    window = stats_window(None, None, NOW, GroupBy.CATEGORY, Period.DAY)
    assert window.end == NOW and window.end - window.start == timedelta(days=30)


def test_stats_window_limits() -> None:
    with pytest.raises(FilterError):
        stats_window(NOW - timedelta(days=4 * 366), NOW, NOW, GroupBy.CATEGORY, Period.DAY)
    with pytest.raises(FilterError):
        stats_window(NOW - timedelta(days=3 * 366), NOW, NOW, GroupBy.PERIOD, Period.DAY)
    assert stats_window(NOW - timedelta(days=3 * 366), NOW, NOW, GroupBy.PERIOD, Period.WEEK)


def test_share() -> None:
    assert share(1, 3) == 0.3333 and share(0, 0) is None
