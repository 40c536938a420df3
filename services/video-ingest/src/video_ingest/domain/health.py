"""When a camera counts as offline. Pure logic, no I/O.

A camera is judged only where a frame rate is expected of it: a declared interval
(``expected_interval_s``, for cameras that push), or its cruise interval when this
service polls it. A camera with neither is never judged, and keeps the status it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    # Missed intervals after which a camera is offline: one missed frame is noise.
    offline_after_intervals: float
    # Default seconds per pose of the cruise. A snapshot camera is expected at its
    # cruise interval even where no process cruises: it then truly delivers nothing.
    cruise_interval_s: float

    def expected_interval_s(
        self,
        *,
        declared_s: float | None,
        has_snapshot_url: bool,
        cruise_interval_s: float | None,
    ) -> float | None:
        """Seconds between the frames a camera should deliver; None: it is not judged."""
        if declared_s is not None:
            return declared_s
        if has_snapshot_url:
            return cruise_interval_s if cruise_interval_s is not None else self.cruise_interval_s
        return None

    def frame_due_by(
        self,
        heard_at: datetime,
        *,
        declared_s: float | None,
        has_snapshot_url: bool,
        cruise_interval_s: float | None,
    ) -> datetime | None:
        """The time after which, without another frame, a camera heard at ``heard_at``
        is offline; None when it is never judged."""
        expected = self.expected_interval_s(
            declared_s=declared_s,
            has_snapshot_url=has_snapshot_url,
            cruise_interval_s=cruise_interval_s,
        )
        if expected is None:
            return None
        return heard_at + timedelta(seconds=expected * self.offline_after_intervals)
