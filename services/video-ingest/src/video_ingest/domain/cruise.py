"""The snapshot cruise of a camera: which pose comes next and when. Pure logic, no I/O.

A camera with a snapshot URL is polled once per pose, stepping through its preset
pan azimuths in order; each poll is due ``interval`` after the one before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# However long a camera keeps failing, it is tried at least this often (in intervals),
# so that it is seen coming back soon after it does.
MAX_BACKOFF_INTERVALS = 8


@dataclass(frozen=True, slots=True)
class Pose:
    """The pose of one poll: its preset index and pan, or no pan (the heading)."""

    index: int
    pan_deg: float | None


@dataclass(frozen=True, slots=True)
class NextPoll:
    """A camera's schedule after a poll."""

    due_at: datetime
    preset_index: int
    failures: int


def pose_at(presets: Sequence[float], index: int) -> Pose:
    """The pose at ``index`` of the tour; a camera without presets faces its heading."""
    if not presets:
        return Pose(0, None)
    index %= len(presets)
    return Pose(index, presets[index])


def backoff_intervals(failures: int) -> int:
    """Intervals until the next poll after ``failures`` polls failed in a row."""
    if failures <= 0:
        return 1
    return int(min(2 ** min(failures, 16), MAX_BACKOFF_INTERVALS))


def after_poll(
    *,
    presets: Sequence[float],
    pose: Pose,
    due_at: datetime,
    now: datetime,
    interval_s: float,
    failures_before: int,
    succeeded: bool,
) -> NextPoll:
    """The schedule after a poll of ``pose`` that was due at ``due_at``, finished at ``now``.

    The tour moves on either way: a pose that failed is tried again on the next round,
    not at once. The next poll keeps to the camera's cadence (due + interval) so small
    delays do not add up; a camera that fell a whole interval behind starts afresh
    from now rather than being polled in a burst to catch up.
    """
    failures = 0 if succeeded else failures_before + 1
    delay = timedelta(seconds=interval_s * backoff_intervals(failures))
    due = due_at + delay
    if due <= now:
        due = now + delay
    following = (pose.index + 1) % len(presets) if presets else 0
    return NextPoll(due_at=due, preset_index=following, failures=failures)
