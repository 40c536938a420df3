"""Forest fire danger from the weather: the Canadian Forest Fire Weather Index (FWI) System.

Pure functions, no I/O. The equations are those of Van Wagner (1987), *Development
and structure of the Canadian Forest Fire Weather Index System* (Can. For. Serv.,
For. Tech. Rep. 35), as programmed by Van Wagner & Pickett (1985), *Equations and
FORTRAN program for the Canadian Forest Fire Weather Index System* (For. Tech.
Rep. 33); equation numbers below are theirs. Inputs are the noon (12:00 local
standard time) observations the system is defined on: temperature, relative
humidity, 10 m wind speed, and the rain of the 24 hours up to noon.

The system carries three moisture codes from one day to the next (FFMC, DMC,
DC): the memory of past rain and drying. A long run of dry days raises the DMC
and DC, so "days since rain" enters through them rather than as a separate input.

Where latitude matters (the day-length factors of the DMC and DC) the bands are
those of the cffdrs R package (Wang et al. 2017), which extends the Canadian
tables to other latitudes: Yongchuan, at 29.35° N, takes the 20° N day lengths
for the DMC and the northern drying factors for the DC.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Scale between fine fuel moisture content (%) and the FFMC (eqs. 1 and 10). Van Wagner
# & Pickett (1985) print 147.2; the cffdrs reference implementation uses the exact
# 250 * 59.5 / 101 (= 147.277...), so that FFMC 101 is 0 % moisture, and its published
# test data are computed with it. The 1985 constant stays available to reproduce
# results of the older programs.
FFMC_SCALE = 250.0 * 59.5 / 101.0
FFMC_SCALE_1985 = 147.2

# Effective day length (hours) by month for the DMC (Van Wagner 1987, table 1, 46° N),
# and the cffdrs extensions for other latitude bands.
_DAY_LENGTH_46N = (6.5, 7.5, 9.0, 12.8, 13.9, 13.9, 12.4, 10.9, 9.4, 8.0, 7.0, 6.0)
_DAY_LENGTH_20N = (7.9, 8.4, 8.9, 9.5, 9.9, 10.2, 10.1, 9.7, 9.1, 8.6, 8.1, 7.8)
_DAY_LENGTH_20S = (10.1, 9.6, 9.1, 8.5, 8.1, 7.8, 7.9, 8.3, 8.9, 9.4, 9.9, 10.2)
_DAY_LENGTH_40S = (11.5, 10.5, 9.2, 7.9, 6.8, 6.2, 6.5, 7.4, 8.7, 10.0, 11.2, 11.8)
_DAY_LENGTH_EQUATOR = 9.0

# Day-length (drying) factor by month for the DC (Van Wagner 1987, table 2), and its
# southern-hemisphere shift and equatorial constant.
_DRYING_FACTOR_N = (-1.6, -1.6, -1.6, 0.9, 3.8, 5.8, 6.4, 5.0, 2.4, 0.4, -1.6, -1.6)
_DRYING_FACTOR_S = (6.4, 5.0, 2.4, 0.4, -1.6, -1.6, -1.6, -1.6, -1.6, 0.9, 3.8, 5.8)
_DRYING_FACTOR_EQUATOR = 1.4

# The latitude the Canadian tables were made for; the default when none is given.
CANADIAN_REFERENCE_LATITUDE = 46.0


@dataclass(frozen=True, slots=True)
class NoonWeather:
    """One day's noon observation."""

    temp_c: float
    rh_pct: float
    wind_kmh: float
    rain_24h_mm: float

    def __post_init__(self) -> None:
        if not all(
            math.isfinite(v) for v in (self.temp_c, self.rh_pct, self.wind_kmh, self.rain_24h_mm)
        ):
            raise ValueError("weather values must be finite numbers")
        if not 0.0 <= self.rh_pct <= 100.0:
            raise ValueError(f"relative humidity must be 0-100 %, not {self.rh_pct}")
        if self.wind_kmh < 0.0:
            raise ValueError(f"wind speed cannot be negative ({self.wind_kmh} km/h)")
        if self.rain_24h_mm < 0.0:
            raise ValueError(f"rain cannot be negative ({self.rain_24h_mm} mm)")


@dataclass(frozen=True, slots=True)
class MoistureCodes:
    """The three codes carried from one day to the next."""

    ffmc: float
    dmc: float
    dc: float


# The standard start-up values after snowmelt or a long wet spell (Van Wagner 1987).
STARTUP_CODES = MoistureCodes(ffmc=85.0, dmc=6.0, dc=15.0)


@dataclass(frozen=True, slots=True)
class FireWeatherDay:
    """All six components of the FWI System for one day."""

    ffmc: float
    dmc: float
    dc: float
    isi: float
    bui: float
    fwi: float

    @property
    def codes(self) -> MoistureCodes:
        return MoistureCodes(ffmc=self.ffmc, dmc=self.dmc, dc=self.dc)

    @property
    def danger_level(self) -> int:
        return danger_level(self.fwi)


def _check_month(month: int) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, not {month}")


