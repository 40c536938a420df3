"""Which facility readies for a fire's casualties, when it stands down, who is recorded."""

from __future__ import annotations

import pytest

from city_common.events.schemas import FireAlarmStatus
from health_record.domain.model import (
    READINESS_RADIUS_M,
    Accessor,
    Candidate,
    receiving_facility,
    stands_down,
)


def test_the_nearest_facility_with_an_emergency_bed_is_chosen() -> None:
    kiosk = Candidate("songji-kiosk", emergency_beds=0, distance_m=800)
    county = Candidate("yc-tcm", emergency_beds=20, distance_m=15_700)
    tertiary = Candidate("cq-ych", emergency_beds=40, distance_m=14_100)
    assert receiving_facility([kiosk, county, tertiary]) == tertiary


def test_no_facility_beyond_30_km() -> None:
    assert READINESS_RADIUS_M == 30_000
    at_edge = Candidate("edge", emergency_beds=5, distance_m=30_000)
    beyond = Candidate("beyond", emergency_beds=50, distance_m=30_000.5)
    assert receiving_facility([beyond]) is None
    assert receiving_facility([beyond, at_edge]) == at_edge


def test_no_facility_without_beds_or_candidates() -> None:
    assert receiving_facility([]) is None
    assert receiving_facility([Candidate("kiosk", emergency_beds=0, distance_m=10)]) is None


def test_equally_near_facilities_prefer_more_beds_then_id() -> None:
    a = Candidate("b-hospital", emergency_beds=10, distance_m=5_000)
    b = Candidate("a-hospital", emergency_beds=10, distance_m=5_000)
    c = Candidate("c-hospital", emergency_beds=30, distance_m=5_000)
    assert receiving_facility([a, b]) == b
    assert receiving_facility([b, a]) == b
    assert receiving_facility([a, b, c]) == c


@pytest.mark.parametrize(
    ("status", "releases"),
    [
        (FireAlarmStatus.RAISED, False),
        (FireAlarmStatus.VERIFIED, False),
        (FireAlarmStatus.DISPATCHED, False),
        (FireAlarmStatus.ON_SCENE, False),
        (FireAlarmStatus.EXTINGUISHED, True),
        (FireAlarmStatus.DISMISSED, True),
        (FireAlarmStatus.CLOSED, True),
    ],
)
def test_which_alarm_states_stand_the_facility_down(
    status: FireAlarmStatus, releases: bool
) -> None:
    assert stands_down(status) is releases


def test_an_accessors_roles_read_the_same_whatever_their_order() -> None:
    one = Accessor.of("dr-li", frozenset({"operator", "doctor"}), "a" * 32)
    other = Accessor.of("dr-li", ["doctor", "operator", "doctor"], "a" * 32)
    assert one == other and one.roles == ("doctor", "operator")
