"""What is near a fire and what to do about it: the response plan, by rules. Pure logic.

The plan is drawn when the alarm is raised (and again if a second camera moves it),
from the danger level and the forest resources near the fire. The rules, in the order
they are applied (each one that fires is named in ``rules_applied``):

R1 teams       Mobilise the nearest ranger stations: 1 at danger 1-2, 2 at 3, 3 at 4,
               4 at 5 (``TEAMS_BY_DANGER``). A plan never names a station farther
               than ``TEAM_REACH_M``; if none is that near, the county fire brigade is
               asked instead (R1b).
R2 village     A village (kind ``village`` or a hazard of subtype ``village``) within
               ``VILLAGE_NOTICE_M`` (5 km; 8 km at danger 4-5): notify its village
               head to prepare an evacuation; within ``VILLAGE_EVACUATE_M`` (1 km;
               2 km at danger 4-5): evacuate it now.
R3 fuel depot  A fuel depot within ``FUEL_DEPOT_M`` (5 km): notify its operator and
               send a team to protect it (cool the tanks, clear a break).
R4 power line  A power line within ``POWER_LINE_M`` (2 km): notify the power company
               to be ready to switch the line off (arcing lines start fires, and
               crews must not work under a live line in smoke).
R5 other       Any other hazard within ``OTHER_HAZARD_M`` (3 km): notify its owner.
R6 danger 4+   Notify the county fire command and put the neighbouring stations on
               standby; at danger 5 also the municipal emergency bureau, and ask for
               aerial support.
R7 water/road  The water sources (up to 2 within ``WATER_REACH_M``, else the nearest
               one) and access roads (up to 2 within ``ROAD_REACH_M``, else the
               nearest one) the crews should use, nearest first.

The duty ranger and the township forestry station are always notified (R0): the
alarm is theirs to verify.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from fire_detect.domain.model import ForestResourceKind

Kind = ForestResourceKind

TEAMS_BY_DANGER: Mapping[int, int] = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4}
TEAM_REACH_M = 30_000.0
VILLAGE_NOTICE_M: Mapping[bool, float] = {False: 5_000.0, True: 8_000.0}
VILLAGE_EVACUATE_M: Mapping[bool, float] = {False: 1_000.0, True: 2_000.0}
FUEL_DEPOT_M = 5_000.0
POWER_LINE_M = 2_000.0
OTHER_HAZARD_M = 3_000.0
WATER_REACH_M = 5_000.0
ROAD_REACH_M = 3_000.0
# How many of each kind (and hazard subtype) near a fire the rules look at.
CANDIDATES_PER_KIND = 5


@dataclass(frozen=True, slots=True)
class NearbyResource:
    """A forest resource and how far the fire is from it (0 inside an area)."""

    id: str
    kind: ForestResourceKind
    name: str
    distance_m: float
    subtype: str | None = None
    contains_fire: bool = False

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "name": self.name,
            "distance_m": round(self.distance_m, 1),
        }
        if self.subtype is not None:
            out["subtype"] = self.subtype
        return out


def is_village(r: NearbyResource) -> bool:
    return r.kind is Kind.VILLAGE or (r.kind is Kind.HAZARD and r.subtype == "village")


def surroundings(nearby: Iterable[NearbyResource]) -> dict[str, Any]:
    """What the alarm detail shows: the nearest of each kind, and the compartment the
    fire is in (None outside every compartment)."""
    nearest: dict[str, NearbyResource] = {}
    compartment: NearbyResource | None = None
    for r in sorted(nearby, key=lambda r: (r.distance_m, r.id)):
        nearest.setdefault(r.kind.value, r)
        if r.kind is Kind.FOREST_COMPARTMENT and r.contains_fire and compartment is None:
            compartment = r
    return {
        "nearest": {k: r.as_json() for k, r in sorted(nearest.items())},
        "compartment": compartment.as_json() if compartment else None,
    }


@dataclass(frozen=True, slots=True)
class Team:
    station_id: str
    name: str
    distance_m: float
    task: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Whom to notify (a role) and why; ``resource_id`` when it is about one place."""

    role: str
    reason: str
    resource_id: str | None = None


