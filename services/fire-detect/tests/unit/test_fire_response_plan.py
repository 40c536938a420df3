"""The response plan's rules, what is shown as near a fire, and the KPIs, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fire_detect.domain.model import ForestResourceKind as K
from fire_detect.domain.response import (
    NearbyResource,
    aggregate_kpis,
    alarm_kpis,
    decided_shares,
    first_reached,
    percentile,
    response_plan,
    surroundings,
)


def r(
    ident: str, kind: K, metres: float, subtype: str | None = None, inside: bool = False
) -> NearbyResource:
    return NearbyResource(ident, kind, ident.title(), metres, subtype, inside)


STATIONS = [r(f"st-{i}", K.RANGER_STATION, 2_000.0 * i) for i in range(1, 6)]


@pytest.mark.parametrize(("level", "teams"), [(1, 1), (2, 1), (3, 2), (4, 3), (5, 4)])
def test_more_teams_at_higher_danger_nearest_first(level: int, teams: int) -> None:
    plan = response_plan(level, list(reversed(STATIONS)))
    assert [t.station_id for t in plan.teams] == [f"st-{i}" for i in range(1, teams + 1)]
    assert plan.teams[0].task == "first attack"
    assert "R1" in plan.rules_applied


def test_a_station_beyond_reach_is_not_sent_and_the_brigade_is_asked() -> None:
    plan = response_plan(3, [r("st-far", K.RANGER_STATION, 45_000.0)])
    assert plan.teams == ()
    assert "county_fire_brigade" in {n.role for n in plan.notify}
    assert "R1b" in plan.rules_applied and "R1" not in plan.rules_applied


def test_the_duty_ranger_is_always_told() -> None:
    plan = response_plan(1, [])
    assert {"duty_ranger", "township_forestry_station"} <= {n.role for n in plan.notify}
    assert plan.water_sources == () and plan.access_roads == ()


@pytest.mark.parametrize(
    ("level", "metres", "action"),
    [
        (3, 900.0, "evacuate"),
        (3, 1_500.0, "prepare_evacuation"),
        (4, 1_500.0, "evacuate"),
        (3, 4_900.0, "prepare_evacuation"),
        (3, 6_000.0, None),
        (5, 7_000.0, "prepare_evacuation"),
        (5, 9_000.0, None),
    ],
)
def test_villages_near_the_fire_are_warned_or_evacuated(
    level: int, metres: float, action: str | None
) -> None:
    for village in (r("v", K.VILLAGE, metres), r("v", K.HAZARD, metres, "village")):
        plan = response_plan(level, [village])
        codes = [a.code for a in plan.actions if a.resource_id == "v"]
        assert codes == ([action] if action else [])
        heads = [n for n in plan.notify if n.role == "village_head"]
        assert len(heads) == (1 if action else 0)
        assert plan.evacuates is (action == "evacuate")


def test_hazards_bring_in_their_owners_within_their_distances() -> None:
    near = [
        r("depot", K.HAZARD, 4_000.0, "fuel_depot"),
        r("line", K.HAZARD, 1_500.0, "power_line"),
        r("quarry", K.HAZARD, 2_500.0, "quarry"),
    ]
    plan = response_plan(2, near)
    roles = {(n.role, n.resource_id) for n in plan.notify}
    assert {
        ("fuel_depot_operator", "depot"),
        ("power_company", "line"),
        ("hazard_owner", "quarry"),
    } <= roles
    assert {"protect_fuel_depot", "de_energise_line"} <= {a.code for a in plan.actions}
    far = [
        r("depot", K.HAZARD, 6_000.0, "fuel_depot"),
        r("line", K.HAZARD, 2_500.0, "power_line"),
        r("quarry", K.HAZARD, 3_500.0, "quarry"),
    ]
    plan = response_plan(2, far)
    assert not {"fuel_depot_operator", "power_company", "hazard_owner"} & {
        n.role for n in plan.notify
    }


def test_high_danger_calls_the_county_and_extreme_the_city() -> None:
    roles = {lvl: {n.role for n in response_plan(lvl, []).notify} for lvl in (3, 4, 5)}
    assert "county_fire_command" not in roles[3]
    assert "county_fire_command" in roles[4] and "municipal_emergency_bureau" not in roles[4]
    assert {"county_fire_command", "municipal_emergency_bureau"} <= roles[5]
    codes = {a.code for a in response_plan(5, []).actions}
    assert {"standby_neighbours", "request_aerial_support"} <= codes


def test_water_and_roads_to_use_are_the_near_ones_else_the_nearest() -> None:
    near = [
        r("pond", K.WATER_SOURCE, 800.0),
        r("dam", K.WATER_SOURCE, 4_000.0),
        r("tank", K.WATER_SOURCE, 4_500.0),
        r("road", K.ROAD_ACCESS, 9_000.0),
        r("track", K.ROAD_ACCESS, 12_000.0),
    ]
    plan = response_plan(3, near)
    assert [w["id"] for w in plan.water_sources] == ["pond", "dam"]
    # No road within reach: the nearest one all the same.
    assert [w["id"] for w in plan.access_roads] == ["road"]
    assert plan.water_sources[0]["distance_m"] == 800.0


def test_plan_is_plain_json() -> None:
    plan = response_plan(4, [*STATIONS, r("v", K.VILLAGE, 500.0)]).as_json()
    assert plan["danger_level"] == 4 and len(plan["teams"]) == 3
    assert plan["teams"][0] == {
        "station_id": "st-1",
        "name": "St-1",
        "distance_m": 2000.0,
        "task": "first attack",
    }
    assert plan["rules_applied"] == ["R0", "R1", "R2", "R6"]


def test_a_danger_level_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="1-5"):
        response_plan(6, [])


def test_surroundings_show_the_nearest_of_each_kind_and_the_compartment() -> None:
    shown = surroundings(
        [
            r("ws-2", K.WATER_SOURCE, 900.0),
            r("ws-1", K.WATER_SOURCE, 300.0),
            r("cp-out", K.FOREST_COMPARTMENT, 50.0),
            r("cp-in", K.FOREST_COMPARTMENT, 0.0, inside=True),
            r("depot", K.HAZARD, 2_000.0, "fuel_depot"),
        ]
    )
    assert set(shown["nearest"]) == {"water_source", "forest_compartment", "hazard"}
    assert shown["nearest"]["water_source"]["id"] == "ws-1"
    assert shown["nearest"]["hazard"]["subtype"] == "fuel_depot"
    assert shown["compartment"]["id"] == "cp-in"
    assert surroundings([r("cp", K.FOREST_COMPARTMENT, 10.0)])["compartment"] is None


# --- KPIs ---------------------------------------------------------------------

T0 = datetime(2026, 4, 3, 15, 2, tzinfo=UTC)


def test_kpis_of_one_alarm_from_its_timeline() -> None:
    # The seed's real case: alarm 15:02, first team on scene 16:00, out 16:30.
    timeline = [
        {"status": "raised", "at": T0},
        {"status": "verified", "at": T0 + timedelta(minutes=4)},
        {"status": "dispatched", "at": T0 + timedelta(minutes=6)},
        {"status": "on_scene", "at": T0 + timedelta(minutes=58)},
        {"status": "extinguished", "at": T0 + timedelta(minutes=88)},
    ]
    kpis = alarm_kpis(T0, first_reached(timeline))
    assert kpis == {
        "alarm_to_verification_s": 240.0,
        "alarm_to_arrival_s": 3480.0,
        "alarm_to_extinguished_s": 5280.0,
    }
    half_way = alarm_kpis(
        T0, first_reached(timeline[:2]), first_detected_at=T0 - timedelta(seconds=7)
    )
    assert half_way["alarm_to_arrival_s"] is None and half_way["detection_to_alarm_s"] == 7.0


def test_percentiles_interpolate_like_percentile_cont() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert percentile(values, 0.5) == 30.0
    assert percentile(values, 0.9) == pytest.approx(46.0)
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_aggregate_counts_only_alarms_that_got_there() -> None:
    per_alarm = [
        {"alarm_to_verification_s": 60.0, "alarm_to_arrival_s": 600.0},
        {"alarm_to_verification_s": 120.0, "alarm_to_arrival_s": None},
        {"alarm_to_verification_s": None, "alarm_to_arrival_s": None},
    ]
    stats = aggregate_kpis(per_alarm)
    assert stats["alarm_to_verification_s"] == {"count": 2, "median": 90.0, "p90": 114.0}
    assert stats["alarm_to_arrival_s"] == {"count": 1, "median": 600.0, "p90": 600.0}
    assert stats["alarm_to_extinguished_s"] == {"count": 0, "median": None, "p90": None}
    assert decided_shares(3, 1) == {"verified": 0.75, "dismissed": 0.25}
    assert decided_shares(0, 0) == {"verified": None, "dismissed": None}
