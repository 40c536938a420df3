"""Incident clearing and grid-case following, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from city_common.events.schemas import GridCaseSource
from traffic_signal.domain.model import (
    IncidentAlreadyCleared,
    IncidentStatus,
    clear,
    incident_of_case,
    is_newer_case_state,
)


def test_an_active_incident_clears() -> None:
    assert clear(IncidentStatus.ACTIVE) is IncidentStatus.CLEARED


def test_a_cleared_incident_cannot_clear_again() -> None:
    with pytest.raises(IncidentAlreadyCleared):
        clear(IncidentStatus.CLEARED)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("traffic_incident", "ti-1"),
        ("fire_alarm", None),
        ("camera", None),
        ("exceedance", None),
        ("citizen", None),
        ("grid_worker", None),
    ],
)
def test_only_cases_raised_by_traffic_incidents_are_followed(
    kind: str, expected: str | None
) -> None:
    assert incident_of_case(GridCaseSource(kind=kind, ref="ti-1")) == expected  # type: ignore[arg-type]


def test_the_later_case_state_wins() -> None:
    now = datetime.now(UTC)
    assert is_newer_case_state(None, now)
    assert is_newer_case_state(now, now)
    assert is_newer_case_state(now - timedelta(seconds=1), now)
    assert not is_newer_case_state(now, now - timedelta(seconds=1))
