"""The FWI System against its published reference values, and the danger levels."""

from __future__ import annotations

import csv
import io

import pytest

from fire_detect.domain.danger import (
    FFMC_SCALE_1985,
    STARTUP_CODES,
    MoistureCodes,
    NoonWeather,
    buildup_index,
    danger_level,
    drought_code,
    duff_moisture_code,
    fine_fuel_moisture_code,
    fire_weather_index,
    fire_weather_series,
    initial_spread_index,
)

# The standard test data set of Van Wagner & Pickett (1985), For. Tech. Rep. 33: 48
# days of noon weather at 40° N from the start-up codes (FFMC 85, DMC 6, DC 15), with
# the six components the reference program gives, rounded to one decimal. Copied
# unchanged from the cffdrs project's published test data,
# https://github.com/cffdrs/cffdrs_py/blob/main/cffdrs/data/fwi_test_data.csv
# (the inputs are the cffdrs R package's `test_fwi` data set).
REFERENCE = """\
LONG,LAT,YR,MON,DAY,TEMP,RH,WS,PREC,FFMC,DMC,DC,ISI,BUI,FWI,DSR
-100,40,1985,4,13,17,42,25,0,87.6,8.5,19,10.8,8.5,10,1.61
-100,40,1985,4,14,20,21,25,2.4,86.2,10.4,23.6,8.8,10.4,9.2,1.39
-100,40,1985,4,15,8.5,40,17,0,86.9,11.8,26.1,6.5,11.7,7.5,0.97
-100,40,1985,4,16,6.5,25,6,0,88.8,13.2,28.2,4.9,13.1,6.1,0.67
-100,40,1985,4,17,13,34,24,0,89,15.4,31.5,12.5,15.3,14.7,3.18
-100,40,1985,4,18,6,40,22,0.4,88.6,16.5,33.5,10.6,16.4,13.4,2.67
-100,40,1985,4,19,5.5,52,6,0,87.3,17.2,35.4,3.9,17.1,5.8,0.61
-100,40,1985,4,20,8.5,46,16,0,87.3,18.5,37.9,6.5,18.4,9.5,1.46
-100,40,1985,4,21,9.5,54,20,0,86.7,19.7,40.6,7.3,19.6,10.9,1.86
-100,40,1985,4,22,7,93,14,9,29.8,10.1,29.5,0,10.9,0,0
-100,40,1985,4,23,6.5,71,17,1,49.4,10.7,31.6,0.4,11.6,0.2,0
-100,40,1985,4,24,6,59,17,0,67.2,11.4,33.7,1.3,12.3,0.9,0.02
-100,40,1985,4,25,13,52,4,0,77.7,13,37,1.1,13.9,0.8,0.02
-100,40,1985,4,26,15.5,40,11,0,85.4,15.4,40.7,3.9,15.9,5.5,0.55
-100,40,1985,4,27,23,25,9,0,91.5,19.8,45.8,8.3,19.8,12.1,2.24
-100,40,1985,4,28,19,46,16,0,89.9,22.5,50.2,9.4,22.4,14.2,2.98
-100,40,1985,4,29,18,41,20,0,89.9,25.2,54.4,11.5,25.1,17.5,4.31
-100,40,1985,4,30,14.5,51,16,0,88.4,27,57.9,7.6,27,13.2,2.61
-100,40,1985,5,1,14.5,69,11,0,85.6,28.3,63,4,28.2,7.9,1.07
-100,40,1985,5,2,15.5,42,8,0,87.3,30.8,68.2,4.4,30.8,9,1.33
-100,40,1985,5,3,21,37,8,0,89.3,34.5,74.3,5.8,34.4,12.2,2.27
-100,40,1985,5,4,23,32,16,0,90.9,38.8,80.9,11,38.7,20.9,5.9
-100,40,1985,5,5,23,32,14,0,91.2,43.1,87.4,10.2,43,20.9,5.93
-100,40,1985,5,6,27,33,12,0,91.6,48.1,94.7,9.9,47.9,21.6,6.24
-100,40,1985,5,7,28,17,27,0,95.1,54.5,102.1,34.3,54.3,52.3,29.96
-100,40,1985,5,8,23.5,54,20,0,89.7,57.4,108.8,11.2,57.2,25.7,8.53
-100,40,1985,5,9,16,50,22,12.2,62.2,29.9,91.8,1.4,33,3,0.19
-100,40,1985,5,10,11,58,20,0,76.4,31.3,96.2,2.3,34.5,5.3,0.53
-100,40,1985,5,11,16,54,16,0,83.3,33.3,101.5,3.8,36.6,8.8,1.27
-100,40,1985,5,12,21.5,37,9,0,88.6,37.1,107.7,5.5,39.9,12.6,2.42
-100,40,1985,5,13,14,61,22,0.2,86.6,38.6,112.7,8,41.6,17.2,4.18
-100,40,1985,5,14,15,30,27,0,89.6,41.6,117.8,15.7,44.2,28.7,10.32
-100,40,1985,5,15,20,23,11,0,92.1,45.9,123.8,10,47.6,21.7,6.32
-100,40,1985,5,16,14,95,3,16.4,21.3,20.1,96.9,0,26.5,0,0
-100,40,1985,5,17,20,53,4,2.8,51,18.2,102.9,0.2,25.3,0.2,0
-100,40,1985,5,18,19.5,30,16,0,82.2,22,108.8,3.3,29.3,6.8,0.8
-100,40,1985,5,19,25.5,51,20,6,75.3,16.4,106.3,2.1,23.6,3.8,0.29
-100,40,1985,5,20,10,38,24,0,84.3,18.2,110.5,6.4,25.8,11.2,1.96
-100,40,1985,5,21,19,27,16,0,90.3,22,116.4,9.9,29.9,17.1,4.14
-100,40,1985,5,22,26,46,11,4.2,77.5,18.7,117.7,1.6,26.7,2.9,0.18
-100,40,1985,5,23,30,38,22,0,90.2,23.7,125.5,13.3,32.2,21.9,6.42
-100,40,1985,5,24,25.5,67,19,12.6,65.3,13.1,108.4,1.4,20.2,1.9,0.08
-100,40,1985,5,25,12,53,28,11.8,55.4,7.7,91.6,1.2,12.8,0.8,0.02
-100,40,1985,5,26,21,38,8,0,80.8,11.3,97.8,1.9,17.6,2.5,0.14
-100,40,1985,5,27,13,70,20,3.8,61.7,8.4,97.8,1.2,13.8,0.9,0.02
-100,40,1985,5,28,9,78,24,1.4,64.4,9,101.8,1.7,14.7,1.9,0.09
-100,40,1985,5,29,11,54,16,0,77.6,10.5,106.2,2,16.8,2.8,0.16
-100,40,1985,5,30,15.5,39,9,0,85.4,13.1,111.4,3.5,20.3,5.7,0.6
"""
ROWS = list(csv.DictReader(io.StringIO(REFERENCE)))
COMPONENTS = ("FFMC", "DMC", "DC", "ISI", "BUI", "FWI")


