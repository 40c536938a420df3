"""The limits of GB 3095 and GB 3838 and the exceedance decision."""

from __future__ import annotations

import typing

import pytest

from air_water.domain.standards import (
    AIR_POLLUTANTS,
    DEFAULT_AIR_STANDARD,
    WATER_INDICATORS,
    AirStandard,
    Averaging,
    Breach,
    Medium,
    assess,
    canonical_unit,
    limit_for,
    measured_in,
)
from air_water.entrypoints.api import Pollutant

AIR = Medium.AIR
WATER = Medium.WATER
DAILY = Averaging.DAILY
HOURLY = Averaging.HOURLY


def test_default_standard_is_the_2026_transition() -> None:
    assert DEFAULT_AIR_STANDARD is AirStandard.GB3095_2026_TRANSITION


# The grade II 24-hour column of the reference table, edition by edition.
@pytest.mark.parametrize(
    ("pollutant", "y2012", "transition", "final"),
    [
        ("so2", 150, 150, 50),
        ("no2", 80, 80, 50),
        ("pm10", 150, 120, 100),
        ("pm2_5", 75, 60, 50),
        ("co", 4, 4, 4),
        ("o3", 160, 160, 160),
    ],
)
def test_daily_limits_match_the_table(
    pollutant: str, y2012: float, transition: float, final: float
) -> None:
    for standard, expected in (
        (AirStandard.GB3095_2012, y2012),
        (AirStandard.GB3095_2026_TRANSITION, transition),
        (AirStandard.GB3095_2026, final),
    ):
        limit = limit_for(AIR, pollutant, DAILY, standard=standard)
        assert limit is not None and limit.high == expected, (pollutant, standard)


@pytest.mark.parametrize(
    ("pollutant", "limit"), [("o3", 200), ("so2", 500), ("no2", 200), ("co", 10)]
)
def test_hourly_limits_match_the_2012_table(pollutant: str, limit: float) -> None:
    for standard in AirStandard:
        found = limit_for(AIR, pollutant, HOURLY, standard=standard)
        assert found is not None and found.high == limit


def test_pm25_daily_75_under_2012_and_60_under_the_transition() -> None:
    assert assess(AIR, "pm2_5", DAILY, 70, standard=AirStandard.GB3095_2012) is None
    assert assess(AIR, "pm2_5", DAILY, 70) == Breach(60, "GB3095-2026-transition")
    assert assess(AIR, "pm2_5", DAILY, 76, standard=AirStandard.GB3095_2012) == Breach(
        75, "GB3095-2012"
    )


@pytest.mark.parametrize("standard", list(AirStandard))
@pytest.mark.parametrize("pollutant", sorted(AIR_POLLUTANTS))
def test_exactly_the_daily_limit_is_not_an_exceedance(
    pollutant: str, standard: AirStandard
) -> None:
    limit = limit_for(AIR, pollutant, DAILY, standard=standard)
    assert limit is not None and limit.high is not None
    assert assess(AIR, pollutant, DAILY, limit.high, standard=standard) is None
    above = assess(AIR, pollutant, DAILY, limit.high + 0.001, standard=standard)
    assert above is not None and above.limit == limit.high


def test_hourly_particulates_have_no_limit() -> None:
    assert limit_for(AIR, "pm2_5", HOURLY) is None
    assert assess(AIR, "pm10", HOURLY, 900) is None


def test_hourly_so2_over_500_exceeds() -> None:
    assert assess(AIR, "so2", HOURLY, 500) is None
    assert assess(AIR, "so2", HOURLY, 501) == Breach(500, "GB3095-2026-transition")


@pytest.mark.parametrize(
    ("indicator", "value", "limit"),
    [
        ("cod", 20.5, 20),
        ("nh3_n", 1.2, 1.0),
        ("codmn", 6.1, 6),
        ("bod5", 4.5, 4),
        ("tp", 0.25, 0.2),
        ("tp_lake", 0.06, 0.05),
        ("tn", 1.01, 1.0),
        ("ph", 9.2, 9),
        ("ph", 5.5, 6),
        ("do", 4.9, 5),  # dissolved oxygen is a floor: too little fails
    ],
)
def test_water_judged_against_class_iii(indicator: str, value: float, limit: float) -> None:
    for averaging in Averaging:
        assert assess(WATER, indicator, averaging, value) == Breach(limit, "GB3838-2002 class III")


@pytest.mark.parametrize(
    ("indicator", "value"),
    [("cod", 20), ("nh3_n", 1.0), ("ph", 6), ("ph", 9), ("do", 5), ("do", 9.0), ("tp", 0.2)],
)
def test_water_at_its_class_iii_bound_complies(indicator: str, value: float) -> None:
    assert assess(WATER, indicator, DAILY, value) is None


def test_water_class_selects_the_column() -> None:
    assert assess(WATER, "nh3_n", DAILY, 0.4, water_class="I") == Breach(
        0.15, "GB3838-2002 class I"
    )
    assert assess(WATER, "nh3_n", DAILY, 1.9, water_class="V") is None
    assert assess(WATER, "do", DAILY, 7.0, water_class="I") == Breach(7.5, "GB3838-2002 class I")


def test_pollutants_belong_to_their_medium() -> None:
    assert measured_in(AIR, "pm2_5") and not measured_in(AIR, "cod")
    assert measured_in(WATER, "nh3_n") and not measured_in(WATER, "so2")


def test_the_api_accepts_exactly_the_domains_pollutants() -> None:
    assert set(typing.get_args(Pollutant)) == set(AIR_POLLUTANTS) | set(WATER_INDICATORS)


@pytest.mark.parametrize(
    ("pollutant", "unit", "stored"),
    [
        ("pm2_5", "µg/m³", "µg/m³"),
        ("pm2_5", "ug/m3", "µg/m³"),
        ("co", "mg/m3", "mg/m³"),
        ("cod", "mg/l", "mg/L"),
        ("ph", "pH", "pH"),
        ("co", "µg/m³", None),  # CO is reported in mg/m³: a µg figure would be 1000x off
        ("so2", "mg/m³", None),
        ("cod", "µg/m³", None),
        ("pm2_5", "ppm", None),
    ],
)
def test_units(pollutant: str, unit: str, stored: str | None) -> None:
    assert canonical_unit(pollutant, unit) == stored
