"""When an alarm's sequence was first seen: the capture times kept beside the tracker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fire_detect.domain.detection import Box, FireCue, Sighting, Track, TrackerState
from fire_detect.domain.sequence_times import KEEP_FRAMES, SequenceClock

KEY = ("tower-a", "60.0/0.0")
T0 = datetime(2026, 4, 3, 15, 0, tzinfo=UTC)


def track(ident: int, frames: list[int], *, alarmed: bool) -> Track:
    box = Box(10, 10, 5, 5)
    return Track(
        ident,
        FireCue.FLAME,
        tuple(Sighting(f, box, 0.9, 0.5, 20, 200.0) for f in frames),
        alarmed=alarmed,
    )


def test_the_first_sighting_of_the_track_that_alarmed() -> None:
    clock = SequenceClock()
    for frame in range(1, 11):
        clock.saw(KEY, frame, T0 + timedelta(seconds=frame))
    before = TrackerState(frame=9, tracks=(track(1, [3, 5, 9], alarmed=False),))
    after = TrackerState(
        frame=10,
        tracks=(track(1, [3, 5, 9, 10], alarmed=True), track(2, [10], alarmed=False)),
    )
    assert clock.first_sighting(KEY, before, after) == T0 + timedelta(seconds=3)
    # A track that had already alarmed is not this alarm's sequence.
    assert clock.first_sighting(KEY, after, after) is None


def test_times_survive_the_round_trip_through_the_stored_state() -> None:
    clock = SequenceClock()
    clock.saw(KEY, 4, T0)
    stored = clock.stamped(KEY, {"frame": 4, "tracks": []})
    assert stored["frame"] == 4 and stored["frame_times"] == {"4": T0.isoformat()}
    again = SequenceClock.from_states({KEY: stored})
    after = TrackerState(frame=4, tracks=(track(1, [4], alarmed=True),))
    assert again.first_sighting(KEY, TrackerState(), after) == T0


def test_only_the_recent_frames_are_kept_and_bad_data_is_ignored() -> None:
    clock = SequenceClock()
    for frame in range(1, KEEP_FRAMES + 11):
        clock.saw(KEY, frame, T0 + timedelta(seconds=frame))
    kept = clock.stamped(KEY, {})["frame_times"]
    assert len(kept) == KEEP_FRAMES and min(int(n) for n in kept) == 11
    broken = SequenceClock.from_states({KEY: {"frame_times": {"x": "yesterday"}}})
    assert broken.stamped(KEY, {})["frame_times"] == {}
