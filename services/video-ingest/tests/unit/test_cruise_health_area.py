"""Cruise scheduling, the offline rule, list areas and GeoJSON output, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from camera_images import jpeg, png

from city_common.web.pagination import PageParams
from video_ingest.adapters.snapshots import Snapshot
from video_ingest.domain.area import BadArea, BoundingBox, parse_bbox
from video_ingest.domain.cruise import Pose, after_poll, backoff_intervals, pose_at
from video_ingest.domain.health import HealthPolicy
from video_ingest.entrypoints.api import camera_features
from video_ingest.service_layer.cruise import declared_type

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PRESETS = [90.0, 135.0, 180.0]


def test_the_tour_steps_through_the_presets_and_wraps() -> None:
    assert pose_at(PRESETS, 0) == Pose(0, 90.0)
    assert pose_at(PRESETS, 2) == Pose(2, 180.0)
    # A tour shortened since the index was stored starts over rather than failing.
    assert pose_at(PRESETS, 4) == Pose(1, 135.0)
    assert pose_at([], 3) == Pose(0, None)

    pose, pans = pose_at(PRESETS, 0), []
    for _ in range(5):
        pans.append(pose.pan_deg)
        following = after_poll(
            presets=PRESETS,
            pose=pose,
            due_at=T0,
            now=T0,
            interval_s=10,
            failures_before=0,
            succeeded=True,
        )
        pose = pose_at(PRESETS, following.preset_index)
    assert pans == [90.0, 135.0, 180.0, 90.0, 135.0]


def test_the_next_poll_keeps_the_cadence_without_drifting() -> None:
    following = after_poll(
        presets=PRESETS,
        pose=pose_at(PRESETS, 1),
        due_at=T0,
        now=T0 + timedelta(seconds=1.7),  # a slow answer
        interval_s=10,
        failures_before=0,
        succeeded=True,
    )
    assert following.due_at == T0 + timedelta(seconds=10)
    assert following.preset_index == 2 and following.failures == 0


def test_a_camera_far_behind_starts_afresh_instead_of_bursting() -> None:
    late = T0 + timedelta(seconds=25)
    following = after_poll(
        presets=PRESETS,
        pose=pose_at(PRESETS, 0),
        due_at=T0,
        now=late,
        interval_s=10,
        failures_before=0,
        succeeded=True,
    )
    assert following.due_at == late + timedelta(seconds=10)


def test_failures_back_off_up_to_a_cap_and_reset_on_success() -> None:
    assert [backoff_intervals(n) for n in range(6)] == [1, 2, 4, 8, 8, 8]
    assert backoff_intervals(10_000) == 8
    failed = after_poll(
        presets=PRESETS,
        pose=pose_at(PRESETS, 2),
        due_at=T0,
        now=T0 + timedelta(seconds=5),
        interval_s=10,
        failures_before=1,
        succeeded=False,
    )
    assert failed.failures == 2 and failed.due_at == T0 + timedelta(seconds=40)
    assert failed.preset_index == 0, "the tour moves on past a failed pose"
    recovered = after_poll(
        presets=PRESETS,
        pose=pose_at(PRESETS, 0),
        due_at=failed.due_at,
        now=failed.due_at,
        interval_s=10,
        failures_before=failed.failures,
        succeeded=True,
    )
    assert recovered.failures == 0 and recovered.due_at == failed.due_at + timedelta(seconds=10)


POLICY = HealthPolicy(offline_after_intervals=3.0, cruise_interval_s=10.0)


@pytest.mark.parametrize(
    ("declared", "snapshot", "cruise", "expected"),
    [
        (60.0, False, None, 60.0),  # a pushing camera with a promised rate
        (60.0, True, 5.0, 60.0),  # a promise outranks the cruise
        (None, True, None, 10.0),  # cruised at the service's default
        (None, True, 30.0, 30.0),  # cruised at its own interval
        (None, False, None, None),  # nothing expected: never judged
        (None, False, 30.0, None),  # a cruise interval without a URL means nothing
    ],
)
def test_what_a_camera_is_expected_to_deliver(
    declared: float | None, snapshot: bool, cruise: float | None, expected: float | None
) -> None:
    assert (
        POLICY.expected_interval_s(
            declared_s=declared, has_snapshot_url=snapshot, cruise_interval_s=cruise
        )
        == expected
    )


def test_a_camera_is_due_a_frame_within_a_few_intervals() -> None:
    due = POLICY.frame_due_by(T0, declared_s=20.0, has_snapshot_url=False, cruise_interval_s=None)
    assert due == T0 + timedelta(seconds=60)
    never = POLICY.frame_due_by(T0, declared_s=None, has_snapshot_url=False, cruise_interval_s=None)
    assert never is None


def test_a_bounding_box_is_read_west_south_east_north() -> None:
    assert parse_bbox("105.8,29.2,106.05,29.5") == BoundingBox(105.8, 29.2, 106.05, 29.5)
    assert parse_bbox(" -1 , -2 , 3 , 4 ") == BoundingBox(-1.0, -2.0, 3.0, 4.0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("105.8,29.2,106.05", "four numbers"),
        ("105.8,29.2,106.05,29.5,1", "four numbers"),
        ("a,b,c,d", "four numbers"),
        ("105.8,29.2,nan,29.5", "finite"),
        ("-181,29.2,106,29.5", "longitudes"),
        ("105.8,-91,106,29.5", "latitudes"),
        ("106.1,29.2,105.8,29.5", "west edge"),
        ("105.8,29.6,106,29.5", "south edge"),
    ],
)
def test_bad_bounding_boxes_say_why(text: str, reason: str) -> None:
    with pytest.raises(BadArea, match=reason):
        parse_bbox(text)


def _camera(ident: str, lon: float) -> dict[str, object]:
    return {
        "id": ident,
        "kind": "forest",
        "location": {"type": "Point", "coordinates": [lon, 29.4]},
        "elevation_m": 600.0,
        "heading_deg": 90.0,
        "hfov_deg": 60.0,
        "presets": [90.0],
        "snapshot_url": None,
        "status": "online",
        "registered_at": T0,
        "last_frame_at": None,
        "active_alarm_ids": ["fa-1"],
        "expected_interval_s": 30.0,
        "cruise_interval_s": None,
        "frame_due_by": T0 + timedelta(seconds=90),
        "next_poll_at": None,
        "last_polled_at": None,
        "poll_failures": 0,
        "last_poll_error": None,
        "last_poll_error_at": None,
        "cell_id": "chashanzhuhai-ne",
    }


def test_cameras_become_a_geojson_feature_collection() -> None:
    page = PageParams(limit=2, offset=4)
    collection = camera_features(
        [_camera("c-1", 105.9), _camera("c-2", 105.95)], total=9, page=page
    ).model_dump(mode="json")
    assert collection["type"] == "FeatureCollection"
    assert (collection["total"], collection["limit"], collection["offset"]) == (9, 2, 4)
    first = collection["features"][0]
    assert first["type"] == "Feature" and first["id"] == "c-1"
    assert first["geometry"] == {"type": "Point", "coordinates": [105.9, 29.4]}
    assert "location" not in first["properties"]
    assert first["properties"]["active_alarm_ids"] == ["fa-1"]
    assert first["properties"]["expected_interval_s"] == 30.0
    assert first["properties"]["cell_id"] == "chashanzhuhai-ne"
    assert [f["geometry"]["coordinates"][0] for f in collection["features"]] == [105.9, 105.95]


@pytest.mark.parametrize(
    ("snapshot", "declared"),
    [
        (Snapshot(png(4, 4), "image/png"), "image/png"),
        # The camera's own word is what the frame is checked against, as for a push.
        (Snapshot(png(4, 4), "image/jpeg"), "image/jpeg"),
        # Many cameras say octet-stream, or nothing: the bytes tell.
        (Snapshot(jpeg(8, 8), "application/octet-stream"), "image/jpeg"),
        (Snapshot(png(4, 4), None), "image/png"),
        (Snapshot(b"<html>login</html>", "text/html"), "text/html"),
        (Snapshot(b"\x00\x01", None), "application/octet-stream"),
    ],
)
def test_the_type_a_polled_image_is_checked_against(snapshot: Snapshot, declared: str) -> None:
    assert declared_type(snapshot) == declared
