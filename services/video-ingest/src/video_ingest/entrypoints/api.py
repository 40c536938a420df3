"""REST API of video-ingest."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, field_validator

from city_common.auth import Principal, Role, require_roles
from city_common.events.schemas import CameraKind
from city_common.geo import GeoPoint
from city_common.runtime import RuntimeDep, UowDep
from city_common.web.pagination import Page, PageDep
from city_common.web.problems import PROBLEM_BASE, Problem
from video_ingest.config import settings_of
from video_ingest.domain.images import FRAME_TYPES, media_type
from video_ingest.domain.model import CameraStatus
from video_ingest.service_layer import handlers

router = APIRouter(prefix="", tags=["cameras"])

CameraId = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]
Azimuth = Annotated[float, Field(strict=True, ge=0.0, lt=360.0)]

Reader = Annotated[
    Principal,
    Depends(require_roles(Role.OPERATOR, Role.DISPATCHER, Role.RANGER, Role.SERVICE)),
]
# Frames come from the camera gateways, machine to machine.
FrameSource = Annotated[Principal, Depends(require_roles(Role.SERVICE))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


def frame_limit(runtime: RuntimeDep) -> int:
    return settings_of(runtime).max_frame_bytes


FrameLimit = Annotated[int, Depends(frame_limit)]


class CameraCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: CameraId
    kind: CameraKind
    location: GeoPoint
    elevation_m: float = Field(strict=True, ge=-500.0, le=9000.0)
    heading_deg: Azimuth
    hfov_deg: float = Field(strict=True, gt=0.0, le=180.0)
    presets: list[Azimuth] = Field(default_factory=list, max_length=32)
    snapshot_url: HttpUrl | None = Field(default=None, max_length=2048)
    status: CameraStatus = CameraStatus.ONLINE

    @field_validator("presets")
    @classmethod
    def _distinct_presets(cls, presets: list[float]) -> list[float]:
        if len(set(presets)) != len(presets):
            raise ValueError("preset azimuths must be distinct")
        return presets


class CameraRead(BaseModel):
    id: str
    kind: CameraKind
    location: GeoPoint
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


class FrameReceipt(BaseModel):
    camera_id: str
    content_type: str
    width: int
    height: int
    bytes: int
    captured_at: datetime
    pan_deg: float


@router.post("/cameras", status_code=status.HTTP_201_CREATED, response_model=CameraRead)
async def register_camera(body: CameraCreate, uow: UowDep, _: Admin) -> CameraRead:
    """Register a camera with its place, view and patrol presets."""
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
    )
    return CameraRead.model_validate(camera)


@router.get("/cameras", response_model=Page[CameraRead])
async def list_cameras(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    kind: CameraKind | None = None,
    status_: Annotated[CameraStatus | None, Query(alias="status")] = None,
) -> Page[CameraRead]:
    items, total = await handlers.list_cameras(
        uow,
        kind=kind.value if kind else None,
        status=status_.value if status_ else None,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(CameraRead, items, total=total, page=page)


@router.get("/cameras/{camera_id}", response_model=CameraRead)
async def get_camera(camera_id: str, uow: UowDep, _: Reader) -> CameraRead:
    return CameraRead.model_validate(await handlers.get_camera(uow, camera_id))


@router.delete("/cameras/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_camera(camera_id: str, uow: UowDep, _: Admin) -> Response:
    """Take a camera out of the registry, with its snapshot and alarm records."""
    await handlers.remove_camera(uow, camera_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _read_body(request: Request, limit: int) -> bytes:
    too_large = Problem(
        413,
        "Payload Too Large",
        f"a frame may be at most {limit} bytes",
        type_=PROBLEM_BASE + "payload-too-large",
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    # Chunked uploads have no length up front: stop reading as soon as one is too big.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


@router.post(
    "/cameras/{camera_id}/frames",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=FrameReceipt,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The frame as captured, a JPEG or PNG image",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in FRAME_TYPES},
        }
    },
    responses={
        404: {"description": "Unknown camera"},
        413: {"description": "The frame is larger than the limit"},
        415: {"description": "Not a JPEG or PNG content type"},
        422: {"description": "The image cannot be decoded, or the capture time is implausible"},
    },
)
async def take_frame(
    camera_id: str,
    request: Request,
    uow: UowDep,
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
    """Accept a frame: it becomes the camera's snapshot and goes to fire detection."""
    declared = media_type(request.headers.get("content-type"))
    if declared not in FRAME_TYPES:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"a frame must be sent as {' or '.join(FRAME_TYPES)}, not {declared or 'nothing'}",
            type_=PROBLEM_BASE + "unsupported-media-type",
        )
    image = await _read_body(request, limit)
    receipt = await handlers.take_frame(
        uow,
        camera_id=camera_id,
        image=image,
        declared_type=declared,
        captured_at=captured_at,
        pan_deg=pan_deg,
    )
    return FrameReceipt.model_validate(receipt)


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
