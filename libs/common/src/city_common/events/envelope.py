"""CloudEvents 1.0 in Kafka binary content mode.

The Kafka protocol binding maps each context attribute to a ``ce_<name>`` header,
``datacontenttype`` to the ``content-type`` header, and puts the data, untouched,
in the message value. That keeps camera frames as raw JPEG bytes on the wire.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

SPEC_VERSION = "1.0"
_REQUIRED = ("id", "source", "type", "specversion")
# CloudEvents attribute names: lower-case ASCII letters and digits only.
_ATTR_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_CORE = {"id", "source", "type", "specversion", "time", "subject", "dataschema"}


class EnvelopeError(ValueError):
    """The message is not a valid binary-mode CloudEvent: it can never be processed."""


@dataclass(frozen=True, slots=True)
class CloudEvent:
    type: str
    source: str
    data: bytes
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    subject: str | None = None
    dataschema: str | None = None
    specversion: str = SPEC_VERSION
    # Extension attributes, e.g. ``traceparent`` (W3C distributed tracing extension).
    extensions: Mapping[str, str] = field(default_factory=dict)

    @property
    def traceparent(self) -> str | None:
        return self.extensions.get("traceparent")

    def with_extensions(self, **extra: str) -> CloudEvent:
        merged = dict(self.extensions)
        merged.update(extra)
        return replace(self, extensions=merged)

    def to_headers(self) -> list[tuple[str, bytes]]:
        headers: list[tuple[str, bytes]] = [
            ("ce_specversion", self.specversion.encode()),
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_time", self.time.astimezone(UTC).isoformat().encode()),
            ("content-type", self.datacontenttype.encode()),
        ]
        if self.subject is not None:
            headers.append(("ce_subject", self.subject.encode()))
        if self.dataschema is not None:
            headers.append(("ce_dataschema", self.dataschema.encode()))
        for name, value in sorted(self.extensions.items()):
            if not _ATTR_NAME.match(name) or name in _CORE:
                raise EnvelopeError(f"invalid CloudEvents extension name {name!r}")
            headers.append((f"ce_{name}", value.encode()))
        return headers

    @classmethod
    def from_headers(
        cls, headers: Iterable[tuple[str, bytes | None]], value: bytes | None
    ) -> CloudEvent:
        attrs: dict[str, str] = {}
        content_type = "application/json"
        for raw_name, raw_value in headers:
            name = raw_name.lower()
            try:
                text = (raw_value or b"").decode()
            except UnicodeDecodeError as exc:
                raise EnvelopeError(f"header {raw_name} is not UTF-8") from exc
            if name == "content-type":
                content_type = text
            elif name.startswith("ce_"):
                attrs[name[3:]] = text
        missing = [a for a in _REQUIRED if not attrs.get(a)]
        if missing:
            raise EnvelopeError(f"missing CloudEvents attributes: {', '.join(missing)}")
        if attrs["specversion"] != SPEC_VERSION:
            raise EnvelopeError(f"unsupported specversion {attrs['specversion']!r}")
        time_text = attrs.get("time")
        try:
            time = datetime.fromisoformat(time_text) if time_text else datetime.now(UTC)
        except ValueError as exc:
            raise EnvelopeError(f"ce_time is not RFC 3339: {time_text!r}") from exc
        if time.tzinfo is None:
            raise EnvelopeError("ce_time must carry a UTC offset")
        extensions = {k: v for k, v in attrs.items() if k not in _CORE}
        return cls(
            id=attrs["id"],
            source=attrs["source"],
            type=attrs["type"],
            specversion=attrs["specversion"],
            time=time,
            subject=attrs.get("subject"),
            dataschema=attrs.get("dataschema"),
            datacontenttype=content_type,
            data=value or b"",
            extensions=extensions,
        )
