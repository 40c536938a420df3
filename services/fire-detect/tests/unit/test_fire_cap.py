"""A fire alarm as an OASIS CAP 1.2 alert: namespace, required elements in the schema's
order, and the lifecycle mapped to msgType, urgency, severity and certainty."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fire_detect.domain.cap import CAP_NS, cap_alert, cap_time

NS = {"cap": CAP_NS}
T0 = datetime(2026, 4, 3, 7, 2, 5, 123456, tzinfo=UTC)
WEDGE = [[105.9, 29.4], [105.95, 29.45], [105.96, 29.44], [105.9, 29.4]]

# CAP 1.2 §3.2: the children of <alert> and of <info>, in the order the schema fixes.
ALERT_ORDER = [
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
    "references",
    "incidents",
    "info",
]
INFO_ORDER = [
    "language",
    "category",
    "event",
    "responseType",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "expires",
    "senderName",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameter",
    "resource",
    "area",
]
AREA_ORDER = ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"]


def alarm(status: str, steps: list[str], **extra: Any) -> dict[str, Any]:
    timeline = [
        {"status": s, "at": T0 + timedelta(minutes=10 * i), "actor": "r", "note": None}
        for i, s in enumerate(steps)
    ]
    return {
        "id": "fa-0123456789abcdef",
        "kind": "flame",
        "status": status,
        "confidence": 0.6,
        "danger_level": 4,
        "location": {"type": "Point", "coordinates": [105.93, 29.42]},
        "area": {"type": "Polygon", "coordinates": [WEDGE]},
        "uncertainty_m": 7400.0,
        "raised_at": T0,
        "updated_at": timeline[-1]["at"],
        "timeline": timeline,
        "plan": None,
        "resources": None,
        **extra,
    }


def parse(xml: bytes) -> ET.Element:
    assert xml.startswith(b"<?xml")
    return ET.fromstring(xml)  # noqa: S314 - our own output


def local(element: ET.Element) -> str:
    assert element.tag.startswith("{" + CAP_NS + "}"), element.tag
    return element.tag.split("}", 1)[1]


def in_order(children: list[ET.Element], order: list[str]) -> list[str]:
    names = [local(c) for c in children]
    positions = [order.index(n) for n in names]
    assert positions == sorted(positions), names
    return names


def text(root: ET.Element, path: str) -> str:
    found = root.find(path, NS)
    assert found is not None and found.text is not None, path
    return found.text


def test_a_raised_alarm_is_a_valid_alert() -> None:
    root = parse(cap_alert(alarm("raised", ["raised"]), sender="fd@city", sender_name="FD"))
    assert root.tag == f"{{{CAP_NS}}}alert"
    names = in_order(list(root), ALERT_ORDER)
    for required in ("identifier", "sender", "sent", "status", "msgType", "scope", "info"):
        assert required in names
    assert "references" not in names
    assert text(root, "cap:identifier") == "fa-0123456789abcdef.1"
    assert text(root, "cap:sent") == "2026-04-03T07:02:05+00:00"
    assert text(root, "cap:status") == "Actual"
    assert text(root, "cap:msgType") == "Alert"
    assert text(root, "cap:scope") == "Public"
    info = root.find("cap:info", NS)
    assert info is not None
    info_names = in_order(list(info), INFO_ORDER)
    for required in ("category", "event", "urgency", "severity", "certainty"):
        assert required in info_names
    assert text(info, "cap:category") == "Fire"
    assert text(info, "cap:urgency") == "Immediate"
    assert text(info, "cap:severity") == "Severe"
    # A camera at confidence 0.6 and nobody has looked yet: possible, not likely.
    assert text(info, "cap:certainty") == "Possible"
    assert text(info, "cap:responseType") == "Monitor"
    area = info.find("cap:area", NS)
    assert area is not None
    in_order(list(area), AREA_ORDER)
    assert text(area, "cap:circle") == "29.420000,105.930000 7.400"
    pairs = text(area, "cap:polygon").split(" ")
    assert pairs[0] == pairs[-1] == "29.400000,105.900000" and len(pairs) == 4


@pytest.mark.parametrize(
    ("steps", "msg", "urgency", "severity", "certainty", "response"),
    [
        (["raised", "verified"], "Update", "Immediate", "Severe", "Observed", "Prepare"),
        (["raised", "verified", "dispatched", "on_scene"], "Update", "Immediate", "Severe",
         "Observed", "Prepare"),
        (["raised", "verified", "dispatched", "on_scene", "extinguished"], "Update", "Past",
         "Minor", "Observed", "AllClear"),
        (["raised", "dismissed"], "Cancel", "Past", "Minor", "Unlikely", None),
    ],
)  # fmt: skip
def test_later_steps_update_or_cancel_the_first_alert(
    steps: list[str],
    msg: str,
    urgency: str,
    severity: str,
    certainty: str,
    response: str | None,
) -> None:
    root = parse(cap_alert(alarm(steps[-1], steps), sender="fd@city", sender_name="FD"))
    in_order(list(root), ALERT_ORDER)
    assert text(root, "cap:msgType") == msg
    assert text(root, "cap:identifier") == f"fa-0123456789abcdef.{len(steps)}"
    assert text(root, "cap:references") == "fd@city,fa-0123456789abcdef.1,2026-04-03T07:02:05+00:00"
    info = root.find("cap:info", NS)
    assert info is not None
    assert text(info, "cap:urgency") == urgency
    assert text(info, "cap:severity") == severity
    assert text(info, "cap:certainty") == certainty
    found = info.find("cap:responseType", NS)
    assert (found.text if found is not None else None) == response


def test_an_evacuation_in_the_plan_raises_severity_and_instructs() -> None:
    plan = {"actions": [{"code": "evacuate", "text": "evacuate Hetao village"}]}
    low = alarm("verified", ["raised", "verified"], danger_level=2, plan=plan, kind="reported")
    info = parse(cap_alert(low, sender="fd@city", sender_name="FD")).find("cap:info", NS)
    assert info is not None
    assert text(info, "cap:severity") == "Severe"
    assert text(info, "cap:responseType") == "Evacuate"
    assert text(info, "cap:instruction") == "evacuate Hetao village"


def test_a_reported_alarm_without_an_area_has_only_a_circle() -> None:
    reported = alarm("raised", ["raised"], kind="reported", area=None, uncertainty_m=100.0)
    info = parse(cap_alert(reported, sender="fd@city", sender_name="FD")).find("cap:info", NS)
    assert info is not None
    assert text(info, "cap:certainty") == "Likely"
    area = info.find("cap:area", NS)
    assert area is not None and area.find("cap:polygon", NS) is None
    assert text(area, "cap:circle").endswith(" 0.100")


def test_cap_times_have_an_offset_and_no_fraction() -> None:
    assert cap_time(datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC)) == "2026-01-02T03:04:05+00:00"
    with pytest.raises(ValueError):
        cap_time(datetime(2026, 1, 2))  # noqa: DTZ001 - the point of the test
