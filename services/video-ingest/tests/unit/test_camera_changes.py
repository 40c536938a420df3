"""What changing a camera does to its schedule, and how a change is validated; no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from video_ingest.domain.changes import (
    VIEW_FIELDS,
    Schedule,
    Terms,
    changed_fields,
    rescheduled,
)
from video_ingest.domain.health import HealthPolicy
from video_ingest.entrypoints.api import CameraCreate, CameraUpdate

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HEALTH = HealthPolicy(offline_after_intervals=3.0, cruise_interval_s=10.0)
URL = "https://cams.example/1/snapshot.jpg"

CRUISED = Terms(
    snapshot_url=URL, presets=(10.0, 20.0, 30.0), expected_interval_s=None, cruise_interval_s=None
)
# Mid-tour: the third pose is next, one poll has failed, a frame is owed in 25 s.
TOURING = Schedule(
    next_poll_at=NOW + timedelta(seconds=5),
    next_preset=2,
    poll_failures=1,
    frame_due_by=NOW + timedelta(seconds=25),
)
PUSHED = Terms(snapshot_url=None, presets=(), expected_interval_s=None, cruise_interval_s=None)
UNJUDGED = Schedule(next_poll_at=None, next_preset=0, poll_failures=0, frame_due_by=None)


def change(terms: Terms, **values: object) -> Terms:
    return replace(terms, **values)  # type: ignore[arg-type]


def test_a_change_that_touches_no_term_keeps_the_schedule() -> None:
    assert rescheduled(CRUISED, CRUISED, TOURING, health=HEALTH, now=NOW) == TOURING


def test_a_new_snapshot_url_starts_the_cruise_now_and_owes_a_frame() -> None:
    after = change(PUSHED, snapshot_url=URL)
    got = rescheduled(PUSHED, after, UNJUDGED, health=HEALTH, now=NOW)
    # Judged from now at the default cruise interval: 3 intervals of 10 s.
    assert got == Schedule(NOW, 0, 0, NOW + timedelta(seconds=30))


def test_a_different_snapshot_url_restarts_the_cruise_and_forgets_failures() -> None:
    after = change(CRUISED, snapshot_url="https://cams.example/2/snapshot.jpg")
    got = rescheduled(CRUISED, after, TOURING, health=HEALTH, now=NOW)
    # Same presets: the tour goes on where it was; same interval: same frame due.
    assert got == Schedule(NOW, 2, 0, TOURING.frame_due_by)


def test_new_presets_restart_the_tour_from_the_first_pose() -> None:
    after = change(CRUISED, presets=(40.0, 50.0))
    got = rescheduled(CRUISED, after, TOURING, health=HEALTH, now=NOW)
    assert got == Schedule(TOURING.next_poll_at, 0, 1, TOURING.frame_due_by)
    with_url = change(PUSHED, snapshot_url=URL, presets=(40.0,))
    assert rescheduled(PUSHED, with_url, UNJUDGED, health=HEALTH, now=NOW).next_preset == 0


def test_removing_the_snapshot_url_stops_the_cruise_and_the_judging() -> None:
    got = rescheduled(CRUISED, change(CRUISED, snapshot_url=None), TOURING, health=HEALTH, now=NOW)
    assert got == Schedule(None, 0, 0, None)


def test_removing_the_url_of_a_pushing_camera_keeps_its_declared_due_time() -> None:
    before = change(CRUISED, expected_interval_s=20.0)
    got = rescheduled(before, change(before, snapshot_url=None), TOURING, health=HEALTH, now=NOW)
    assert got.next_poll_at is None and got.frame_due_by == TOURING.frame_due_by


def test_a_shorter_cruise_interval_brings_the_next_poll_forward() -> None:
    late = Schedule(NOW + timedelta(hours=1), 1, 0, NOW + timedelta(hours=3))
    before = change(CRUISED, cruise_interval_s=3600.0)
    after = change(CRUISED, cruise_interval_s=5.0)
    got = rescheduled(before, after, late, health=HEALTH, now=NOW)
    assert got.next_poll_at == NOW + timedelta(seconds=5)
    # The frame is owed at the new cadence, counted from the change.
    assert got.frame_due_by == NOW + timedelta(seconds=15)
    # A longer interval does not put off a poll already due sooner.
    longer = rescheduled(after, before, TOURING, health=HEALTH, now=NOW)
    assert longer.next_poll_at == TOURING.next_poll_at
    assert longer.frame_due_by == NOW + timedelta(hours=3)


def test_a_declared_interval_is_judged_from_the_change() -> None:
    got = rescheduled(
        PUSHED, change(PUSHED, expected_interval_s=60.0), UNJUDGED, health=HEALTH, now=NOW
    )
    assert got == Schedule(None, 0, 0, NOW + timedelta(minutes=3))
    cleared = rescheduled(
        change(PUSHED, expected_interval_s=60.0), PUSHED, got, health=HEALTH, now=NOW
    )
    assert cleared.frame_due_by is None


def test_an_interval_that_does_not_change_what_is_expected_keeps_the_due_time() -> None:
    # A declared interval wins over the cruise's: changing the cruise's changes nothing.
    before = change(CRUISED, expected_interval_s=20.0)
    after = change(before, cruise_interval_s=30.0)
    got = rescheduled(before, after, TOURING, health=HEALTH, now=NOW)
    assert got.frame_due_by == TOURING.frame_due_by


def test_changed_fields_are_those_whose_value_differs() -> None:
    current = {"heading_deg": 135.0, "presets": [1.0], "cell_id": None}
    assert changed_fields(current, {"heading_deg": 135.0, "presets": [1.0]}) == frozenset()
    assert changed_fields(current, {"heading_deg": 90.0, "cell_id": None}) == {"heading_deg"}
    assert changed_fields(current, {"cell_id": "c-1"}) == {"cell_id"}
    assert "cell_id" not in VIEW_FIELDS and "presets" in VIEW_FIELDS


def test_an_update_keeps_only_the_fields_sent_and_null_clears() -> None:
    update = CameraUpdate.model_validate({"snapshot_url": None, "heading_deg": 90.0})
    assert update.changes() == {"snapshot_url": None, "heading_deg": 90.0}
    assert CameraUpdate.model_validate({"snapshot_url": URL}).changes() == {"snapshot_url": URL}
    assert CameraUpdate.model_validate({}).changes() == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"heading_deg": None}, "heading_deg"),
        ({"location": None}, "location"),
        ({"presets": None}, "presets"),
        ({"presets": [1.0, 1.0]}, "presets"),
        ({"hfov_deg": 0}, "hfov_deg"),
        ({"cell_id": "no spaces"}, "cell_id"),
        ({"kind": "traffic"}, "kind"),
    ],
)
def test_bad_updates_name_the_field(body: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        CameraUpdate.model_validate(body)
    assert err.value.errors()[0]["loc"][0] == field


def test_a_cell_id_is_an_identifier() -> None:
    base = {
        "id": "c-1",
        "kind": "forest",
        "location": {"type": "Point", "coordinates": [105.88, 29.40]},
        "elevation_m": 600.0,
        "heading_deg": 0.0,
        "hfov_deg": 60.0,
    }
    assert CameraCreate.model_validate({**base, "cell_id": "chashanzhuhai-ne"}).cell_id
    with pytest.raises(ValidationError):
        CameraCreate.model_validate({**base, "cell_id": "x" * 65})