def _weather(row: dict[str, str]) -> NoonWeather:
    return NoonWeather(
        temp_c=float(row["TEMP"]),
        rh_pct=float(row["RH"]),
        wind_kmh=float(row["WS"]),
        rain_24h_mm=float(row["PREC"]),
    )


def test_the_standard_48_day_sequence_gives_the_reference_components() -> None:
    assert len(ROWS) == 48
    days = fire_weather_series(
        ((int(r["MON"]), _weather(r)) for r in ROWS), latitude=40.0, start=STARTUP_CODES
    )
    for row, day in zip(ROWS, days, strict=True):
        got = (day.ffmc, day.dmc, day.dc, day.isi, day.bui, day.fwi)
        # Every one of the 288 published values, rounded as published, exactly.
        assert tuple(round(v, 1) for v in got) == tuple(float(row[n]) for n in COMPONENTS), (
            f"{row['YR']}-{row['MON']}-{row['DAY']}"
        )


def test_the_worked_example_of_the_updated_source_code() -> None:
    # Wang, Anderson & Suddaby (2015), "Updated source code for calculating fire danger
    # indices in the Canadian Forest Fire Weather Index System", Can. For. Serv.
    # Inf. Rep. NOR-X-424: the example call documented with every version of the code
    # (noon of 13 April at 45.98° N: 17 °C, 42 %, 25 km/h, no rain; codes 85, 6, 15),
    # given there to full double precision.
    # That code keeps the 1985 FFMC scale constant, 147.2.
    ffmc = fine_fuel_moisture_code(85.0, 17.0, 42.0, 25.0, 0.0, scale=FFMC_SCALE_1985)
    assert ffmc == pytest.approx(87.692980092774448, rel=1e-12)
    dmc = duff_moisture_code(6.0, 17.0, 42.0, 0.0, 4, 45.98)
    assert dmc == pytest.approx(8.5450511359999997, rel=1e-12)
    dc = drought_code(15.0, 17.0, 0.0, 4, 45.98)
    assert dc == pytest.approx(19.013999999999999, rel=1e-12)
    isi = initial_spread_index(87.692980092774448, 25.0, scale=FFMC_SCALE_1985)
    assert isi == pytest.approx(10.853661073655068, rel=1e-12)
    bui = buildup_index(8.5450511359999997, 19.013999999999999)
    assert bui == pytest.approx(8.4904265358371838, rel=1e-12)
    assert fire_weather_index(isi, bui) == pytest.approx(10.096371392382368, rel=1e-12)


