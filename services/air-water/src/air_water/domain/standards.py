"""Limits of the national standards and the exceedance decision. Pure logic, no I/O.

Air: GB 3095 ambient air quality, grade II (the limits for residential, commercial
and industrial areas, which cover the whole district). Water: GB 3838-2002 surface
water classes, single-factor method. Figures from ``reference/standards.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Medium(StrEnum):
    AIR = "air"
    WATER = "water"


class Averaging(StrEnum):
    HOURLY = "1h"
    DAILY = "24h"


class AirStandard(StrEnum):
    """Which edition of GB 3095 an observation is judged by."""

    GB3095_2012 = "GB3095-2012"
    # The 2026 edition's limits in force until 2030-12-31.
    GB3095_2026_TRANSITION = "GB3095-2026-transition"
    # The 2026 edition's limits from 2031-01-01.
    GB3095_2026 = "GB3095-2026"


DEFAULT_AIR_STANDARD = AirStandard.GB3095_2026_TRANSITION

WaterClass = Literal["I", "II", "III", "IV", "V"]
WATER_CLASSES: tuple[WaterClass, ...] = ("I", "II", "III", "IV", "V")
# Class III is the lowest class still fit for a drinking water source and the
# target the district's monitoring sections are assessed against.
DEFAULT_WATER_CLASS: WaterClass = "III"

MICROGRAMS = "µg/m³"
MILLIGRAMS_AIR = "mg/m³"
MILLIGRAMS_WATER = "mg/L"
PH_UNIT = "pH"

AIR_POLLUTANTS: dict[str, str] = {
    "so2": MICROGRAMS,
    "no2": MICROGRAMS,
    "pm10": MICROGRAMS,
    "pm2_5": MICROGRAMS,
    "co": MILLIGRAMS_AIR,
    # The daily ("24h") ozone value is the daily maximum 8-hour mean, as GB 3095 defines it.
    "o3": MICROGRAMS,
}

WATER_INDICATORS: dict[str, str] = {
    "ph": PH_UNIT,
    "do": MILLIGRAMS_WATER,  # dissolved oxygen
    "codmn": MILLIGRAMS_WATER,  # permanganate index
    "cod": MILLIGRAMS_WATER,
    "bod5": MILLIGRAMS_WATER,
    "nh3_n": MILLIGRAMS_WATER,
    "tp": MILLIGRAMS_WATER,  # total phosphorus at a river section
    "tp_lake": MILLIGRAMS_WATER,  # total phosphorus in a lake or reservoir
    "tn": MILLIGRAMS_WATER,  # total nitrogen, judged for lakes and reservoirs
}

POLLUTANTS_BY_MEDIUM: dict[Medium, dict[str, str]] = {
    Medium.AIR: AIR_POLLUTANTS,
    Medium.WATER: WATER_INDICATORS,
}

# Spellings a logger may send for the same unit; stored in the canonical form.
_UNIT_SPELLINGS: dict[str, str] = {
    "µg/m³": MICROGRAMS,
    "μg/m³": MICROGRAMS,  # Greek mu rather than the micro sign
    "ug/m3": MICROGRAMS,
    "mg/m³": MILLIGRAMS_AIR,
    "mg/m3": MILLIGRAMS_AIR,
    "mg/L": MILLIGRAMS_WATER,
    "mg/l": MILLIGRAMS_WATER,
    "pH": PH_UNIT,
}

# Values no instrument can truthfully report.
PHYSICAL_MAXIMUM: dict[str, float] = {"ph": 14.0}


@dataclass(frozen=True, slots=True)
class Limit:
    """The range a value must stay in: at most ``high``, at least ``low``."""

    high: float | None = None
    low: float | None = None

    def breached_by(self, value: float) -> float | None:
        """The bound ``value`` crosses, or None. A value exactly at a bound complies."""
        if self.high is not None and value > self.high:
            return self.high
        if self.low is not None and value < self.low:
            return self.low
        return None


def _at_most(value: float) -> Limit:
    return Limit(high=value)


# GB 3095 grade II, 24-hour mean (CO in mg/m³; O₃ daily maximum 8-hour mean).
DAILY_LIMITS: dict[AirStandard, dict[str, Limit]] = {
    AirStandard.GB3095_2012: {
        "so2": _at_most(150),
        "no2": _at_most(80),
        "pm10": _at_most(150),
        "pm2_5": _at_most(75),
        "co": _at_most(4),
        "o3": _at_most(160),
    },
    AirStandard.GB3095_2026_TRANSITION: {
        "so2": _at_most(150),
        "no2": _at_most(80),
        "pm10": _at_most(120),
        "pm2_5": _at_most(60),
        "co": _at_most(4),
        "o3": _at_most(160),
    },
    AirStandard.GB3095_2026: {
        "so2": _at_most(50),
        "no2": _at_most(50),
        "pm10": _at_most(100),
        "pm2_5": _at_most(50),
        "co": _at_most(4),
        "o3": _at_most(160),
    },
}

# GB 3095-2012 grade II, 1-hour mean. The reference gives no 1-hour figures for the
# 2026 edition, so these stand for every edition until it does. Particulates have no
# 1-hour limit: an hourly PM value is recorded but never judged on its own.
_HOURLY_2012: dict[str, Limit] = {
    "so2": _at_most(500),
    "no2": _at_most(200),
    "co": _at_most(10),
    "o3": _at_most(200),
}
HOURLY_LIMITS: dict[AirStandard, dict[str, Limit]] = {
    standard: _HOURLY_2012 for standard in AirStandard
}


def _by_class(*values: float) -> dict[WaterClass, Limit]:
    return {cls: _at_most(v) for cls, v in zip(WATER_CLASSES, values, strict=True)}


# GB 3838-2002 basic items, mg/L; dissolved oxygen is a floor, pH a range.
WATER_LIMITS: dict[str, dict[WaterClass, Limit]] = {
    "ph": {cls: Limit(low=6, high=9) for cls in WATER_CLASSES},
    "do": {cls: Limit(low=v) for cls, v in zip(WATER_CLASSES, (7.5, 6, 5, 3, 2), strict=True)},
    "codmn": _by_class(2, 4, 6, 10, 15),
    "cod": _by_class(15, 15, 20, 30, 40),
    "bod5": _by_class(3, 3, 4, 6, 10),
    "nh3_n": _by_class(0.15, 0.5, 1.0, 1.5, 2.0),
    "tp": _by_class(0.02, 0.1, 0.2, 0.3, 0.4),
    "tp_lake": _by_class(0.01, 0.025, 0.05, 0.1, 0.2),
    "tn": _by_class(0.2, 0.5, 1.0, 1.5, 2.0),
}


@dataclass(frozen=True, slots=True)
class Breach:
    """An observation outside its limit, and the standard that says so."""

    limit: float
    standard: str


def canonical_unit(pollutant: str, unit: str) -> str | None:
    """The stored spelling of ``unit`` if it is the unit ``pollutant`` is measured in."""
    spelled = _UNIT_SPELLINGS.get(unit)
    return spelled if spelled is not None and spelled == expected_unit(pollutant) else None


def expected_unit(pollutant: str) -> str | None:
    return AIR_POLLUTANTS.get(pollutant) or WATER_INDICATORS.get(pollutant)


def measured_in(medium: Medium, pollutant: str) -> bool:
    return pollutant in POLLUTANTS_BY_MEDIUM[medium]


def limit_for(
    medium: Medium,
    pollutant: str,
    averaging: Averaging,
    *,
    standard: AirStandard = DEFAULT_AIR_STANDARD,
    water_class: WaterClass = DEFAULT_WATER_CLASS,
) -> Limit | None:
    """The limit an observation is judged against, or None when the standard sets none."""
    if medium is Medium.AIR:
        table = DAILY_LIMITS if averaging is Averaging.DAILY else HOURLY_LIMITS
        return table[standard].get(pollutant)
    # GB 3838 judges every sample against its class, whatever its averaging period.
    by_class = WATER_LIMITS.get(pollutant)
    return by_class[water_class] if by_class is not None else None


def assess(
    medium: Medium,
    pollutant: str,
    averaging: Averaging,
    value: float,
    *,
    standard: AirStandard = DEFAULT_AIR_STANDARD,
    water_class: WaterClass = DEFAULT_WATER_CLASS,
) -> Breach | None:
    """Whether one observation exceeds its limit."""
    limit = limit_for(medium, pollutant, averaging, standard=standard, water_class=water_class)
    if limit is None:
        return None
    bound = limit.breached_by(value)
    if bound is None:
        return None
    label = standard.value if medium is Medium.AIR else f"GB3838-2002 class {water_class}"
    return Breach(limit=bound, standard=label)
