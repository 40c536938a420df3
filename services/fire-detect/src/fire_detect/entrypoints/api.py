"""REST API of fire-detect."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from city_common.auth import Principal, Role, require_roles
from city_common.events.schemas import FireAlarmStatus
from city_common.geo import GeoPoint, GeoPolygon, QueryLatitude, QueryLongitude
from city_common.runtime import RuntimeDep, UowDep
from city_common.web.pagination import Page, PageDep
from fire_detect.adapters import repository as repo
from fire_detect.adapters.resources import AlarmFilter
from fire_detect.config import Settings
from fire_detect.domain.danger import NoonWeather
from fire_detect.domain.model import (
    REPORTED_CONFIDENCE,
    REPORTED_UNCERTAINTY_M,
    ForestResourceKind,
)
from fire_detect.entrypoints.response_schemas import (
    AlarmKpis,
    AlarmSurroundings,
    ResponsePlanRead,
    alarm_filter,
)
from fire_detect.service_layer import handlers

router = APIRouter(prefix="")

Identifier = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]

Reader = Annotated[
    Principal, Depends(require_roles(Role.RANGER, Role.DISPATCHER, Role.OPERATOR, Role.SERVICE))
]
Reporter = Annotated[Principal, Depends(require_roles(Role.RANGER, Role.OPERATOR))]
Responder = Annotated[
    Principal, Depends(require_roles(Role.RANGER, Role.DISPATCHER, Role.OPERATOR))
]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
WeatherSource = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SERVICE))]


class ForestResourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Identifier
    kind: ForestResourceKind
    name: str = Field(strict=True, min_length=1, max_length=128)
    location: GeoPoint


class ForestResourceRead(BaseModel):
    id: str
    kind: ForestResourceKind
    name: str
    location: GeoPoint = Field(description="The resource, or a point on its line or area")
    registered_at: datetime
    subtype: str | None = Field(default=None, description="A hazard's kind: village, fuel_depot...")
    properties: dict[str, Any] = Field(
        default_factory=dict, description="The other properties of an imported feature"
    )


class NearbyResource(ForestResourceRead):
    distance_m: float = Field(description="Distance on the WGS 84 spheroid, in metres")


class AlarmReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: GeoPoint
    danger_level: int = Field(
        strict=True, ge=1, le=5, description="Forest fire danger rating, 1 (low) to 5"
    )
    confidence: float = Field(
        default=REPORTED_CONFIDENCE,
        strict=True,
        ge=0.0,
        le=1.0,
        description="How sure the reporter is; lower it for a report passed on second-hand",
    )
    uncertainty_m: float = Field(
        default=REPORTED_UNCERTAINTY_M,
        strict=True,
        ge=0.0,
        le=50_000.0,
        description="How far from the given place the fire may be, in metres",
    )


class AlarmTransitionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: FireAlarmStatus
    note: str | None = Field(default=None, strict=True, min_length=1, max_length=2000)


class AlarmStep(BaseModel):
    status: FireAlarmStatus
    at: datetime
    actor: str
    note: str | None


class AlarmRead(BaseModel):
    id: str
    kind: str
    status: FireAlarmStatus
    location: GeoPoint
    uncertainty_m: float
    confidence: float
    danger_level: int
    camera_id: str | None
    reported_by: str | None
    raised_at: datetime
    updated_at: datetime

    bearing_deg: float | None = Field(
        default=None, description="For a camera's alarm: the azimuth it was seen along"
    )
    area: GeoPolygon | None = Field(
        default=None,
        description="Where the fire may be: the wedge of one bearing, or where two crossed",
    )
    evidence: dict[str, Any] | None = Field(
        default=None, description="The frame that completed the sequence and the box in it"
    )
    crossed_by_camera_id: str | None = Field(
        default=None, description="The second camera whose bearing located the fire"
    )


class AlarmDetail(AlarmRead):
    timeline: list[AlarmStep]
    resources: AlarmSurroundings | None = Field(
        default=None, description="Nearest resource of each kind, and the compartment"
    )
    plan: ResponsePlanRead | None = Field(default=None, description="The response plan")
    kpis: AlarmKpis | None = None
    links: dict[str, str] = Field(
        default_factory=dict,
        description="Related resources of this service: 'evidence' (the frame), 'cap'",
    )


class CameraViewPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: GeoPoint
    hfov_deg: float = Field(
        strict=True, gt=0.0, lt=180.0, description="Horizontal field of view, degrees"
    )


class CameraViewRead(BaseModel):
    camera_id: str
    location: GeoPoint
    hfov_deg: float
    updated_at: datetime


class NoonWeatherCreate(BaseModel):
    """A day's weather at 12:00 local standard time, as the FWI System takes it."""

    model_config = ConfigDict(extra="forbid")

    day: date
    temp_c: float = Field(strict=True, ge=-60.0, le=60.0)
    rh_pct: float = Field(strict=True, ge=0.0, le=100.0)
    wind_kmh: float = Field(strict=True, ge=0.0, le=250.0, description="10 m wind speed")
    rain_24h_mm: float = Field(
        strict=True, ge=0.0, le=1000.0, description="Rain in the 24 hours up to noon"
    )


