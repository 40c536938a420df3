"""REST API of video-ingest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, field_validator

from city_common.auth import Principal, Role, require_roles
from city_common.events.schemas import CameraKind
from city_common.geo import GeoPoint, QueryLatitude, QueryLongitude
from city_common.runtime import Runtime, RuntimeDep, UowDep
from city_common.web.pagination import Page, PageDep, PageParams
from city_common.web.problems import PROBLEM_BASE, Problem, validation_failed
from video_ingest.config import health_policy, settings_of
from video_ingest.domain.area import BadArea, BoundingBox, parse_bbox
from video_ingest.domain.health import HealthPolicy
from video_ingest.domain.images import (
    FRAME_TYPES,
    JPEG,
    MULTIPART,
    BadMultipart,
    frame_from_multipart,
    media_type,
)
from video_ingest.domain.model import CameraStatus
from video_ingest.service_layer import handlers
from video_ingest.service_layer.admission import FrameGate
from video_ingest.service_layer.frame_batch import FrameBatcher

router = APIRouter(prefix="", tags=["cameras"])

CameraId = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]
Azimuth = Annotated[float, Field(strict=True, ge=0.0, lt=360.0)]
# The id of a grid-events cell ("chashanzhuhai-ne"); taken as given, not looked up there.
CellId = Annotated[
    str,
    Field(
        strict=True,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The grid-events cell the camera stands in",
        examples=["chashanzhuhai-ne"],
    ),
]
Elevation = Annotated[float, Field(strict=True, ge=-500.0, le=9000.0)]
Hfov = Annotated[float, Field(strict=True, gt=0.0, le=180.0)]
Presets = Annotated[list[Azimuth], Field(max_length=32)]
SnapshotUrl = Annotated[HttpUrl, Field(max_length=2048)]
CruiseInterval = Annotated[float, Field(strict=True, ge=1.0, le=86_400.0)]

Reader = Annotated[
    Principal,
    Depends(require_roles(Role.OPERATOR, Role.DISPATCHER, Role.RANGER, Role.SERVICE)),
]
# Frames come from the camera gateways, machine to machine.
FrameSource = Annotated[Principal, Depends(require_roles(Role.SERVICE))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


def frame_batcher(runtime: Runtime) -> FrameBatcher:
    batcher: FrameBatcher = runtime.state["frame_batcher"]
    return batcher


def frame_gate(runtime: Runtime) -> FrameGate:
    gate: FrameGate = runtime.state["frame_gate"]
    return gate


async def frame_limit(runtime: RuntimeDep) -> int:
    return settings_of(runtime).max_frame_bytes


FrameLimit = Annotated[int, Depends(frame_limit)]


async def camera_health(runtime: RuntimeDep) -> HealthPolicy:
    return health_policy(settings_of(runtime))


Health = Annotated[HealthPolicy, Depends(camera_health)]
# Seconds between frames: at most a day, as no camera is useful rarer than that.
Interval = Annotated[float, Field(strict=True, gt=0.0, le=86_400.0)]


class CameraCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: CameraId
    kind: CameraKind
    location: GeoPoint
    elevation_m: Elevation
    heading_deg: Azimuth
    hfov_deg: Hfov
    presets: Presets = Field(default_factory=list)
    snapshot_url: SnapshotUrl | None = None
    status: CameraStatus = CameraStatus.ONLINE
    expected_interval_s: Interval | None = Field(
        default=None,
        description="Seconds between the frames the camera pushes; without it, a camera "
        "with a snapshot URL is expected at its cruise interval, and one without is never "
        "judged offline",
    )
    cruise_interval_s: CruiseInterval | None = Field(
        default=None,
        description="Seconds per preset pose of the snapshot cruise; default the service's",
    )
    cell_id: CellId | None = None

    @field_validator("presets")
    @classmethod
    def _distinct_presets(cls, presets: list[float]) -> list[float]:
        return _distinct(presets)


def _distinct(presets: list[float]) -> list[float]:
    if len(set(presets)) != len(presets):
        raise ValueError("preset azimuths must be distinct")
    return presets


class CameraUpdate(BaseModel):
    """The fields to change, each checked as at registration; a field left out stays
    as it is. Null clears snapshot_url (the cruise stops), the intervals (back to the
    defaults) and cell_id; the other fields cannot be cleared."""

    model_config = ConfigDict(extra="forbid")

    location: GeoPoint | None = None
    elevation_m: Elevation | None = None
    heading_deg: Azimuth | None = None
    hfov_deg: Hfov | None = None
    presets: Presets | None = None
    snapshot_url: SnapshotUrl | None = None
    expected_interval_s: Interval | None = None
    cruise_interval_s: CruiseInterval | None = None
    cell_id: CellId | None = None

    @field_validator("location", "elevation_m", "heading_deg", "hfov_deg", "presets", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Only a value sent is validated: null here is an explicit attempt to clear.
        if value is None:
            raise ValueError("may be changed but not removed")
        return value

    @field_validator("presets")
    @classmethod
    def _distinct_presets(cls, presets: list[float] | None) -> list[float] | None:
        return None if presets is None else _distinct(presets)

    def changes(self) -> dict[str, Any]:
        """The fields sent, as the registry stores them."""
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            out[name] = str(value) if name == "snapshot_url" and value is not None else value
        return out


class CameraProperties(BaseModel):
    """A camera's registry entry, all but its place (a GeoJSON feature's properties)."""

    id: str
    kind: CameraKind
    elevation_m: float
    heading_deg: float
    hfov_deg: float
    presets: list[float]
    snapshot_url: str | None
    status: CameraStatus
    registered_at: datetime
    last_frame_at: datetime | None
    active_alarm_ids: list[str] = Field(
        description="Fire alarms on this camera's view that are not yet put out or dismissed"
    )
    expected_interval_s: float | None
    cruise_interval_s: float | None
    frame_due_by: datetime | None = Field(
        description="Without a frame by then, the camera goes offline; null: never judged"
    )
    next_poll_at: datetime | None = Field(
        description="When the cruise polls the camera's snapshot URL next; null: not cruised"
    )
    last_polled_at: datetime | None
    poll_failures: int = Field(description="Snapshot polls failed in a row")
    last_poll_error: str | None
    last_poll_error_at: datetime | None
    cell_id: str | None = Field(description="The grid-events cell the camera stands in")


class CameraRead(CameraProperties):
    location: GeoPoint


class CameraFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: GeoPoint
    properties: CameraProperties


class CameraFeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection (RFC 7946) of one page of cameras; ``total``,
    ``limit`` and ``offset`` are foreign members, as in the JSON list."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[CameraFeature]
    total: int
    limit: int
    offset: int


def camera_features(
    cameras: list[dict[str, Any]], *, total: int, page: PageParams
) -> CameraFeatureCollection:
    features = []
    for camera in cameras:
        read = CameraRead.model_validate(camera)
        features.append(
            CameraFeature(
                id=read.id,
                geometry=read.location,
                properties=CameraProperties.model_validate(read.model_dump(exclude={"location"})),
            )
        )
    return CameraFeatureCollection(
        features=features, total=total, limit=page.limit, offset=page.offset
    )


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


@dataclass(frozen=True, slots=True)
class CameraFilter:
    kind: CameraKind | None
    status: CameraStatus | None
    bbox: BoundingBox | None
    near: GeoPoint | None
    radius_m: float | None
    cell_id: str | None = None


async def camera_filter(
    kind: CameraKind | None = None,
    status_: Annotated[CameraStatus | None, Query(alias="status")] = None,
    cell_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9._:-]+$",
            description="Only cameras in this grid-events cell",
        ),
    ] = None,
    bbox: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only cameras inside west,south,east,north (WGS 84 degrees)",
            examples=["105.80,29.20,106.05,29.50"],
        ),
    ] = None,
    near_lon: Annotated[
        QueryLongitude | None, Query(description="Nearest first to this point (with near_lat)")
    ] = None,
    near_lat: Annotated[QueryLatitude | None, Query(description="See near_lon")] = None,
    radius_m: Annotated[
        float | None,
        Query(gt=0.0, le=1_000_000.0, description="With near_lon/near_lat: only this close"),
    ] = None,
) -> CameraFilter:
    area = None
    if bbox is not None:
        try:
            area = parse_bbox(bbox)
        except BadArea as exc:
            raise validation_failed("query.bbox", str(exc), code="bad_bbox") from exc
    if (near_lon is None) != (near_lat is None):
        missing = "query.near_lat" if near_lat is None else "query.near_lon"
        raise validation_failed(missing, "near_lon and near_lat go together", code="missing")
    near = None
    if near_lon is not None and near_lat is not None:
        near = GeoPoint.of(near_lon, near_lat)
    if radius_m is not None and near is None:
        raise validation_failed(
            "query.radius_m", "radius_m needs near_lon and near_lat", code="missing"
        )
    return CameraFilter(kind, status_, area, near, radius_m, cell_id)


Filter = Annotated[CameraFilter, Depends(camera_filter)]


async def _cameras(
    uow: UowDep, page: PageParams, where: CameraFilter
) -> tuple[list[dict[str, Any]], int]:
    return await handlers.list_cameras(
        uow,
        kind=where.kind.value if where.kind else None,
        status=where.status.value if where.status else None,
        bbox=where.bbox,
        near=where.near,
        radius_m=where.radius_m,
        cell_id=where.cell_id,
        limit=page.limit,
        offset=page.offset,
    )


class FrameReceipt(BaseModel):
    camera_id: str
    camera_kind: CameraKind
    content_type: str
    width: int
    height: int
    bytes: int
    captured_at: datetime
    pan_deg: float


@router.post("/cameras", status_code=status.HTTP_201_CREATED, response_model=CameraRead)
async def register_camera(
    body: CameraCreate, runtime: RuntimeDep, uow: UowDep, health: Health, _: Admin
) -> CameraRead:
    """Register a camera with its place, view and patrol presets; one with a snapshot
    URL is polled from now on, one pose at a time."""
    camera = await handlers.register_camera(
        uow,
        camera_id=body.id,
        kind=body.kind,
        location=body.location,
        elevation_m=body.elevation_m,
        heading_deg=body.heading_deg,
        hfov_deg=body.hfov_deg,
        presets=body.presets,
        snapshot_url=str(body.snapshot_url) if body.snapshot_url else None,
        status=body.status,
        expected_interval_s=body.expected_interval_s,
        cruise_interval_s=body.cruise_interval_s,
        cell_id=body.cell_id,
        health=health,
        now=datetime.now(UTC),
    )
    # Its frames have their priority here at once; other replicas read it shortly.
    frame_gate(runtime).priorities.note(body.id, body.kind)
    return CameraRead.model_validate(camera)


@router.patch(
    "/cameras/{camera_id}",
    response_model=CameraRead,
    responses={404: {"description": "Unknown camera"}},
)
async def update_camera(
    camera_id: str, body: CameraUpdate, uow: UowDep, health: Health, _: Admin
) -> CameraRead:
    """Change a camera's place, view, presets, snapshot URL, intervals or grid cell.

    A new snapshot URL starts its cruise now (from the first preset if the presets
    change too); removing it stops the cruise. A changed place, elevation, heading,
    field of view or presets is announced again as city.camera.registered.v1."""
    camera = await handlers.update_camera(
        uow, camera_id, changes=body.changes(), health=health, now=datetime.now(UTC)
    )
    return CameraRead.model_validate(camera)


@router.get("/cameras", response_model=Page[CameraRead])
async def list_cameras(uow: UowDep, page: PageDep, where: Filter, _: Reader) -> Page[CameraRead]:
    """Cameras by id, or nearest first with near_lon/near_lat."""
    items, total = await _cameras(uow, page, where)
    return Page.of(CameraRead, items, total=total, page=page)


@router.get(
    "/cameras.geojson",
    response_model=CameraFeatureCollection,
    response_class=GeoJSONResponse,
)
async def list_camera_features(
    uow: UowDep, page: PageDep, where: Filter, _: Reader
) -> CameraFeatureCollection:
    """The same list as GeoJSON: a FeatureCollection of points, paged alike."""
    items, total = await _cameras(uow, page, where)
    return camera_features(items, total=total, page=page)


@router.get("/cameras/{camera_id}", response_model=CameraRead)
async def get_camera(camera_id: str, uow: UowDep, _: Reader) -> CameraRead:
    return CameraRead.model_validate(await handlers.get_camera(uow, camera_id))


@router.delete("/cameras/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_camera(camera_id: str, uow: UowDep, _: Admin) -> Response:
    """Take a camera out of the registry, with its snapshot and alarm records."""
    await handlers.remove_camera(uow, camera_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Room for a multipart form's boundaries and part headers around the frame.
MULTIPART_OVERHEAD = 16 * 1024


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Payload Too Large",
        f"a frame may be at most {limit} bytes",
        type_=PROBLEM_BASE + "payload-too-large",
    )


async def _read_body(request: Request, limit: int, *, slack: int = 0) -> bytes:
    """The body, refused (413, naming ``limit``) past ``limit + slack`` bytes."""
    most = limit + slack
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > most:
        raise _too_large(limit)
    # Chunked uploads have no length up front: stop reading as soon as one is too big.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > most:
            raise _too_large(limit)
    return bytes(body)


@router.post(
    "/cameras/{camera_id}/frames",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=FrameReceipt,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The frame as captured, a JPEG or PNG image",
            "content": {
                **{t: {"schema": {"type": "string", "format": "binary"}} for t in FRAME_TYPES},
                MULTIPART: {
                    "schema": {
                        "type": "object",
                        "properties": {"frame": {"type": "string", "format": "binary"}},
                        "required": ["frame"],
                    }
                },
            },
        }
    },
    responses={
        404: {"description": "Unknown camera"},
        413: {"description": "The frame is larger than the limit"},
        415: {"description": "Not a JPEG or PNG content type"},
        422: {"description": "The image cannot be decoded, or the capture time is implausible"},
        503: {"description": "Refused at capacity (Retry-After); send the next frame as usual"},
    },
)
async def take_frame(
    camera_id: str,
    request: Request,
    runtime: RuntimeDep,
    limit: FrameLimit,
    _: FrameSource,
    captured_at: Annotated[
        AwareDatetime, Query(description="When the camera captured the frame, ISO 8601 with offset")
    ],
    pan_deg: Annotated[
        float | None,
        Query(ge=0.0, lt=360.0, description="Pan azimuth at capture; default the heading"),
    ] = None,
) -> FrameReceipt:
    """Accept a frame: it becomes the camera's snapshot and goes to fire detection.

    Frames arriving together are written together (one transaction); each gets its
    own answer. At capacity a frame is refused at once with 503 and Retry-After, frames of
    cameras without priority (all but forest cameras, by default) first."""
    gate = frame_gate(runtime)
    if not gate.try_enter(camera_id):
        raise Problem(
            503,
            "Service Unavailable",
            "video-ingest is taking as many frames as it can; this one was refused, "
            "frames of cameras without priority first. Send the next frame as usual.",
            type_=PROBLEM_BASE + "frame-refused-at-capacity",
            headers={"Retry-After": "1"},
        )
    try:
        receipt = await _take_frame(
            camera_id,
            request,
            frame_batcher(runtime),
            limit,
            captured_at=captured_at,
            pan_deg=pan_deg,
        )
    finally:
        gate.leave()
    gate.priorities.note(camera_id, receipt.camera_kind)
    return receipt


async def _take_frame(
    camera_id: str,
    request: Request,
    batcher: FrameBatcher,
    limit: int,
    *,
    captured_at: datetime,
    pan_deg: float | None,
) -> FrameReceipt:
    content_type = request.headers.get("content-type") or ""
    declared = media_type(content_type)
    if declared == MULTIPART:
        # The form's own framing is small; the frame inside is held to the limit below.
        body = await _read_body(request, limit, slack=MULTIPART_OVERHEAD)
        try:
            image, part_type = frame_from_multipart(body, content_type)
        except BadMultipart as exc:
            raise Problem(
                422,
                "Validation failed",
                str(exc),
                errors=[{"field": "body", "reason": str(exc), "code": "bad_multipart"}],
            ) from exc
        if len(image) > limit:
            raise _too_large(limit)
        # A part without its own type is judged by its bytes.
        declared = part_type if part_type in FRAME_TYPES else (part_type or JPEG)
    elif declared in FRAME_TYPES:
        image = await _read_body(request, limit)
    else:
        declared = None
    if declared not in FRAME_TYPES:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"a frame must be sent as {' or '.join(FRAME_TYPES)} (the raw body, or the part "
            f"named 'frame' of multipart/form-data), not "
            f"{media_type(content_type) or 'nothing'}",
            type_=PROBLEM_BASE + "unsupported-media-type",
        )
    frame = handlers.check_frame(
        camera_id=camera_id,
        image=image,
        declared_type=declared,
        captured_at=captured_at,
        pan_deg=pan_deg,
        received_at=datetime.now(UTC),
    )
    return FrameReceipt.model_validate(await batcher.take(frame))


@router.get(
    "/cameras/{camera_id}/snapshot",
    response_class=Response,
    responses={
        200: {
            "description": "The camera's latest frame",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in FRAME_TYPES},
        },
        404: {"description": "Unknown camera, or no frame yet"},
    },
)
async def snapshot(camera_id: str, uow: UowDep, _: Reader) -> Response:
    """The camera's latest frame, as the camera sent it."""
    frame = await handlers.snapshot(uow, camera_id)
    captured_at: datetime = frame["captured_at"]
    return Response(
        content=frame["image"],
        media_type=frame["content_type"],
        headers={
            "Last-Modified": format_datetime(captured_at.astimezone(UTC), usegmt=True),
            "Cache-Control": "no-store",
        },
    )