def fine_fuel_moisture_code(
    ffmc_yesterday: float,
    temp_c: float,
    rh_pct: float,
    wind_kmh: float,
    rain_mm: float,
    *,
    scale: float = FFMC_SCALE,
) -> float:
    """FFMC: moisture of litter and fine fuels, 0-101 (eqs. 1-10)."""
    mo = scale * (101.0 - ffmc_yesterday) / (59.5 + ffmc_yesterday)  # eq. 1
    if rain_mm > 0.5:
        rf = rain_mm - 0.5  # eq. 2: the first 0.5 mm is caught by the canopy
        wetting = 42.5 * rf * math.exp(-100.0 / (251.0 - mo)) * (1.0 - math.exp(-6.93 / rf))
        if mo > 150.0:
            wetting += 0.0015 * (mo - 150.0) ** 2 * math.sqrt(rf)  # eq. 3b
        mo = min(mo + wetting, 250.0)  # eq. 3a; litter holds no more than 250 %
    humidity, dryness = rh_pct / 100.0, (100.0 - rh_pct) / 100.0
    cooling = 0.18 * (21.1 - temp_c) * (1.0 - math.exp(-0.115 * rh_pct))
    ed = 0.942 * rh_pct**0.679 + 11.0 * math.exp((rh_pct - 100.0) / 10.0) + cooling  # eq. 4
    temperature_effect = 0.581 * math.exp(0.0365 * temp_c)
    if mo > ed:  # drying towards the drying equilibrium
        ko = 0.424 * (1.0 - humidity**1.7) + 0.0694 * math.sqrt(wind_kmh) * (1.0 - humidity**8)
        m = ed + (mo - ed) / 10.0 ** (ko * temperature_effect)  # eqs. 6a, 6b, 8
    else:
        ew = 0.618 * rh_pct**0.753 + 10.0 * math.exp((rh_pct - 100.0) / 10.0) + cooling  # eq. 5
        if mo < ew:  # wetting towards the wetting equilibrium
            kl = 0.424 * (1.0 - dryness**1.7) + 0.0694 * math.sqrt(wind_kmh) * (1.0 - dryness**8)
            m = ew - (ew - mo) / 10.0 ** (kl * temperature_effect)  # eqs. 7a, 7b, 9
        else:
            m = mo
    ffmc: float = 59.5 * (250.0 - m) / (scale + m)  # eq. 10
    return min(max(ffmc, 0.0), 101.0)


def _day_length(latitude: float, month: int) -> float:
    if latitude > 30.0:
        return _DAY_LENGTH_46N[month - 1]
    if latitude > 10.0:
        return _DAY_LENGTH_20N[month - 1]
    if latitude > -10.0:
        return _DAY_LENGTH_EQUATOR
    if latitude > -30.0:
        return _DAY_LENGTH_20S[month - 1]
    return _DAY_LENGTH_40S[month - 1]


def _drying_factor(latitude: float, month: int) -> float:
    if latitude > 20.0:
        return _DRYING_FACTOR_N[month - 1]
    if latitude > -20.0:
        return _DRYING_FACTOR_EQUATOR
    return _DRYING_FACTOR_S[month - 1]


def duff_moisture_code(
    dmc_yesterday: float,
    temp_c: float,
    rh_pct: float,
    rain_mm: float,
    month: int,
    latitude: float = CANADIAN_REFERENCE_LATITUDE,
) -> float:
    """DMC: moisture of loosely compacted duff of moderate depth (eqs. 11-17)."""
    _check_month(month)
    po = dmc_yesterday
    if rain_mm > 1.5:
        re = 0.92 * rain_mm - 1.27  # eq. 11
        # eqs. 12 and 15 in the form of the updated source code (Wang et al. 2015)
        mo = 20.0 + 280.0 / math.exp(0.023 * po)  # eq. 12
        if po <= 33.0:
            b = 100.0 / (0.5 + 0.3 * po)  # eq. 13a
        elif po <= 65.0:
            b = 14.0 - 1.3 * math.log(po)  # eq. 13b
        else:
            b = 6.2 * math.log(po) - 17.2  # eq. 13c
        mr = mo + 1000.0 * re / (48.77 + b * re)  # eq. 14
        po = max(43.43 * (5.6348 - math.log(mr - 20.0)), 0.0)  # eq. 15
    # eq. 16: no drying below -1.1 °C
    k = 1.894 * (max(temp_c, -1.1) + 1.1) * (100.0 - rh_pct) * _day_length(latitude, month) * 1e-4
    return max(po + k, 0.0)  # eq. 17


def drought_code(
    dc_yesterday: float,
    temp_c: float,
    rain_mm: float,
    month: int,
    latitude: float = CANADIAN_REFERENCE_LATITUDE,
) -> float:
    """DC: moisture of deep, compact organic layers; seasonal drought (eqs. 18-23)."""
    _check_month(month)
    do = dc_yesterday
    if rain_mm > 2.8:
        rd = 0.83 * rain_mm - 1.27  # eq. 18
        qo = 800.0 * math.exp(-do / 400.0)  # eq. 19
        qr = qo + 3.937 * rd  # eq. 20
        do = max(400.0 * math.log(800.0 / qr), 0.0)  # eq. 21
    # eq. 22: no evapotranspiration below -2.8 °C, and never negative
    v = max(0.36 * (max(temp_c, -2.8) + 2.8) + _drying_factor(latitude, month), 0.0)
    return do + 0.5 * v  # eq. 23