class FireWeatherRead(NoonWeatherCreate):
    model_config = ConfigDict(extra="ignore")

    ffmc: float
    dmc: float
    dc: float
    isi: float
    bui: float
    fwi: float
    danger_level: int = Field(description="1 (low) to 5 (extreme), from the FWI")
    recorded_at: datetime


class FrameStatsRead(BaseModel):
    camera_id: str
    camera_kind: str
    frames_seen: int
    last_frame_at: datetime
    last_pan_deg: float
    last_content_type: str
    updated_at: datetime


@router.post(
    "/resources",
    status_code=status.HTTP_201_CREATED,
    response_model=ForestResourceRead,
    tags=["resources"],
)
async def register_resource(
    body: ForestResourceCreate, uow: UowDep, _: Admin
) -> ForestResourceRead:
    """Put a water source, access road, hazard, ranger station or village on the map."""
    resource = await handlers.register_resource(
        uow, resource_id=body.id, kind=body.kind, name=body.name, location=body.location
    )
    return ForestResourceRead.model_validate(resource)


@router.get("/resources", response_model=Page[ForestResourceRead], tags=["resources"])
async def list_resources(
    uow: UowDep, page: PageDep, _: Reader, kind: ForestResourceKind | None = None
) -> Page[ForestResourceRead]:
    items, total = await repo.list_resources(
        uow.session, kind=kind.value if kind else None, limit=page.limit, offset=page.offset
    )
    return Page.of(ForestResourceRead, items, total=total, page=page)


@router.get("/resources/nearest", response_model=list[NearbyResource], tags=["resources"])
async def nearest_resources(
    uow: UowDep,
    _: Reader,
    lon: Annotated[QueryLongitude, Query(description="WGS 84 longitude")],
    lat: Annotated[QueryLatitude, Query(description="WGS 84 latitude")],
    kind: ForestResourceKind | None = None,
    limit: Annotated[int, Query(ge=1, le=50, description="How many, nearest first")] = 5,
) -> list[NearbyResource]:
    """The resources nearest to a place, nearest first, with their distance in metres."""
    found = await repo.nearest_resources(
        uow.session, point=GeoPoint.of(lon, lat), kind=kind.value if kind else None, limit=limit
    )
    return [NearbyResource.model_validate(r) for r in found]


@router.get("/resources/{resource_id}", response_model=ForestResourceRead, tags=["resources"])
async def get_resource(resource_id: str, uow: UowDep, _: Reader) -> ForestResourceRead:
    return ForestResourceRead.model_validate(await handlers.get_resource(uow, resource_id))


@router.post(
    "/alarms", status_code=status.HTTP_201_CREATED, response_model=AlarmDetail, tags=["alarms"]
)
async def report_alarm(body: AlarmReport, uow: UowDep, principal: Reporter) -> AlarmDetail:
    """A ranger reports a fire; the alarm is raised and announced to the command centre."""
    alarm = await handlers.report_alarm(
        uow,
        location=body.location,
        danger_level=body.danger_level,
        confidence=body.confidence,
        uncertainty_m=body.uncertainty_m,
        reporter=principal.subject,
    )
    return AlarmDetail.model_validate(alarm)


