"""Citizens' reports through Open311 GeoReport v2: the service list and its rules. Pure, no I/O.

What the specification (wiki.open311.org/GeoReport_v2) fixes and this module
follows: services carry ``service_code, service_name, description, metadata, type,
keywords, group``; definitions carry attributes of datatype ``string, number,
datetime, text, singlevaluelist, multivaluelist``; a request needs a location
(``lat`` and ``long``, or ``address_string``, or ``address_id``); descriptions
hold at most 4,000 characters and no HTML; a status is ``open`` or ``closed``;
date filters use the W3C subset of ISO 8601 with a time zone and span at most 90
days, the default being the latest 90 days; a query answers at most 1,000 requests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
RequestStatus = Literal["open", "closed"]

MAX_DESCRIPTION = 4000
MAX_STRING = 1000
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000

_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
_HTML = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Attribute:
    code: str
    datatype: Datatype
    description: str
    order: int
    required: bool = False
    variable: bool = True
    datatype_description: str | None = None
    values: tuple[tuple[str, str], ...] = ()  # (key, name) of list datatypes

    def definition(self) -> dict[str, object]:
        return {
            "variable": self.variable,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": self.order,
            "description": self.description,
            "values": [{"key": k, "name": n} for k, n in self.values],
        }


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    name: str
    description: str
    category: str  # the case category a request of this service opens
    group: str
    keywords: str
    notice: str
    attributes: tuple[Attribute, ...] = ()

    @property
    def metadata(self) -> bool:
        return any(a.variable for a in self.attributes)

    def listing(self, request_type: str) -> dict[str, object]:
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": self.description,
            "metadata": self.metadata,
            "type": request_type,
            "keywords": self.keywords,
            "group": self.group,
        }

    def definition(self) -> dict[str, object]:
        return {
            "service_code": self.code,
            "attributes": [a.definition() for a in sorted(self.attributes, key=lambda a: a.order)],
        }


# The services a citizen can report, each opening a case of one category. Codes
# are stable: clients store them.
CATALOGUE: dict[str, Service] = {
    s.code: s
    for s in (
        Service(
            code="forest-smoke",
            name="Smoke or fire in a forest (林区烟火)",
            description="Smoke, flames or burning smell on a hillside or in a forest.",
            category="forest_fire",
            group="forest",
            keywords="fire, smoke, forest, 山火, 烟",
            notice="Forestry is alerted at once. If people are in danger, call 119.",
            attributes=(
                Attribute(
                    code="flames",
                    datatype="singlevaluelist",
                    description="Can you see flames?",
                    order=1,
                    values=(("yes", "Yes"), ("no", "No, only smoke"), ("unsure", "Not sure")),
                ),
            ),
        ),
        Service(
            code="air-pollution",
            name="Smoke, dust or odour in the air (大气污染)",
            description="Open burning, factory smoke, construction dust, strong odours.",
            category="air_pollution",
            group="environment",
            keywords="smoke, dust, odour, smell, burning, 烟尘, 异味",
            notice="The environment department checks the nearest monitoring station.",
            attributes=(
                Attribute(
                    code="source",
                    datatype="singlevaluelist",
                    description="What seems to cause it?",
                    order=1,
                    required=True,
                    values=(
                        ("factory", "A factory or workshop"),
                        ("open_burning", "Open burning"),
                        ("construction", "Construction or demolition dust"),
                        ("vehicle", "Vehicles"),
                        ("other", "Something else"),
                    ),
                ),
                Attribute(
                    code="noticed_at",
                    datatype="datetime",
                    description="When did you first notice it?",
                    order=2,
                    datatype_description="ISO 8601, e.g. 2026-11-24T08:30:00+08:00",
                ),
            ),
        ),
        Service(
            code="water-pollution",
            name="Polluted river, pond or reservoir (水体污染)",
            description="Discoloured water, foam, dead fish, oily film, sewage outfalls.",
            category="water_pollution",
            group="environment",
            keywords="water, river, sewage, fish, 河流, 污水",
            notice="The environment department samples the water body.",
            attributes=(
                Attribute(
                    code="water_body",
                    datatype="string",
                    description="Name of the river, pond or reservoir, if known",
                    order=1,
                ),
                Attribute(
                    code="signs",
                    datatype="multivaluelist",
                    description="What do you see?",
                    order=2,
                    values=(
                        ("discoloured", "Discoloured water"),
                        ("foam", "Foam"),
                        ("dead_fish", "Dead fish"),
                        ("oily_film", "Oily film"),
                        ("odour", "Odour"),
                    ),
                ),
            ),
        ),
        Service(
            code="traffic-hazard",
            name="Road hazard or broken signal (道路隐患)",
            description="Obstacles, broken traffic lights, flooding, accidents without injuries.",
            category="traffic_incident",
            group="street",
            keywords="road, traffic, signal, obstacle, flooding, 交通, 信号灯",
            notice="Transport is informed; call 122 for accidents with injuries.",
            attributes=(
                Attribute(
                    code="hazard",
                    datatype="singlevaluelist",
                    description="What is the hazard?",
                    order=1,
                    required=True,
                    values=(
                        ("obstacle", "Obstacle on the road"),
                        ("broken_signal", "Traffic light out of order"),
                        ("flooding", "Flooded road"),
                        ("accident", "Accident without injuries"),
                        ("other", "Something else"),
                    ),
                ),
                Attribute(
                    code="lanes_blocked",
                    datatype="number",
                    description="How many lanes are blocked?",
                    order=2,
                ),
            ),
        ),
        Service(
            code="public-safety",
            name="Public safety hazard (安全隐患)",
            description="Blocked fire lanes, unsafe buildings, dangerous installations.",
            category="public_safety",
            group="safety",
            keywords="fire lane, unsafe, danger, 消防通道, 隐患",
            notice="Your grid worker visits the place.",
        ),
        Service(
            code="urban-management",
            name="Litter, street furniture, parking (城市管理)",
            description="Litter, broken benches or lamps, illegal parking, street stalls.",
            category="other",
            group="street",
            keywords="litter, garbage, lamp, parking, 垃圾, 路灯",
            notice="Urban management schedules the repair or clean-up.",
        ),
    )
}


# --- statuses ------------------------------------------------------------------------

# A case is "closed" to an Open311 client once it no longer needs the city's action.
_CLOSED = frozenset({"resolved", "verified", "closed", "rejected", "duplicate"})


def request_status(case_status: str) -> RequestStatus:
    return "closed" if case_status in _CLOSED else "open"


def status_notes(case_status: str) -> str | None:
    """More than open/closed says: where the case is in its lifecycle."""
    if case_status in ("reported", "opened"):
        return None
    return f"case {case_status}"


# --- errors ----------------------------------------------------------------------------


class Open311Error(Exception):  # noqa: N818 - the spec's word
    """Answered as the specification's error array: ``[{code, description}]``."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.errors = [(status, d) for d in descriptions]


