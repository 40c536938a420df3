"""When each frame a pose's tracker counted was captured, so that an alarm can say when
its sequence was first seen (the detection-to-alarm KPI). Pure logic, no I/O.

The tracker numbers a pose's frames 1, 2, 3...; its sightings carry those numbers,
not times. The capture time of each of the pose's last ``KEEP_FRAMES`` frames is kept
beside the tracker's state, in the same JSON document, under ``frame_times``: the
tracker's own fields are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fire_detect.domain.detection import TrackerState

# More than any alarm policy's window: a sequence's first sighting is always still known.
KEEP_FRAMES = 64
FIELD = "frame_times"

PoseKey = tuple[str, str]


class SequenceClock:
    """Capture times of the recent frames of each pose, by the tracker's frame number."""

    def __init__(self, times: dict[PoseKey, dict[int, datetime]] | None = None) -> None:
        self._times: dict[PoseKey, dict[int, datetime]] = times or {}

    @classmethod
    def from_states(cls, stored: Mapping[PoseKey, Mapping[str, Any]]) -> SequenceClock:
        times: dict[PoseKey, dict[int, datetime]] = {}
        for key, state in stored.items():
            raw = state.get(FIELD)
            if not isinstance(raw, dict):
                continue
            try:
                times[key] = {int(n): datetime.fromisoformat(str(at)) for n, at in raw.items()}
            except ValueError:
                # Written by another version: only this KPI is lost, never the tracker.
                continue
        return cls(times)

    def saw(self, key: PoseKey, frame: int, captured_at: datetime) -> None:
        times = self._times.setdefault(key, {})
        times[frame] = captured_at
        for old in [n for n in times if n <= frame - KEEP_FRAMES]:
            del times[old]

    def first_sighting(
        self, key: PoseKey, before: TrackerState, after: TrackerState
    ) -> datetime | None:
        """When the earliest track that alarmed in this update was first seen."""
        was_alarmed = {t.id for t in before.tracks if t.alarmed}
        times = self._times.get(key, {})
        found = [
            times[t.sightings[0].frame]
            for t in after.tracks
            if t.alarmed and t.id not in was_alarmed and t.sightings[0].frame in times
        ]
        return min(found) if found else None

    def stamped(self, key: PoseKey, state: dict[str, Any]) -> dict[str, Any]:
        """The tracker's JSON with this pose's frame times beside it."""
        times = self._times.get(key, {})
        return {**state, FIELD: {str(n): at.isoformat() for n, at in sorted(times.items())}}
