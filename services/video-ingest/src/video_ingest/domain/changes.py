"""What changing a registered camera does to its cruise and health schedule. Pure logic.

A camera's schedule (when it is polled next, from which pose, when it owes a frame)
follows from its terms: snapshot URL, presets and intervals. When an admin changes
the terms, the schedule is brought in line with them here rather than left to
produce polls or outages the new terms would not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from video_ingest.domain.health import HealthPolicy

# What fire detection locates a fire from: a change to any of them is announced again
# (city.camera.registered.v1), so that the camera's view there moves with it.
VIEW_FIELDS = frozenset({"location", "elevation_m", "heading_deg", "hfov_deg", "presets"})


@dataclass(frozen=True, slots=True)
class Terms:
    """What a camera's schedule depends on."""

    snapshot_url: str | None
    presets: tuple[float, ...]
    expected_interval_s: float | None
    cruise_interval_s: float | None


@dataclass(frozen=True, slots=True)
class Schedule:
    next_poll_at: datetime | None
    next_preset: int
    poll_failures: int
    frame_due_by: datetime | None


def changed_fields(current: Mapping[str, Any], proposed: Mapping[str, Any]) -> frozenset[str]:
    """The fields of ``proposed`` whose value differs from ``current``'s."""
    return frozenset(name for name, value in proposed.items() if current.get(name) != value)


def rescheduled(
    before: Terms,
    after: Terms,
    schedule: Schedule,
    *,
    health: HealthPolicy,
    now: datetime,
) -> Schedule:
    """The schedule of a camera whose terms change from ``before`` to ``after`` at ``now``.

    - No snapshot URL any more: the cruise stops (and would start afresh later).
    - A new or different snapshot URL: the cruise starts now, its failures forgotten
      (they were another URL's).
    - Different presets: the tour starts again from the first pose, as the index
      pointed into the old list.
    - A different cruise interval: the next poll is no later than one new interval
      from now, so shortening a long interval takes effect at once.
    - A different expected frame interval (declared, or the cruise's): the camera owes
      its next frame one full new allowance from now, as at registration; it is never
      taken offline for frames the old terms did not ask of it, nor kept online by an
      allowance the new terms no longer give. Never judged any more: no due time.
    """
    new = schedule
    presets_changed = before.presets != after.presets
    if after.snapshot_url is None:
        new = replace(new, next_poll_at=None, next_preset=0, poll_failures=0)
    elif after.snapshot_url != before.snapshot_url or new.next_poll_at is None:
        new = replace(
            new,
            next_poll_at=now,
            next_preset=0 if presets_changed else new.next_preset,
            poll_failures=0,
        )
    else:
        if presets_changed:
            new = replace(new, next_preset=0)
        if after.cruise_interval_s != before.cruise_interval_s and new.next_poll_at is not None:
            soonest = now + timedelta(seconds=_cruise_interval(after, health))
            new = replace(new, next_poll_at=min(new.next_poll_at, soonest))

    expected_before = _expected(before, health)
    expected_after = _expected(after, health)
    if expected_after != expected_before:
        new = replace(
            new,
            frame_due_by=health.frame_due_by(
                now,
                declared_s=after.expected_interval_s,
                has_snapshot_url=after.snapshot_url is not None,
                cruise_interval_s=after.cruise_interval_s,
            ),
        )
    return new


def _cruise_interval(terms: Terms, health: HealthPolicy) -> float:
    if terms.cruise_interval_s is not None:
        return terms.cruise_interval_s
    return health.cruise_interval_s


def _expected(terms: Terms, health: HealthPolicy) -> float | None:
    return health.expected_interval_s(
        declared_s=terms.expected_interval_s,
        has_snapshot_url=terms.snapshot_url is not None,
        cruise_interval_s=terms.cruise_interval_s,
    )


def terms_of(camera: Mapping[str, Any]) -> Terms:
    """The terms of a camera as the registry holds it."""
    presets: Sequence[float] = camera["presets"]
    return Terms(
        snapshot_url=camera["snapshot_url"],
        presets=tuple(presets),
        expected_interval_s=camera["expected_interval_s"],
        cruise_interval_s=camera["cruise_interval_s"],
    )


def schedule_of(camera: Mapping[str, Any]) -> Schedule:
    return Schedule(
        next_poll_at=camera["next_poll_at"],
        next_preset=camera["next_preset"],
        poll_failures=camera["poll_failures"],
        frame_due_by=camera["frame_due_by"],
    )
