"""Fire alarms, their lifecycle, and what the frames tell about each camera. Pure logic, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from city_common.events.schemas import FireAlarmStatus

Status = FireAlarmStatus

# The only ways an alarm moves: a ranger verifies or dismisses it, a crew is sent,
# arrives, puts the fire out, and the alarm is closed.
NEXT_STATUSES: Mapping[FireAlarmStatus, frozenset[FireAlarmStatus]] = {
    Status.RAISED: frozenset({Status.VERIFIED, Status.DISMISSED}),
    Status.VERIFIED: frozenset({Status.DISPATCHED}),
    Status.DISPATCHED: frozenset({Status.ON_SCENE}),
    Status.ON_SCENE: frozenset({Status.EXTINGUISHED}),
    Status.EXTINGUISHED: frozenset({Status.CLOSED}),
    Status.DISMISSED: frozenset(),
    Status.CLOSED: frozenset(),
}

# A ranger who reports a fire has seen it; the place is a handheld GPS fix plus
# the ranger's estimate of the distance to the smoke.
REPORTED_CONFIDENCE = 1.0
REPORTED_UNCERTAINTY_M = 100.0


class ForestResourceKind(StrEnum):
    WATER_SOURCE = "water_source"
    ROAD_ACCESS = "road_access"
    HAZARD = "hazard"
    RANGER_STATION = "ranger_station"
    VILLAGE = "village"
    # A management unit of the forest: a polygon, the one that contains a fire names it.
    FOREST_COMPARTMENT = "forest_compartment"


class InvalidTransition(Exception):
    """The alarm cannot move from its status to the one asked for."""


def transition(current: FireAlarmStatus, target: FireAlarmStatus) -> FireAlarmStatus:
    """The alarm's next status, if the lifecycle allows the move."""
    allowed = NEXT_STATUSES[current]
    if target in allowed:
        return target
    if not allowed:
        raise InvalidTransition(
            f"a fire alarm that is '{current}' is final and cannot move to '{target}'"
        )
    if target == current:
        raise InvalidTransition(f"the fire alarm is already '{current}'")
    options = " or ".join(f"'{s}'" for s in sorted(allowed))
    raise InvalidTransition(
        f"a fire alarm that is '{current}' can move to {options}, not '{target}'"
    )


@dataclass(frozen=True, slots=True)
class FrameSeen:
    camera_id: str
    camera_kind: str
    captured_at: datetime
    pan_deg: float
    content_type: str


@dataclass(frozen=True, slots=True)
class FrameTally:
    """What a batch of frames says about one camera."""

    camera_id: str
    camera_kind: str
    frames: int
    last_frame_at: datetime
    last_pan_deg: float
    last_content_type: str


def tally(frames: Iterable[FrameSeen]) -> list[FrameTally]:
    """One tally per camera, by camera id; the latest-captured frame gives the 'last' values."""
    counts: dict[str, int] = {}
    latest: dict[str, FrameSeen] = {}
    for frame in frames:
        counts[frame.camera_id] = counts.get(frame.camera_id, 0) + 1
        known = latest.get(frame.camera_id)
        # On a tie the frame delivered later wins, as it would one by one.
        if known is None or frame.captured_at >= known.captured_at:
            latest[frame.camera_id] = frame
    return [
        FrameTally(
            camera_id=camera_id,
            camera_kind=latest[camera_id].camera_kind,
            frames=counts[camera_id],
            last_frame_at=latest[camera_id].captured_at,
            last_pan_deg=latest[camera_id].pan_deg,
            last_content_type=latest[camera_id].content_type,
        )
        for camera_id in sorted(counts)
    ]