def initial_spread_index(ffmc: float, wind_kmh: float, *, scale: float = FFMC_SCALE) -> float:
    """ISI: the expected rate of spread, from fine fuel moisture and wind (eqs. 24-26)."""
    m = scale * (101.0 - ffmc) / (59.5 + ffmc)  # eq. 1
    f_wind = math.exp(0.05039 * wind_kmh)  # eq. 24
    f_moisture: float = 91.9 * math.exp(-0.1386 * m) * (1.0 + m**5.31 / 4.93e7)  # eq. 25
    return 0.208 * f_wind * f_moisture  # eq. 26


def buildup_index(dmc: float, dc: float) -> float:
    """BUI: the fuel available to burn, from the DMC and DC (eqs. 27a, 27b)."""
    if dmc <= 0.0 and dc <= 0.0:
        return 0.0
    if dmc <= 0.4 * dc:
        bui = 0.8 * dmc * dc / (dmc + 0.4 * dc)  # eq. 27a
    else:
        bui = dmc - (1.0 - 0.8 * dc / (dmc + 0.4 * dc)) * (0.92 + (0.0114 * dmc) ** 1.7)  # 27b
    return max(bui, 0.0)


def fire_weather_index(isi: float, bui: float) -> float:
    """FWI: the intensity a spreading fire would reach, from the ISI and BUI (eqs. 28-30)."""
    if bui <= 80.0:
        f_d: float = 0.626 * bui**0.809 + 2.0  # eq. 28a
    else:
        f_d = 1000.0 / (25.0 + 108.64 * math.exp(-0.023 * bui))  # eq. 28b
    b = 0.1 * isi * f_d  # eq. 29
    if b > 1.0:
        return math.exp(2.72 * (0.434 * math.log(b)) ** 0.647)  # eq. 30a
    return b  # eq. 30b


def fire_weather_day(
    yesterday: MoistureCodes,
    weather: NoonWeather,
    *,
    month: int,
    latitude: float = CANADIAN_REFERENCE_LATITUDE,
) -> FireWeatherDay:
    """Today's six components from yesterday's codes and today's noon weather."""
    ffmc = fine_fuel_moisture_code(
        yesterday.ffmc, weather.temp_c, weather.rh_pct, weather.wind_kmh, weather.rain_24h_mm
    )
    dmc = duff_moisture_code(
        yesterday.dmc, weather.temp_c, weather.rh_pct, weather.rain_24h_mm, month, latitude
    )
    dc = drought_code(yesterday.dc, weather.temp_c, weather.rain_24h_mm, month, latitude)
    isi = initial_spread_index(ffmc, weather.wind_kmh)
    bui = buildup_index(dmc, dc)
    return FireWeatherDay(
        ffmc=ffmc, dmc=dmc, dc=dc, isi=isi, bui=bui, fwi=fire_weather_index(isi, bui)
    )


def fire_weather_series(
    days: Iterable[tuple[int, NoonWeather]],
    *,
    latitude: float = CANADIAN_REFERENCE_LATITUDE,
    start: MoistureCodes = STARTUP_CODES,
) -> list[FireWeatherDay]:
    """Consecutive days, each ``(month, noon weather)``, from the start-up codes on."""
    codes, out = start, []
    for month, weather in days:
        day = fire_weather_day(codes, weather, month=month, latitude=latitude)
        out.append(day)
        codes = day.codes
    return out


# --- danger level ------------------------------------------------------------
#
# The platform rates danger 1 (low) to 5 (extreme), as China's national forest fire
# danger meteorological rating does. The FWI is mapped onto it with the class
# thresholds the European Forest Fire Information System (EFFIS, JRC) applies across
# Europe since 2007 (https://effis.jrc.ec.europa.eu/about-effis/technical-background/
# fire-danger-forecast/, upper bounds excluded): very low < 5.2, low 5.2-11.2,
# moderate 11.2-21.3, high 21.3-38.0, very high 38.0-50.0, extreme >= 50.0. Six
# classes become five by merging "very low" and "low" into level 1. These bounds
# are calibrated on European fire seasons; a district calibration (FWI percentiles
# of Yongchuan's own fire days) would replace them without changing the callers.
DANGER_LEVEL_LOWER_BOUNDS: Sequence[float] = (11.2, 21.3, 38.0, 50.0)
DANGER_LEVEL_NAMES = ("low", "moderate", "high", "very high", "extreme")


def danger_level(fwi: float, bounds: Sequence[float] = DANGER_LEVEL_LOWER_BOUNDS) -> int:
    """The 1-5 danger level of an FWI value; a bound belongs to the level it starts."""
    if not math.isfinite(fwi) or fwi < 0.0:
        raise ValueError(f"an FWI is a finite number >= 0, not {fwi}")
    return 1 + sum(1 for bound in bounds if fwi >= bound)