@router.post(
    "/alarms/{alarm_id}/transitions",
    status_code=status.HTTP_201_CREATED,
    response_model=AlarmDetail,
    tags=["alarms"],
    responses={409: {"description": "The lifecycle does not allow this move"}},
)
async def move_alarm(
    alarm_id: str, body: AlarmTransitionCreate, uow: UowDep, principal: Responder
) -> AlarmDetail:
    """Move the alarm on: raised → verified | dismissed; verified → dispatched → on_scene →
    extinguished → closed."""
    alarm = await handlers.move_alarm(
        uow, alarm_id, target=body.status, actor=principal.subject, note=body.note
    )
    return AlarmDetail.model_validate(alarm)


@router.get("/alarms", response_model=Page[AlarmRead], tags=["alarms"])
async def list_alarms(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    filters: Annotated[AlarmFilter, Depends(alarm_filter)],
    status_: Annotated[FireAlarmStatus | None, Query(alias="status")] = None,
) -> Page[AlarmRead]:
    """Alarms, newest first; by status, time raised, camera, danger level, and area
    (``bbox`` and/or a GeoJSON Polygon in ``within``)."""
    items, total = await repo.list_alarms(
        uow.session,
        status=status_.value if status_ else None,
        limit=page.limit,
        offset=page.offset,
        where=filters.conditions(),
    )
    return Page.of(AlarmRead, items, total=total, page=page)


@router.get("/alarms/{alarm_id}", response_model=AlarmDetail, tags=["alarms"])
async def get_alarm(alarm_id: str, uow: UowDep, _: Reader) -> AlarmDetail:
    return AlarmDetail.model_validate(await handlers.get_alarm(uow, alarm_id))


@router.put("/cameras/{camera_id}/view", response_model=CameraViewRead, tags=["cameras"])
async def put_camera_view(
    camera_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")],
    body: CameraViewPut,
    uow: UowDep,
    _: Admin,
) -> CameraViewRead:
    """Where a forest camera stands and how wide it sees: what locating its fires needs."""
    view = await handlers.put_camera_view(
        uow, camera_id=camera_id, location=body.location, hfov_deg=body.hfov_deg
    )
    return CameraViewRead.model_validate(view)


@router.get("/cameras/{camera_id}/view", response_model=CameraViewRead, tags=["cameras"])
async def get_camera_view(camera_id: str, uow: UowDep, _: Reader) -> CameraViewRead:
    return CameraViewRead.model_validate(await handlers.get_camera_view(uow, camera_id))


@router.post(
    "/fire-weather",
    status_code=status.HTTP_201_CREATED,
    response_model=FireWeatherRead,
    tags=["fire danger"],
)
async def record_fire_weather(
    body: NoonWeatherCreate, uow: UowDep, runtime: RuntimeDep, _: WeatherSource
) -> FireWeatherRead:
    """A day's noon weather: the Canadian Fire Weather Index and the danger level it gives,
    which sets how much evidence the cameras need before they alarm."""
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError("fire-detect runs with fire_detect.config.Settings")
    recorded = await handlers.record_fire_weather(
        uow,
        day=body.day,
        weather=NoonWeather(body.temp_c, body.rh_pct, body.wind_kmh, body.rain_24h_mm),
        latitude=settings.fire_latitude,
    )
    return FireWeatherRead.model_validate(recorded)


@router.get("/fire-weather/latest", response_model=FireWeatherRead, tags=["fire danger"])
async def latest_fire_weather(uow: UowDep, _: Reader) -> FireWeatherRead:
    return FireWeatherRead.model_validate(await handlers.latest_fire_weather(uow))


@router.get("/cameras/{camera_id}/frame-stats", response_model=FrameStatsRead, tags=["cameras"])
async def frame_stats(camera_id: str, uow: UowDep, _: Reader) -> FrameStatsRead:
    """The frames of a forest camera fire-detect has analysed so far, and the latest.

    Only forest cameras are watched for fire: another camera's id is a 404."""
    return FrameStatsRead.model_validate(await handlers.frame_stats(uow, camera_id))
