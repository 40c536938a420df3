"""Payload schemas of every cross-service event: this module is the contract.

Rules that keep consumers safe: payloads forbid unknown fields, datetimes carry a
UTC offset, places are GeoJSON in WGS 84, and a breaking change gets a new
``.vN`` type rather than an edit here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from city_common.geo import GeoPoint

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- cameras (video-ingest) -------------------------------------------------


class CameraKind(StrEnum):
    FOREST = "forest"
    TRAFFIC = "traffic"
    PUBLIC_SAFETY = "public-safety"


class FrameCaptured(EventPayload):
    """Metadata of a camera frame. On the wire the frame event's data is the image
    itself; these fields travel as CloudEvents extension attributes."""

    camera_id: Identifier
    camera_kind: CameraKind
    captured_at: AwareDatetime
    pan_azimuth_deg: float = Field(ge=0.0, lt=360.0)
    tilt_deg: float = Field(default=0.0, ge=-90.0, le=90.0)


class CameraRegistered(EventPayload):
    """A camera joined the registry (or was registered again): where it stands and
    how wide it sees, which is what locating a fire along its bearing needs."""

    camera_id: Identifier
    camera_kind: CameraKind
    location: GeoPoint
    elevation_m: float = Field(ge=-500.0, le=9000.0)
    heading_deg: float = Field(ge=0.0, lt=360.0)
    hfov_deg: float = Field(gt=0.0, le=180.0)
    presets: list[float] = Field(default_factory=list, max_length=32)
    registered_at: AwareDatetime


class CameraStatusChanged(EventPayload):
    camera_id: Identifier
    camera_kind: CameraKind
    status: Literal["online", "offline"]
    since: AwareDatetime
    last_frame_at: AwareDatetime | None = None
    location: GeoPoint


# --- forest fire (fire-detect) ---------------------------------------------


class FireAlarmStatus(StrEnum):
    RAISED = "raised"
    VERIFIED = "verified"
    DISMISSED = "dismissed"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    EXTINGUISHED = "extinguished"
    CLOSED = "closed"


class FireAlarmRaised(EventPayload):
    alarm_id: Identifier
    camera_id: Identifier | None = None
    raised_at: AwareDatetime
    location: GeoPoint
    uncertainty_m: float = Field(ge=0.0)
    confidence: float = Field(ge=0.0, le=1.0)
    danger_level: int = Field(ge=1, le=5, description="Forest fire danger rating, 1 (low) to 5")
    kind: Literal["flame", "smoke", "flame_and_smoke", "reported"] = "flame_and_smoke"


class FireAlarmStatusChanged(EventPayload):
    alarm_id: Identifier
    status: FireAlarmStatus
    at: AwareDatetime
    actor: str = Field(min_length=1, max_length=128)
    note: str | None = Field(default=None, max_length=2000)
    location: GeoPoint


# --- environment (air-water) -----------------------------------------------


class EnvMedium(StrEnum):
    AIR = "air"
    WATER = "water"


class ExceedanceDetected(EventPayload):
    exceedance_id: Identifier
    cell_id: Identifier
    medium: EnvMedium
    pollutant: str = Field(min_length=1, max_length=32)
    concentration: float = Field(ge=0.0)
    limit: float = Field(gt=0.0)
    surrounding_mean: float | None = Field(default=None, ge=0.0)
    unit: str = Field(min_length=1, max_length=16)
    observed_hour: AwareDatetime
    location: GeoPoint


class ExceedanceClosed(EventPayload):
    exceedance_id: Identifier
    cell_id: Identifier
    closed_at: AwareDatetime
    resolution: str = Field(max_length=2000)


# --- traffic (traffic-signal / video-ingest) -------------------------------


class TrafficIncidentKind(StrEnum):
    COLLISION = "collision"
    BREAKDOWN = "breakdown"
    CONGESTION = "congestion"
    ROAD_DAMAGE = "road_damage"
    WRONG_WAY = "wrong_way"


class TrafficIncidentDetected(EventPayload):
    incident_id: Identifier
    kind: TrafficIncidentKind
    detected_at: AwareDatetime
    location: GeoPoint
    severity: int = Field(ge=1, le=5)
    camera_id: Identifier | None = None
    intersection_id: Identifier | None = None


class TrafficIncidentCleared(EventPayload):
    incident_id: Identifier
    cleared_at: AwareDatetime


# --- grid governance (grid-events) -----------------------------------------


class GridCaseStatus(StrEnum):
    OPENED = "opened"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ESCALATED = "escalated"


class GridCaseSource(BaseModel):
    """What raised the case, so the raising service can close its own loop."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal[
        "fire_alarm", "camera", "exceedance", "traffic_incident", "citizen", "grid_worker"
    ]
    ref: str = Field(min_length=1, max_length=64)


class GridCaseChanged(EventPayload):
    case_id: Identifier
    status: GridCaseStatus
    category: str = Field(min_length=1, max_length=64)
    at: AwareDatetime
    cell_id: Identifier | None = None
    department: str | None = Field(default=None, max_length=64)
    source: GridCaseSource
    location: GeoPoint


# --- enterprise (enterprise-hub) -------------------------------------------


class PolicyPublished(EventPayload):
    policy_id: Identifier
    title: str = Field(min_length=1, max_length=256)
    department: str = Field(min_length=1, max_length=128)
    published_at: AwareDatetime
    industries: list[str] = Field(default_factory=list, max_length=50)
