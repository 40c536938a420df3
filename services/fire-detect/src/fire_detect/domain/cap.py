"""A fire alarm as an OASIS Common Alerting Protocol 1.2 alert. Pure logic, no I/O.

One alarm is one CAP message thread: the first message (``Alert``) when it is raised,
an ``Update`` for each later step, and a ``Cancel`` when a ranger dismisses it as
false. Each step has its own ``identifier`` (``<alarm>.<step>``); the later ones
reference the first (``sender,identifier,sent``), as CAP 1.2 §3.2.1 asks.

How the lifecycle maps (docs/adr/0010-fire-response-plan.md):

==============  =========  ==========  ==============================  ===========
status          msgType    urgency     certainty                       responseType
==============  =========  ==========  ==============================  ===========
raised          Alert      Immediate   Likely (ranger, or camera       Monitor
                                       confidence >= 0.8), else
                                       Possible
verified,       Update     Immediate   Observed                        Prepare, or
dispatched,                                                            Evacuate if
on_scene                                                               the plan does
extinguished,   Update     Past        Observed                        AllClear
closed
dismissed       Cancel     Past        Unlikely                        (none)
==============  =========  ==========  ==============================  ===========

Severity follows the danger level while the fire burns (1-2 Minor, 3 Moderate, 4
Severe, 5 Extreme; at least Severe when the plan evacuates a village) and is Minor
once it is out or dismissed. The area is a circle around the located point whose
radius is the location's uncertainty, and the polygon the camera's bearing left open
(the wedge, or where two bearings crossed).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - it builds XML, never parses input
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_CONTENT_TYPE = "application/cap+xml"

_ACTIVE = frozenset({"raised", "verified", "dispatched", "on_scene"})
_OUT = frozenset({"extinguished", "closed"})
_SEVERITY_BY_DANGER: Mapping[int, str] = {
    1: "Minor",
    2: "Minor",
    3: "Moderate",
    4: "Severe",
    5: "Extreme",
}
CAMERA_LIKELY_CONFIDENCE = 0.8


def cap_time(at: datetime) -> str:
    """CAP's dateTime: seconds, an explicit offset, never 'Z' (CAP 1.2 §3.3.2)."""
    if at.tzinfo is None:
        raise ValueError("a CAP time needs a time zone")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def msg_type(status: str) -> str:
    if status == "raised":
        return "Alert"
    if status == "dismissed":
        return "Cancel"
    return "Update"


def urgency(status: str) -> str:
    return "Immediate" if status in _ACTIVE else "Past"


def certainty(status: str, *, kind: str, confidence: float) -> str:
    if status == "dismissed":
        return "Unlikely"
    if status != "raised":
        return "Observed"
    if kind == "reported" or confidence >= CAMERA_LIKELY_CONFIDENCE:
        return "Likely"
    return "Possible"


def severity(status: str, danger_level: int, *, evacuates: bool) -> str:
    if status not in _ACTIVE:
        return "Minor"
    level = _SEVERITY_BY_DANGER[danger_level]
    if evacuates and level in ("Minor", "Moderate"):
        return "Severe"
    return level


def response_type(status: str, *, evacuates: bool) -> str | None:
    if status == "dismissed":
        return None
    if status in _OUT:
        return "AllClear"
    if status == "raised":
        return "Monitor"
    return "Evacuate" if evacuates else "Prepare"


def _pairs(ring: Sequence[Sequence[float]]) -> str:
    # CAP writes "lat,lon", GeoJSON [lon, lat].
    return " ".join(f"{p[1]:.6f},{p[0]:.6f}" for p in ring)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def cap_alert(alarm: Mapping[str, Any], *, sender: str, sender_name: str) -> bytes:
    """The CAP 1.2 alert for the alarm's current step, as UTF-8 XML.

    ``alarm`` is the alarm detail: id, kind, status, confidence, danger_level,
    location and area (GeoJSON), uncertainty_m, raised_at, updated_at, timeline, plan.
    """
    status = str(alarm["status"])
    timeline: Sequence[Mapping[str, Any]] = alarm.get("timeline") or []
    step = max(1, len(timeline))
    sent_at: datetime = timeline[-1]["at"] if timeline else alarm["updated_at"]
    plan: Mapping[str, Any] = alarm.get("plan") or {}
    actions: Sequence[Mapping[str, Any]] = plan.get("actions") or []
    evacuates = any(a.get("code") == "evacuate" for a in actions)
    alarm_id = str(alarm["id"])

    ET.register_namespace("", CAP_NS)
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", f"{alarm_id}.{step}")
    _sub(root, "sender", sender)
    _sub(root, "sent", cap_time(sent_at))
    _sub(root, "status", "Actual")
    kind_of_message = msg_type(status)
    _sub(root, "msgType", kind_of_message)
    _sub(root, "scope", "Public")
    if kind_of_message != "Alert":
        first = f"{sender},{alarm_id}.1,{cap_time(alarm['raised_at'])}"
        _sub(root, "references", first)
    _sub(root, "incidents", alarm_id)

    info = _sub(root, "info")
    _sub(info, "language", "en-US")
    _sub(info, "category", "Fire")
    _sub(info, "event", "Forest fire")
    response = response_type(status, evacuates=evacuates)
    if response is not None:
        _sub(info, "responseType", response)
    _sub(info, "urgency", urgency(status))
    _sub(
        info,
        "severity",
        severity(status, int(alarm["danger_level"]), evacuates=evacuates),
    )
    _sub(
        info,
        "certainty",
        certainty(status, kind=str(alarm["kind"]), confidence=float(alarm["confidence"])),
    )
    _sub(info, "senderName", sender_name)
    _sub(
        info,
        "headline",
        f"Forest fire ({alarm['kind']}), danger level {alarm['danger_level']}: {status}",
    )
    compartment = (alarm.get("resources") or {}).get("compartment")
    where = f" in compartment {compartment['name']}" if compartment else ""
    _sub(
        info,
        "description",
        f"Fire alarm {alarm_id}{where}, raised {cap_time(alarm['raised_at'])}, now {status}.",
    )
    if actions and status in _ACTIVE:
        _sub(info, "instruction", "; ".join(str(a["text"]) for a in actions))
    for name, value in (
        ("alarm_status", status),
        ("alarm_kind", str(alarm["kind"])),
        ("danger_level", str(alarm["danger_level"])),
    ):
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", name)
        _sub(parameter, "value", value)

    area = _sub(info, "area")
    _sub(area, "areaDesc", f"Around the fire of alarm {alarm_id}{where}")
    polygon = alarm.get("area")
    if polygon:
        _sub(area, "polygon", _pairs(polygon["coordinates"][0]))
    lon, lat = alarm["location"]["coordinates"][:2]
    radius_km = max(float(alarm["uncertainty_m"]), 1.0) / 1000.0
    _sub(area, "circle", f"{lat:.6f},{lon:.6f} {radius_km:.3f}")
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
