from datetime import UTC, datetime

import pytest

from city_common.events.envelope import CloudEvent, EnvelopeError


def test_binary_mode_round_trip_keeps_attributes_extensions_and_bytes() -> None:
    event = CloudEvent(
        type="city.camera.frame.captured.v1",
        source="/city/video-ingest",
        data=b"\xff\xd8\xff\xe0jpeg",
        datacontenttype="image/jpeg",
        subject="cam-1",
        time=datetime(2026, 11, 23, 7, 2, tzinfo=UTC),
        extensions={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01", "cameraid": "cam-1"},
    )
    headers = dict(event.to_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["content-type"] == b"image/jpeg"
    assert headers["ce_cameraid"] == b"cam-1"
    back = CloudEvent.from_headers(event.to_headers(), event.data)
    assert back == event


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([("ce_id", b"1"), ("ce_source", b"/x"), ("ce_specversion", b"1.0")], "type"),
        (
            [("ce_id", b"1"), ("ce_source", b"/x"), ("ce_type", b"t"), ("ce_specversion", b"0.3")],
            "specversion",
        ),
        (
            [
                ("ce_id", b"1"),
                ("ce_source", b"/x"),
                ("ce_type", b"t"),
                ("ce_specversion", b"1.0"),
                ("ce_time", b"yesterday"),
            ],
            "RFC 3339",
        ),
        (
            [
                ("ce_id", b"1"),
                ("ce_source", b"/x"),
                ("ce_type", b"t"),
                ("ce_specversion", b"1.0"),
                ("ce_time", b"2026-11-23T07:00:00"),
            ],
            "UTC offset",
        ),
        ([("ce_id", b"\xff\xfe")], "UTF-8"),
    ],
)
def test_invalid_envelopes_are_rejected_with_the_reason(headers, message) -> None:
    with pytest.raises(EnvelopeError, match=message):
        CloudEvent.from_headers(headers, b"{}")


def test_extension_names_must_follow_the_cloudevents_naming_rule() -> None:
    event = CloudEvent(type="t", source="/x", data=b"", extensions={"Bad-Name": "v"})
    with pytest.raises(EnvelopeError, match="extension name"):
        event.to_headers()