def bad_request(*descriptions: str) -> Open311Error:
    return Open311Error(400, *descriptions)


# --- a posted request ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactDetails:
    """What a client may send about the person reporting; stored sealed, never shown."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    device_id: str | None = None
    account_id: str | None = None

    def present(self) -> dict[str, str]:
        return {k: v for k in self.__slots__ if (v := getattr(self, k)) is not None}


@dataclass(frozen=True, slots=True)
class CitizenReport:
    """A validated POST requests: what becomes a case."""

    service: Service
    lat: float | None
    long: float | None
    address_string: str | None
    address_id: str | None
    description: str | None
    media_url: str | None
    contact: ContactDetails
    attributes: dict[str, str | list[str]] = field(default_factory=dict)


_SCALARS = (
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
)


@dataclass(slots=True)
class PostedForm:
    """The form fields of POST requests, with ``attribute[code]`` and ``attribute[code][]``."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    multi: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> PostedForm:
        form = cls()
        for key, value in pairs:
            match = _ATTRIBUTE_KEY.match(key)
            if match:
                code, is_list = match.group(1), bool(match.group(2))
                if is_list:
                    form.multi.add(code)
                if value != "":
                    form.attributes.setdefault(code, []).append(value)
                continue
            if key in _SCALARS:
                if key in form.fields and value != "" and form.fields[key] != value:
                    raise bad_request(f"{key} is given more than once")
                # "Optional" means an empty parameter is the same as none (the spec).
                if value != "":
                    form.fields[key] = value
            # Other parameters are not part of GeoReport v2 and are ignored.
        return form