@dataclass(frozen=True, slots=True)
class Action:
    code: str
    text: str
    resource_id: str | None = None


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    danger_level: int
    teams: tuple[Team, ...]
    notify: tuple[Notice, ...]
    actions: tuple[Action, ...]
    water_sources: tuple[dict[str, Any], ...]
    access_roads: tuple[dict[str, Any], ...]
    rules_applied: tuple[str, ...] = field(default=())

    @property
    def evacuates(self) -> bool:
        return any(a.code == "evacuate" for a in self.actions)

    def as_json(self) -> dict[str, Any]:
        """Lists and dicts only, as JSONB gives it back."""
        plain: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        return plain


def _within(nearby: Sequence[NearbyResource], limit_m: float) -> list[NearbyResource]:
    return [r for r in nearby if r.distance_m <= limit_m]


def _to_use(candidates: Sequence[NearbyResource], reach_m: float) -> tuple[dict[str, Any], ...]:
    close = _within(candidates, reach_m)[:2]
    return tuple(r.as_json() for r in (close or candidates[:1]))


def response_plan(danger_level: int, nearby: Iterable[NearbyResource]) -> ResponsePlan:
    """The plan for a fire at ``danger_level`` (1-5) with these resources around it."""
    if not 1 <= danger_level <= 5:
        raise ValueError(f"danger level must be 1-5, not {danger_level}")
    ordered = sorted(nearby, key=lambda r: (r.distance_m, r.id))
    high = danger_level >= 4
    rules: list[str] = ["R0"]
    teams: list[Team] = []
    notify: list[Notice] = [
        Notice("duty_ranger", "verify the alarm on camera or on site"),
        Notice("township_forestry_station", "a fire alarm in the station's forest"),
    ]
    actions: list[Action] = []

    stations = [r for r in ordered if r.kind is Kind.RANGER_STATION]
    reachable = _within(stations, TEAM_REACH_M)[: TEAMS_BY_DANGER[danger_level]]
    if reachable:
        rules.append("R1")
        for i, s in enumerate(reachable):
            task = "first attack" if i == 0 else "reinforce the first team"
            teams.append(Team(s.id, s.name, round(s.distance_m, 1), task))
            notify.append(Notice("ranger_station_chief", f"mobilise the team of {s.name}", s.id))
    else:
        rules.append("R1b")
        notify.append(Notice("county_fire_brigade", "no ranger station within reach"))
        actions.append(Action("request_brigade", "ask the county fire brigade for a team"))

    villages = [r for r in ordered if is_village(r)]
    notice_m, evacuate_m = VILLAGE_NOTICE_M[high], VILLAGE_EVACUATE_M[high]
    for v in _within(villages, notice_m):
        rules.append("R2")
        if v.distance_m <= evacuate_m:
            notify.append(Notice("village_head", f"evacuate {v.name} now", v.id))
            actions.append(Action("evacuate", f"evacuate {v.name}", v.id))
        else:
            notify.append(Notice("village_head", f"prepare to evacuate {v.name}", v.id))
            actions.append(Action("prepare_evacuation", f"prepare to evacuate {v.name}", v.id))

    hazards = [r for r in ordered if r.kind is Kind.HAZARD and not is_village(r)]
    for h in hazards:
        if h.subtype == "fuel_depot" and h.distance_m <= FUEL_DEPOT_M:
            rules.append("R3")
            notify.append(Notice("fuel_depot_operator", f"fire near {h.name}", h.id))
            actions.append(Action("protect_fuel_depot", f"protect {h.name}", h.id))
        elif h.subtype == "power_line" and h.distance_m <= POWER_LINE_M:
            rules.append("R4")
            notify.append(Notice("power_company", f"be ready to switch off {h.name}", h.id))
            actions.append(Action("de_energise_line", f"switch off {h.name} if asked", h.id))
        elif h.subtype not in ("fuel_depot", "power_line") and h.distance_m <= OTHER_HAZARD_M:
            rules.append("R5")
            notify.append(Notice("hazard_owner", f"fire near {h.name} ({h.subtype})", h.id))

    if high:
        rules.append("R6")
        notify.append(Notice("county_fire_command", f"danger level {danger_level}"))
        actions.append(Action("standby_neighbours", "put the neighbouring stations on standby"))
        if danger_level == 5:
            notify.append(Notice("municipal_emergency_bureau", "extreme fire danger"))
            actions.append(Action("request_aerial_support", "ask for a helicopter"))

    waters = [r for r in ordered if r.kind is Kind.WATER_SOURCE]
    roads = [r for r in ordered if r.kind is Kind.ROAD_ACCESS]
    water_sources = _to_use(waters, WATER_REACH_M)
    access_roads = _to_use(roads, ROAD_REACH_M)
    if water_sources or access_roads:
        rules.append("R7")
    return ResponsePlan(
        danger_level=danger_level,
        teams=tuple(teams),
        notify=tuple(notify),
        actions=tuple(actions),
        water_sources=water_sources,
        access_roads=access_roads,
        rules_applied=tuple(dict.fromkeys(rules)),
    )


