"""API shapes of the response to a fire: nearby resources, plan, KPIs, list filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from city_common.geo import GeoPolygon
from city_common.web.problems import validation_failed
from fire_detect.adapters.resources import AlarmFilter


class NearResource(BaseModel):
    id: str
    kind: str
    name: str
    distance_m: float = Field(description="Metres on the WGS 84 spheroid; 0 inside an area")
    subtype: str | None = None


class AlarmSurroundings(BaseModel):
    nearest: dict[str, NearResource] = Field(
        description="The nearest forest resource of each kind, by kind"
    )
    compartment: NearResource | None = Field(
        description="The forest compartment the fire is in, if any"
    )


class PlanTeam(BaseModel):
    station_id: str
    name: str
    distance_m: float
    task: str


class PlanNotice(BaseModel):
    role: str
    reason: str
    resource_id: str | None = None


class PlanAction(BaseModel):
    code: str
    text: str
    resource_id: str | None = None


class ResponsePlanRead(BaseModel):
    """Drawn by rules when the alarm is raised (fire_detect.domain.response)."""

    danger_level: int
    teams: list[PlanTeam]
    notify: list[PlanNotice]
    actions: list[PlanAction]
    water_sources: list[NearResource]
    access_roads: list[NearResource]
    rules_applied: list[str]


class AlarmKpis(BaseModel):
    """Seconds from the alarm being raised; null until the alarm got there."""

    alarm_to_verification_s: float | None
    alarm_to_arrival_s: float | None
    alarm_to_extinguished_s: float | None
    detection_to_alarm_s: float | None = None


class KpiStat(BaseModel):
    count: int
    median: float | None
    p90: float | None


class DecidedShare(BaseModel):
    verified: float | None = Field(description="Of the alarms verified or dismissed")
    dismissed: float | None


class KpiReport(BaseModel):
    from_: AwareDatetime | None = Field(alias="from", serialization_alias="from")
    to: AwareDatetime | None
    alarms: int = Field(description="Alarms raised in the period")
    verified: int
    dismissed: int
    share: DecidedShare
    kpis: dict[str, KpiStat]


class ImportRejection(BaseModel):
    index: int = Field(description="Position of the feature in 'features'")
    id: str | None
    field: str
    reason: str


class ImportReport(BaseModel):
    imported: int
    created: int
    updated: int
    rejected: list[ImportRejection]


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise validation_failed("bbox", "give west,south,east,north in degrees") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise validation_failed("bbox", "west < east within -180..180, south < north in -90..90")
    return west, south, east, north


async def alarm_filter(
    raised_from: Annotated[
        AwareDatetime | None, Query(description="Raised at or after (with a time zone)")
    ] = None,
    raised_to: Annotated[AwareDatetime | None, Query(description="Raised before")] = None,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    danger_level: Annotated[int | None, Query(ge=1, le=5)] = None,
    bbox: Annotated[
        str | None, Query(description="west,south,east,north (WGS 84 degrees)", max_length=200)
    ] = None,
    within: Annotated[
        str | None, Query(description="A GeoJSON Polygon the fire is in", max_length=20_000)
    ] = None,
) -> AlarmFilter:
    if raised_from is not None and raised_to is not None and raised_to <= raised_from:
        raise validation_failed("raised_to", "must be after raised_from")
    polygon = None
    if within is not None:
        try:
            polygon = GeoPolygon.model_validate_json(within)
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"] if exc.errors() else "not a GeoJSON Polygon"
            raise validation_failed("within", f"a GeoJSON Polygon is needed: {reason}") from None
    return AlarmFilter(
        raised_from=raised_from,
        raised_to=raised_to,
        camera_id=camera_id,
        danger_level=danger_level,
        bbox=_bbox(bbox) if bbox is not None else None,
        within=polygon,
    )
