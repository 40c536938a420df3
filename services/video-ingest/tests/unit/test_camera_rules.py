"""Capture-time plausibility, camera status and alarm activity, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from city_common.events.schemas import FireAlarmStatus
from video_ingest.domain.model import (
    CameraStatus,
    CaptureTimeOutOfRange,
    check_capture_time,
    comes_back_online,
    is_active_alarm,
)
from video_ingest.entrypoints.api import CameraCreate

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "offset",
    [timedelta(0), timedelta(minutes=5), -timedelta(hours=24), -timedelta(hours=3)],
)
def test_plausible_capture_times_pass(offset: timedelta) -> None:
    check_capture_time(NOW + offset, now=NOW)


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (timedelta(minutes=5, seconds=1), "future"),
        (-timedelta(hours=24, seconds=1), "hours old"),
    ],
)
def test_implausible_capture_times_are_refused(offset: timedelta, reason: str) -> None:
    with pytest.raises(CaptureTimeOutOfRange, match=reason):
        check_capture_time(NOW + offset, now=NOW)


def test_a_frame_brings_an_offline_camera_back() -> None:
    assert comes_back_online(CameraStatus.OFFLINE)
    assert not comes_back_online(CameraStatus.ONLINE)


@pytest.mark.parametrize(
    ("status", "active"),
    [
        (FireAlarmStatus.RAISED, True),
        (FireAlarmStatus.VERIFIED, True),
        (FireAlarmStatus.DISPATCHED, True),
        (FireAlarmStatus.ON_SCENE, True),
        (FireAlarmStatus.DISMISSED, False),
        (FireAlarmStatus.EXTINGUISHED, False),
        (FireAlarmStatus.CLOSED, False),
    ],
)
def test_which_alarms_are_active(status: FireAlarmStatus, active: bool) -> None:
    assert is_active_alarm(status) is active


def _camera(**change: object) -> dict[str, object]:
    return {
        "id": "cam-1",
        "kind": "forest",
        "location": {"type": "Point", "coordinates": [105.9, 29.3]},
        "elevation_m": 420.0,
        "heading_deg": 90.0,
        "hfov_deg": 60.0,
        **change,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"presets": [10.0, 10.0]}, "presets"),
        ({"presets": [float(i) for i in range(33)]}, "presets"),
        ({"presets": [360.0]}, "presets.0"),
        ({"heading_deg": 360}, "heading_deg"),
        ({"hfov_deg": 0}, "hfov_deg"),
        ({"hfov_deg": "60"}, "hfov_deg"),
        ({"snapshot_url": "ftp://cam/snap.jpg"}, "snapshot_url"),
    ],
)
def test_camera_bodies_are_checked_field_by_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CameraCreate.model_validate(_camera(**change))
    assert [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()] == [field]
