"""Frame admission at capacity: priority cameras keep the slots others may not take."""

from __future__ import annotations

import pytest

from video_ingest.domain.admission import FrameAdmission


def test_low_priority_frames_are_refused_first_and_priority_ones_keep_their_slots() -> None:
    admission = FrameAdmission(max_in_flight=4, max_low_priority=2)
    assert admission.try_enter(priority=False)
    assert admission.try_enter(priority=False)
    # Two traffic frames in flight: a third is refused, a forest frame is not.
    assert not admission.try_enter(priority=False)
    assert admission.try_enter(priority=True)
    assert admission.try_enter(priority=True)
    # Every slot taken: even a forest frame is refused now.
    assert not admission.try_enter(priority=True)
    assert admission.in_flight == 4

    # Forest frames in flight count against the low-priority share too.
    admission.leave()
    assert not admission.try_enter(priority=False)
    assert admission.try_enter(priority=True)
    for _ in range(4):
        admission.leave()
    assert admission.in_flight == 0
    assert admission.try_enter(priority=False)


def test_slots_cannot_be_given_back_twice_and_limits_must_nest() -> None:
    admission = FrameAdmission(max_in_flight=1, max_low_priority=1)
    with pytest.raises(RuntimeError):
        admission.leave()
    with pytest.raises(ValueError):
        FrameAdmission(max_in_flight=2, max_low_priority=3)
    with pytest.raises(ValueError):
        FrameAdmission(max_in_flight=2, max_low_priority=0)