def _coordinate(value: str | None, name: str, low: float, high: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise bad_request(f"{name} must be a decimal number (WGS 84)") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise bad_request(f"{name} must lie between {low} and {high}")
    return number


def _attribute_values(
    service: Service, given: Mapping[str, list[str]], multi: set[str]
) -> tuple[dict[str, str | list[str]], list[str]]:
    errors: list[str] = []
    values: dict[str, str | list[str]] = {}
    known = {a.code: a for a in service.attributes if a.variable}
    for code in given:
        if code not in known:
            errors.append(f"attribute[{code}] is not an attribute of {service.code}")
    for attribute in known.values():
        sent = given.get(attribute.code, [])
        name = f"attribute[{attribute.code}]"
        if not sent:
            if attribute.required:
                errors.append(f"{name} is required for {service.code}")
            continue
        keys = {k for k, _ in attribute.values}
        if attribute.datatype == "multivaluelist":
            wrong = [v for v in sent if v not in keys]
            if wrong:
                errors.append(f"{name} takes only {sorted(keys)}")
            values[attribute.code] = list(dict.fromkeys(sent))
            continue
        if len(sent) > 1 or attribute.code in multi:
            errors.append(f"{name} takes one value")
            continue
        value = sent[0]
        if attribute.datatype == "singlevaluelist" and value not in keys:
            errors.append(f"{name} takes one of {sorted(keys)}")
        elif attribute.datatype == "number":
            try:
                if not math.isfinite(float(value)):
                    raise ValueError
            except ValueError:
                errors.append(f"{name} must be a number")
        elif attribute.datatype == "datetime":
            try:
                parse_w3c_datetime(value)
            except ValueError:
                errors.append(f"{name} must be an ISO 8601 date and time with a time zone")
        elif attribute.datatype == "string" and ("\n" in value or len(value) > MAX_STRING):
            errors.append(f"{name} must be one line of at most {MAX_STRING} characters")
        elif attribute.datatype == "text" and len(value) > MAX_DESCRIPTION:
            errors.append(f"{name} must be at most {MAX_DESCRIPTION} characters")
        values[attribute.code] = value
    return values, errors


def _text(value: str | None, name: str, limit: int, errors: list[str]) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        errors.append(f"{name} must be at most {limit} characters")
    return value


def validate_report(form: PostedForm) -> CitizenReport:
    """Every problem of a posted request at once, as 400 errors; else the report."""
    fields = form.fields
    code = fields.get("service_code")
    if code is None:
        raise bad_request("service_code was not provided")
    service = CATALOGUE.get(code)
    if service is None:
        raise Open311Error(404, f"service_code {code!r} was not found")
    errors: list[str] = []
    lat_raw, long_raw = fields.get("lat"), fields.get("long")
    lat = long = None
    if (lat_raw is None) != (long_raw is None):
        errors.append("lat and long must be sent together")
    else:
        try:
            lat = _coordinate(lat_raw, "lat", -90.0, 90.0)
            long = _coordinate(long_raw, "long", -180.0, 180.0)
        except Open311Error as exc:
            errors.extend(d for _, d in exc.errors)
    address_string = _text(fields.get("address_string"), "address_string", 256, errors)
    address_id = _text(fields.get("address_id"), "address_id", 64, errors)
    if lat is None and address_string is None and address_id is None and not errors:
        errors.append("a location is required: lat and long, address_string or address_id")
    description = _text(fields.get("description"), "description", MAX_DESCRIPTION, errors)
    if description is not None and _HTML.search(description):
        errors.append("description may contain line breaks but no HTML")
    media_url = _text(fields.get("media_url"), "media_url", 2048, errors)
    if media_url is not None and not _URL.match(media_url):
        errors.append("media_url must be an http or https URL")
    email = _text(fields.get("email"), "email", 320, errors)
    if email is not None and not _EMAIL.match(email):
        errors.append("email is not an email address")
    contact = ContactDetails(
        email=email,
        first_name=_text(fields.get("first_name"), "first_name", 64, errors),
        last_name=_text(fields.get("last_name"), "last_name", 64, errors),
        phone=_text(fields.get("phone"), "phone", 32, errors),
        device_id=_text(fields.get("device_id"), "device_id", 128, errors),
        account_id=_text(fields.get("account_id"), "account_id", 128, errors),
    )
    attributes, attribute_errors = _attribute_values(service, form.attributes, form.multi)
    errors.extend(attribute_errors)
    if errors:
        raise bad_request(*errors)
    return CitizenReport(
        service=service,
        lat=lat,
        long=long,
        address_string=address_string,
        address_id=address_id,
        description=description,
        media_url=media_url,
        contact=contact,
        attributes=attributes,
    )


# --- queries ----------------------------------------------------------------------------


def parse_w3c_datetime(value: str) -> datetime:
    """ISO 8601 with a time zone (``Z`` or ``±HH:MM``), as the specification requires."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("a time zone is required")
    return parsed


def split_list(value: str | None) -> list[str]:
    """A comma-delimited argument (service_request_id, service_code, status)."""
    if value is None:
        return []
    return [v.strip() for v in value.split(",") if v.strip()]


def query_window(start: str | None, end: str | None, *, now: datetime) -> tuple[datetime, datetime]:
    """The requested_datetime range of GET requests: at most 90 days, by default the latest 90."""
    try:
        since = parse_w3c_datetime(start) if start else None
        until = parse_w3c_datetime(end) if end else None
    except ValueError:
        raise bad_request(
            "start_date and end_date use the W3C format with a time zone, e.g. 2010-01-01T00:00:00Z"
        ) from None
    if since is None and until is None:
        return now - MAX_SPAN, now
    if since is None:
        assert until is not None  # noqa: S101 - one of the two is set
        return until - MAX_SPAN, until
    if until is None:
        return since, since + MAX_SPAN
    if until < since:
        raise bad_request("end_date lies before start_date")
    if until - since > MAX_SPAN:
        raise bad_request("start_date and end_date may not span more than 90 days")
    return since, until


def statuses(value: str | None) -> list[RequestStatus]:
    out: list[RequestStatus] = []
    for item in split_list(value):
        if item == "open":
            out.append("open")
        elif item == "closed":
            out.append("closed")
        else:
            raise bad_request("status takes open, closed or both, comma delimited")
    return out


def closed_case_statuses() -> frozenset[str]:
    return _CLOSED
