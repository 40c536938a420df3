"""The registry of versioned, typed cross-service events.

Each entry says which topic carries the type, which payload field is the Kafka
key (the aggregate id, so order holds per aggregate), who produces it and who
consumes it. The AsyncAPI document and the event catalogue are generated from
this table, so they cannot drift from the code.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import ValidationError

from city_common.events import schemas as s
from city_common.events.envelope import CloudEvent, EnvelopeError
from city_common.observability.tracing import current_trace


@dataclass(frozen=True)
class EventSpec:
    type: str
    topic: str
    model: builtins.type[s.EventPayload]
    key_field: str
    producer: str
    consumers: tuple[str, ...]
    summary: str
    # Binary events (camera frames) carry their own bytes as data, the model's
    # fields as extension attributes.
    binary: bool = False
    content_types: tuple[str, ...] = ("application/json",)
    extension_names: Mapping[str, str] = field(default_factory=dict)

    def build(
        self,
        payload: s.EventPayload,
        *,
        source: str,
        data: bytes | None = None,
        content_type: str | None = None,
        time: datetime | None = None,
    ) -> tuple[str, CloudEvent]:
        """The (Kafka key, CloudEvent) pair for a payload, carrying the current trace."""
        if not isinstance(payload, self.model):
            raise TypeError(f"{self.type} carries {self.model.__name__}, not {type(payload)}")
        key = str(getattr(payload, self.key_field))
        extensions = {"traceparent": current_trace().child().traceparent}
        if self.binary:
            if data is None or content_type not in self.content_types:
                raise ValueError(f"{self.type} needs image data of type {self.content_types}")
            dumped = payload.model_dump(mode="json")
            for fld, attr in self.extension_names.items():
                extensions[attr] = str(dumped[fld])
            body = data
            ctype = content_type
        else:
            body = payload.model_dump_json().encode()
            ctype = "application/json"
        event = CloudEvent(
            type=self.type,
            source=source,
            data=body,
            datacontenttype=ctype,
            subject=key,
            extensions=extensions,
        )
        if time is not None:
            event = replace(event, time=time)
        return key, event

    def decode(self, event: CloudEvent) -> s.EventPayload:
        """The typed payload; raises ``EnvelopeError`` when it breaks the contract."""
        try:
            if self.binary:
                raw = {
                    fld: event.extensions.get(attr) for fld, attr in self.extension_names.items()
                }
                if event.datacontenttype not in self.content_types:
                    raise EnvelopeError(f"{self.type} data must be one of {self.content_types}")
                return self.model.model_validate(raw)
            return self.model.model_validate_json(event.data)
        except ValidationError as exc:
            raise EnvelopeError(f"{self.type} payload invalid: {exc}") from exc


def _spec(
    type_: str,
    topic: str,
    model: builtins.type[s.EventPayload],
    key_field: str,
    producer: str,
    consumers: tuple[str, ...],
    summary: str,
    **extra: object,
) -> EventSpec:
    return EventSpec(type_, topic, model, key_field, producer, consumers, summary, **extra)  # type: ignore[arg-type]


_GRID_INTAKE = ("grid-events", "gateway")

EVENTS: tuple[EventSpec, ...] = (
    _spec(
        "city.camera.frame.captured.v1",
        "camera.frames",
        s.FrameCaptured,
        "camera_id",
        "video-ingest",
        ("fire-detect",),
        "A camera frame; the data is the JPEG or PNG image itself.",
        binary=True,
        content_types=("image/jpeg", "image/png"),
        extension_names={
            "camera_id": "cameraid",
            "camera_kind": "camerakind",
            "captured_at": "capturedat",
            "pan_azimuth_deg": "panazimuth",
            "tilt_deg": "tilt",
        },
    ),
    _spec(
        "city.camera.registered.v1",
        "camera.status",
        s.CameraRegistered,
        "camera_id",
        "video-ingest",
        ("fire-detect",),
        "A camera joined the registry: its place, heading and field of view.",
    ),
    _spec(
        "city.camera.offline.v1",
        "camera.status",
        s.CameraStatusChanged,
        "camera_id",
        "video-ingest",
        _GRID_INTAKE,
        "A camera missed its expected frames and is considered offline.",
    ),
    _spec(
        "city.camera.online.v1",
        "camera.status",
        s.CameraStatusChanged,
        "camera_id",
        "video-ingest",
        _GRID_INTAKE,
        "A camera that was offline delivers frames again.",
    ),
    _spec(
        "city.fire.alarm.raised.v1",
        "fire.alarms",
        s.FireAlarmRaised,
        "alarm_id",
        "fire-detect",
        ("grid-events", "health-record", "video-ingest", "gateway"),
        "A persistent flame or smoke sequence (or a ranger's report) raised a fire alarm.",
    ),
    *(
        _spec(
            f"city.fire.alarm.{status}.v1",
            "fire.alarms",
            s.FireAlarmStatusChanged,
            "alarm_id",
            "fire-detect",
            ("grid-events", "health-record", "video-ingest", "gateway"),
            f"A fire alarm moved to '{status}'.",
        )
        for status in ("verified", "dismissed", "dispatched", "extinguished")
    ),
    _spec(
        "city.env.exceedance.detected.v1",
        "env.exceedances",
        s.ExceedanceDetected,
        "cell_id",
        "air-water",
        ("grid-events", "enterprise-hub", "gateway"),
        "A grid cell's hourly concentration exceeds the limit and its surroundings.",
    ),
    _spec(
        "city.env.exceedance.closed.v1",
        "env.exceedances",
        s.ExceedanceClosed,
        "cell_id",
        "air-water",
        ("grid-events", "gateway"),
        "An exceedance was investigated and closed.",
    ),
    _spec(
        "city.traffic.incident.detected.v1",
        "traffic.incidents",
        s.TrafficIncidentDetected,
        "incident_id",
        "traffic-signal",
        ("grid-events", "gateway"),
        "A traffic incident recognised from video or detectors.",
    ),
    _spec(
        "city.traffic.incident.cleared.v1",
        "traffic.incidents",
        s.TrafficIncidentCleared,
        "incident_id",
        "traffic-signal",
        ("grid-events", "gateway"),
        "A traffic incident was cleared.",
    ),
    *(
        _spec(
            f"city.grid.case.{status}.v1",
            "grid.cases",
            s.GridCaseChanged,
            "case_id",
            "grid-events",
            ("air-water", "traffic-signal", "gateway"),
            f"A grid case was {status}.",
        )
        for status in ("opened", "dispatched", "resolved", "closed", "escalated")
    ),
    _spec(
        "city.enterprise.policy.published.v1",
        "enterprise.policies",
        s.PolicyPublished,
        "policy_id",
        "enterprise-hub",
        ("gateway",),
        "A policy (tax relief, subsidy, ...) was published to the enterprises it applies to.",
    ),
)

# A frame event carries the whole image: the default frame limit (2 MiB) plus room
# for the CloudEvents headers and the record batch around it.
FRAME_MESSAGE_BYTES = 2 * 1024 * 1024 + 64 * 1024
TOPIC_CONFIGS: dict[str, dict[str, str]] = {
    "camera.frames": {"max.message.bytes": str(FRAME_MESSAGE_BYTES)},
}

_BY_TYPE: dict[str, EventSpec] = {spec.type: spec for spec in EVENTS}
TOPICS: tuple[str, ...] = tuple(dict.fromkeys(spec.topic for spec in EVENTS))


def spec_for_type(event_type: str) -> EventSpec:
    try:
        return _BY_TYPE[event_type]
    except KeyError as exc:
        raise EnvelopeError(f"unknown event type {event_type!r}") from exc
