"""Cameras, their frames' timing and the fire alarms raised on them. Pure logic, no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from city_common.events.schemas import FireAlarmStatus

# A camera's clock may run a little ahead of ours; more than this is a wrong clock.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
# Older frames are of no use for detection, and would replace a fresher snapshot.
MAX_FRAME_AGE = timedelta(hours=24)

# An alarm still needs the camera's eyes until it is put out, dismissed or closed.
ACTIVE_ALARM_STATUSES = frozenset(
    {
        FireAlarmStatus.RAISED,
        FireAlarmStatus.VERIFIED,
        FireAlarmStatus.DISPATCHED,
        FireAlarmStatus.ON_SCENE,
    }
)


class CameraStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class CaptureTimeOutOfRange(ValueError):
    """The frame's capture time is too far in the future or the past."""


def check_capture_time(captured_at: datetime, *, now: datetime) -> None:
    """Refuse capture times that a working camera clock cannot produce."""
    if captured_at > now + MAX_CLOCK_AHEAD:
        raise CaptureTimeOutOfRange(
            f"captured_at is more than {int(MAX_CLOCK_AHEAD.total_seconds() // 60)} minutes "
            "in the future; check the camera's clock"
        )
    if captured_at < now - MAX_FRAME_AGE:
        raise CaptureTimeOutOfRange(
            f"captured_at is more than {int(MAX_FRAME_AGE.total_seconds() // 3600)} hours old"
        )


def comes_back_online(status: CameraStatus) -> bool:
    """Whether a frame from a camera in ``status`` means it is online again."""
    return status is CameraStatus.OFFLINE


def is_active_alarm(status: FireAlarmStatus) -> bool:
    return status in ACTIVE_ALARM_STATUSES
