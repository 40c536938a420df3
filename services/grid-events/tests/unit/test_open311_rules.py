"""Open311 GeoReport v2 rules without I/O: forms, attributes, statuses, date windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grid_events.domain.open311 import (
    CATALOGUE,
    MAX_SPAN,
    Open311Error,
    PostedForm,
    query_window,
    request_status,
    statuses,
    validate_report,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BASE = [("api_key", "k"), ("service_code", "traffic-hazard"), ("lat", "29.35"), ("long", "105.93")]


def report(*extra: tuple[str, str]):
    return validate_report(PostedForm.of([*BASE, *extra]))


def errors(*pairs: tuple[str, str]) -> list[str]:
    with pytest.raises(Open311Error) as err:
        validate_report(PostedForm.of(list(pairs)))
    return [d for _, d in err.value.errors]


def test_every_service_is_well_formed() -> None:
    for code, service in CATALOGUE.items():
        listing = service.listing("realtime")
        assert listing["service_code"] == code and listing["type"] == "realtime"
        orders = [a.order for a in service.attributes]
        assert len(set(orders)) == len(orders) and all(o >= 1 for o in orders)
        for attribute in service.attributes:
            lists = attribute.datatype in ("singlevaluelist", "multivaluelist")
            assert bool(attribute.values) == lists, (code, attribute.code)


def test_a_complete_report() -> None:
    got = report(("attribute[hazard]", "obstacle"), ("attribute[lanes_blocked]", "2"))
    assert got.service.category == "traffic_incident"
    assert (got.lat, got.long) == (29.35, 105.93)
    assert got.attributes == {"hazard": "obstacle", "lanes_blocked": "2"}


def test_empty_parameters_count_as_absent() -> None:
    got = report(("attribute[hazard]", "obstacle"), ("email", ""), ("description", ""))
    assert got.contact.email is None and got.description is None


def test_multivaluelist_takes_repeated_values() -> None:
    form = PostedForm.of(
        [
            ("service_code", "water-pollution"),
            ("address_string", "临江河 桥下"),
            ("attribute[signs][]", "foam"),
            ("attribute[signs][]", "dead_fish"),
            ("attribute[signs][]", "foam"),
        ]
    )
    assert validate_report(form).attributes == {"signs": ["foam", "dead_fish"]}


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ((), "attribute[hazard] is required"),
        ((("attribute[hazard]", "meteor"),), "takes one of"),
        ((("attribute[hazard]", "obstacle"), ("attribute[hazard]", "flooding")), "takes one value"),
        ((("attribute[hazard][]", "obstacle"),), "takes one value"),
        ((("attribute[hazard]", "obstacle"), ("attribute[lanes_blocked]", "two")), "a number"),
        ((("attribute[hazard]", "obstacle"), ("attribute[nope]", "1")), "not an attribute"),
        ((("attribute[hazard]", "obstacle"), ("media_url", "ftp://x/y")), "media_url"),
        ((("attribute[hazard]", "obstacle"), ("description", "<b>bold</b>")), "no HTML"),
    ],
)
def test_attribute_and_field_errors(extra: tuple[tuple[str, str], ...], fragment: str) -> None:
    found = errors(*BASE, *extra)
    assert any(fragment in e for e in found), found


def test_location_rules() -> None:
    no_place = [("service_code", "public-safety")]
    assert any("location is required" in e for e in errors(*no_place))
    assert any("together" in e for e in errors(*no_place, ("lat", "29.3")))
    assert any("between" in e for e in errors(*no_place, ("lat", "91"), ("long", "105")))
    assert any("decimal" in e for e in errors(*no_place, ("lat", "nan?"), ("long", "105")))
    assert any("between" in e for e in errors(*no_place, ("lat", "inf"), ("long", "105")))
    got = validate_report(PostedForm.of([*no_place, ("address_id", "hou-1")]))
    assert got.address_id == "hou-1" and got.lat is None


def test_service_code_errors_have_their_status() -> None:
    with pytest.raises(Open311Error) as missing:
        validate_report(PostedForm.of([("lat", "1"), ("long", "1")]))
    assert missing.value.status == 400
    with pytest.raises(Open311Error) as unknown:
        validate_report(PostedForm.of([("service_code", "potholes")]))
    assert unknown.value.status == 404


def test_a_field_given_twice_with_different_values_is_refused() -> None:
    with pytest.raises(Open311Error):
        PostedForm.of([("service_code", "a"), ("service_code", "b")])


def test_unknown_parameters_are_ignored() -> None:
    form = PostedForm.of([*BASE, ("attribute[hazard]", "obstacle"), ("utm_source", "x")])
    assert "utm_source" not in form.fields


@pytest.mark.parametrize(
    ("case_status", "expected"),
    [
        ("opened", "open"),
        ("dispatched", "open"),
        ("escalated", "open"),
        ("resolved", "closed"),
        ("closed", "closed"),
        ("duplicate", "closed"),
        ("rejected", "closed"),
    ],
)
def test_case_status_to_request_status(case_status: str, expected: str) -> None:
    assert request_status(case_status) == expected


def test_date_windows() -> None:
    assert query_window(None, None, now=NOW) == (NOW - MAX_SPAN, NOW)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    assert query_window("2026-10-01T00:00:00Z", None, now=NOW) == (start, start + MAX_SPAN)
    since, until = query_window(None, "2026-10-01T08:00:00+08:00", now=NOW)
    assert until == start and until - since == MAX_SPAN
    exactly = (start + timedelta(days=90)).isoformat()
    assert query_window("2026-10-01T00:00:00Z", exactly, now=NOW)[1] == start + MAX_SPAN
    for bad in (
        ("2026-10-01T00:00:00", None),  # no zone
        ("yesterday", None),
        ("2026-10-01T00:00:00Z", "2026-12-31T00:00:01Z"),  # over 90 days
        ("2026-10-02T00:00:00Z", "2026-10-01T00:00:00Z"),
    ):
        with pytest.raises(Open311Error):
            query_window(*bad, now=NOW)


def test_status_lists() -> None:
    assert statuses("open,closed") == ["open", "closed"]
    assert statuses(None) == []
    with pytest.raises(Open311Error):
        statuses("open,pending")