def test_yongchuan_uses_the_20_degree_north_day_lengths() -> None:
    # At 29.35° N the DMC takes the 20° N day length (9.5 h in April, not 12.8 h at
    # 46° N) and the DC keeps the northern drying factor (0.9 in April).
    dmc = duff_moisture_code(6.0, 17.0, 42.0, 0.0, 4, 29.35)
    assert dmc == pytest.approx(6.0 + 1.894 * 18.1 * 58.0 * 9.5e-4)
    assert drought_code(15.0, 17.0, 0.0, 4, 29.35) == pytest.approx(
        15.0 + 0.5 * (0.36 * 19.8 + 0.9)
    )
    # Near the equator the DMC uses 9 h all year and the DC a constant 1.4.
    assert duff_moisture_code(6.0, 17.0, 42.0, 0.0, 1, 0.0) == pytest.approx(
        6.0 + 1.894 * 18.1 * 58.0 * 9.0e-4
    )
    assert drought_code(15.0, 17.0, 0.0, 1, 0.0) == pytest.approx(15.0 + 0.5 * (0.36 * 19.8 + 1.4))


def test_rain_wets_and_cold_stops_drying() -> None:
    dry = MoistureCodes(ffmc=92.0, dmc=60.0, dc=300.0)
    soaked = fire_weather_series([(7, NoonWeather(20.0, 95.0, 5.0, 30.0))], start=dry)[0]
    assert soaked.ffmc < 40.0 and soaked.dmc < dry.dmc and soaked.dc < dry.dc
    assert soaked.danger_level == 1
    # Below -1.1 °C the duff does not dry, below -2.8 °C the deep layers neither.
    assert duff_moisture_code(10.0, -5.0, 30.0, 0.0, 1) == pytest.approx(10.0)
    assert drought_code(50.0, -5.0, 0.0, 1) == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("fwi", "level"),
    [
        (0.0, 1),
        (5.2, 1),
        (11.19, 1),
        (11.2, 2),
        (21.29, 2),
        (21.3, 3),
        (37.99, 3),
        (38.0, 4),
        (49.99, 4),
        (50.0, 5),
        (120.0, 5),
    ],
)
def test_danger_levels_follow_the_effis_classes(fwi: float, level: int) -> None:
    assert danger_level(fwi) == level


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_danger_level_refuses_what_is_no_fwi(bad: float) -> None:
    with pytest.raises(ValueError, match="FWI"):
        danger_level(bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"temp_c": 20.0, "rh_pct": 101.0, "wind_kmh": 5.0, "rain_24h_mm": 0.0},
        {"temp_c": 20.0, "rh_pct": 50.0, "wind_kmh": -1.0, "rain_24h_mm": 0.0},
        {"temp_c": 20.0, "rh_pct": 50.0, "wind_kmh": 5.0, "rain_24h_mm": -0.1},
        {"temp_c": float("nan"), "rh_pct": 50.0, "wind_kmh": 5.0, "rain_24h_mm": 0.0},
    ],
)
def test_implausible_weather_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        NoonWeather(**kwargs)


def test_month_must_be_a_month() -> None:
    with pytest.raises(ValueError, match="month"):
        duff_moisture_code(6.0, 17.0, 42.0, 0.0, 13)
    with pytest.raises(ValueError, match="month"):
        drought_code(15.0, 17.0, 0.0, 0)