# --- KPIs --------------------------------------------------------------------

# Each KPI: seconds from the alarm being raised to the first time it reached a status.
KPI_STATUSES: Mapping[str, str] = {
    "alarm_to_verification_s": "verified",
    "alarm_to_arrival_s": "on_scene",
    "alarm_to_extinguished_s": "extinguished",
}


def alarm_kpis(
    raised_at: datetime,
    reached: Mapping[str, datetime],
    *,
    first_detected_at: datetime | None = None,
) -> dict[str, float | None]:
    """The KPIs of one alarm from when it first reached each status; None where it has
    not (yet). Detection to alarm only when the first detection is known."""
    out: dict[str, float | None] = {}
    if first_detected_at is not None:
        out["detection_to_alarm_s"] = max(0.0, (raised_at - first_detected_at).total_seconds())
    for name, status in KPI_STATUSES.items():
        at = reached.get(status)
        out[name] = None if at is None else round((at - raised_at).total_seconds(), 3)
    return out


def first_reached(timeline: Iterable[Mapping[str, Any]]) -> dict[str, datetime]:
    """When each status was first reached, from an alarm's timeline."""
    out: dict[str, datetime] = {}
    for step in timeline:
        status = str(step["status"])
        at: datetime = step["at"]
        if status not in out or at < out[status]:
            out[status] = at
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0-1), linearly interpolated between ranks as PostgreSQL's
    percentile_cont does; the median is q = 0.5."""
    if not values:
        raise ValueError("no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError("q is between 0 and 1")
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def aggregate_kpis(per_alarm: Sequence[Mapping[str, float | None]]) -> dict[str, Any]:
    """Count, median and p90 of each KPI over the alarms that have it, and the share of
    alarms decided (verified or dismissed) that were verified and dismissed."""
    stats: dict[str, Any] = {}
    names = ["detection_to_alarm_s", *KPI_STATUSES]
    for name in names:
        values = [float(v) for a in per_alarm if (v := a.get(name)) is not None]
        stats[name] = {
            "count": len(values),
            "median": round(percentile(values, 0.5), 3) if values else None,
            "p90": round(percentile(values, 0.9), 3) if values else None,
        }
    return stats


def decided_shares(verified: int, dismissed: int) -> dict[str, float | None]:
    decided = verified + dismissed
    if decided == 0:
        return {"verified": None, "dismissed": None}
    return {"verified": round(verified / decided, 4), "dismissed": round(dismissed / decided, 4)}
