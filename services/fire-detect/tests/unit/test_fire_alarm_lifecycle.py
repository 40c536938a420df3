"""The fire alarm lifecycle and the per-camera frame tally, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from city_common.events.schemas import FireAlarmStatus as S
from fire_detect.domain.model import (
    NEXT_STATUSES,
    FrameSeen,
    FrameTally,
    InvalidTransition,
    tally,
    transition,
)

ALLOWED = {
    (S.RAISED, S.VERIFIED),
    (S.RAISED, S.DISMISSED),
    (S.VERIFIED, S.DISPATCHED),
    (S.DISPATCHED, S.ON_SCENE),
    (S.ON_SCENE, S.EXTINGUISHED),
    (S.EXTINGUISHED, S.CLOSED),
}


def test_every_status_has_its_place_in_the_table() -> None:
    assert set(NEXT_STATUSES) == set(S)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_moves(current: S, target: S) -> None:
    assert transition(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [pair for pair in product(S, S) if pair not in ALLOWED],
)
def test_every_other_move_is_refused(current: S, target: S) -> None:
    with pytest.raises(InvalidTransition):
        transition(current, target)


@pytest.mark.parametrize(
    ("current", "target", "detail"),
    [
        (
            S.RAISED,
            S.CLOSED,
            "a fire alarm that is 'raised' can move to 'dismissed' or 'verified', not 'closed'",
        ),
        (
            S.VERIFIED,
            S.ON_SCENE,
            "a fire alarm that is 'verified' can move to 'dispatched', not 'on_scene'",
        ),
        (S.VERIFIED, S.VERIFIED, "the fire alarm is already 'verified'"),
        (
            S.DISMISSED,
            S.VERIFIED,
            "a fire alarm that is 'dismissed' is final and cannot move to 'verified'",
        ),
        (S.CLOSED, S.RAISED, "a fire alarm that is 'closed' is final and cannot move to 'raised'"),
    ],
)
def test_a_refusal_says_what_is_possible(current: S, target: S, detail: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        transition(current, target)
    assert str(refused.value) == detail


T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def tally_of(*frames: FrameSeen) -> list[FrameTally]:
    return tally(frames)


def seen(camera: str, seconds: int, pan: float, content_type: str = "image/jpeg") -> FrameSeen:
    return FrameSeen(camera, "forest", T0 + timedelta(seconds=seconds), pan, content_type)


def test_a_batch_tallies_each_camera_once_by_latest_capture() -> None:
    tallies = tally_of(
        seen("tower-2", 5, 10.0),
        seen("tower-1", 1, 90.0),
        seen("tower-1", 3, 120.0, "image/png"),
        seen("tower-1", 2, 100.0),  # arrived late: counted, not the latest
        seen("tower-2", 4, 20.0),
    )
    assert tallies == [
        FrameTally("tower-1", "forest", 3, T0 + timedelta(seconds=3), 120.0, "image/png"),
        FrameTally("tower-2", "forest", 2, T0 + timedelta(seconds=5), 10.0, "image/jpeg"),
    ]


def test_on_equal_capture_times_the_later_delivery_wins() -> None:
    (only,) = tally_of(seen("tower-1", 1, 90.0), seen("tower-1", 1, 95.0))
    assert only.frames == 2 and only.last_pan_deg == 95.0


def test_no_frames_no_tallies() -> None:
    assert tally_of() == []
