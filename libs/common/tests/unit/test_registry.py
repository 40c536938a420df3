from datetime import UTC, datetime
from pathlib import Path

import pytest

from city_common.events import EVENTS, TOPICS, spec_for_type
from city_common.events import schemas as s
from city_common.events.docs import asyncapi_yaml, render_architecture
from city_common.events.envelope import EnvelopeError
from city_common.geo import GeoPoint
from city_common.observability.tracing import current_traceparent

DOCS = Path(__file__).resolve().parents[4] / "docs"


def raised() -> s.FireAlarmRaised:
    return s.FireAlarmRaised(
        alarm_id="fa-1",
        camera_id="cam-7",
        raised_at=datetime(2026, 3, 1, 7, 2, tzinfo=UTC),
        location=GeoPoint.of(105.91, 29.37),
        uncertainty_m=150.0,
        confidence=0.93,
        danger_level=4,
    )


def test_types_are_versioned_unique_and_every_topic_has_events() -> None:
    types = [spec.type for spec in EVENTS]
    assert len(types) == len(set(types))
    assert all(t.startswith("city.") and t.rsplit(".", 1)[1].startswith("v") for t in types)
    assert set(TOPICS) == {spec.topic for spec in EVENTS}
    for spec in EVENTS:
        assert spec.key_field in spec.model.model_fields, spec.type


def test_build_keys_by_aggregate_and_carries_the_current_trace() -> None:
    spec = spec_for_type("city.fire.alarm.raised.v1")
    token = current_traceparent.set("00-" + "1" * 32 + "-" + "2" * 16 + "-01")
    try:
        key, event = spec.build(raised(), source="/city/fire-detect")
    finally:
        current_traceparent.reset(token)
    assert key == "fa-1" and event.subject == "fa-1"
    assert event.traceparent is not None
    assert event.traceparent.split("-")[1] == "1" * 32  # same trace
    assert event.traceparent.split("-")[2] != "2" * 16  # a new span
    assert spec.decode(event) == raised()


def test_wrong_payload_type_is_refused_when_building() -> None:
    spec = spec_for_type("city.fire.alarm.verified.v1")
    with pytest.raises(TypeError):
        spec.build(raised(), source="/x")


def test_payload_breaking_the_contract_is_an_envelope_error() -> None:
    spec = spec_for_type("city.fire.alarm.raised.v1")
    _, event = spec.build(raised(), source="/x")
    from dataclasses import replace

    broken = replace(event, data=event.data.replace(b'"danger_level":4', b'"danger_level":9'))
    with pytest.raises(EnvelopeError, match="danger_level"):
        spec.decode(broken)
    with pytest.raises(EnvelopeError, match="unknown event type"):
        spec_for_type("city.fire.alarm.raised.v0")


def test_frame_events_carry_the_image_as_data_and_metadata_as_extensions() -> None:
    spec = spec_for_type("city.camera.frame.captured.v1")
    meta = s.FrameCaptured(
        camera_id="cam-7",
        camera_kind=s.CameraKind.FOREST,
        captured_at=datetime(2026, 3, 1, 7, 2, tzinfo=UTC),
        pan_azimuth_deg=135.0,
    )
    key, event = spec.build(meta, source="/x", data=b"\xff\xd8jpeg", content_type="image/jpeg")
    assert key == "cam-7" and event.data == b"\xff\xd8jpeg"
    assert event.extensions["panazimuth"] == "135.0"
    assert spec.decode(event) == meta
    with pytest.raises(ValueError, match="image data"):
        spec.build(meta, source="/x", data=b"x", content_type="text/plain")


def test_committed_asyncapi_document_and_catalogue_are_current() -> None:
    # Regenerate with: uv run python -m city_common.events.docs
    assert (DOCS / "asyncapi.yaml").read_text(encoding="utf-8") == asyncapi_yaml(), (
        "docs/asyncapi.yaml is stale: run `make docs`"
    )
    arch = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert render_architecture(arch) == arch, "the event catalogue is stale: run `make docs`"
