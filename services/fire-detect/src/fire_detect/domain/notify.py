"""Who hears of a fire alarm, how, and what they are told. Pure logic, no I/O.

A subscription names a person in a role, the area they answer for, a channel
(a webhook or an SMS) and its target. Each alarm (and each later step of it the
subscription asks for) becomes one delivery per matching subscription; a delivery
is tried until the channel accepts it, with exponential backoff, and given up
after a fixed number of attempts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from city_common.events.schemas import FireAlarmStatus


class Channel(StrEnum):
    WEBHOOK = "webhook"
    SMS = "sms"


class SubscriberRole(StrEnum):
    """The people a forest fire concerns, in the forestry bureau's own words."""

    RANGER = "ranger"
    FORESTRY_CHIEF = "forestry_chief"
    VILLAGE_HEAD = "village_head"
    FIRE_BRIGADE = "fire_brigade"
    COMMAND_CENTRE = "command_centre"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not tried yet
    SENT = "sent"  # the channel accepted it (final)
    FAILED = "failed"  # the last attempt failed; another one is due at next_attempt_at
    GAVE_UP = "gave_up"  # every attempt failed, or the subscription went away (final)


# Deliveries still to be tried: what the worker claims.
OPEN_STATUSES: frozenset[DeliveryStatus] = frozenset(
    {DeliveryStatus.PENDING, DeliveryStatus.FAILED}
)

# By default a subscriber hears of new alarms only; the later steps are opt-in.
DEFAULT_ALARM_STATUSES: tuple[FireAlarmStatus, ...] = (FireAlarmStatus.RAISED,)


class InvalidTarget(ValueError):
    """The target does not fit the channel (a phone number for SMS, a URL for a webhook)."""


# --- targets -------------------------------------------------------------------

# Mainland China mobile numbers: 11 digits starting 13-19. SMS reaches nothing else.
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
MASK = "*"
MAX_URL_LENGTH = 2000


def normalise_mobile(raw: str) -> str:
    """The 11 digits of a mobile number; blanks, dashes and a +86 / 0086 prefix removed."""
    compact = re.sub(r"[\s-]", "", raw)
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            compact = compact[len(prefix) :]
            break
    if not _MOBILE.fullmatch(compact):
        raise InvalidTarget(
            "an SMS target is a mainland China mobile number: 11 digits starting 13 to 19"
        )
    return compact


def normalise_webhook_url(raw: str) -> str:
    """An absolute http(s) URL with a host and no credentials in it."""
    url = raw.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidTarget(f"a webhook URL is at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidTarget(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidTarget("a webhook URL starts with http:// or https://")
    if not parts.hostname:
        raise InvalidTarget("a webhook URL needs a host")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs; a receiver's secret belongs in its path.
        raise InvalidTarget("a webhook URL must not carry a user name or password")
    if port == 0:
        raise InvalidTarget("a webhook URL's port must be 1 to 65535")
    if parts.fragment:
        raise InvalidTarget("a webhook URL has no fragment (#...)")
    return url


def normalise_target(channel: Channel, raw: str) -> str:
    if channel is Channel.SMS:
        return normalise_mobile(raw)
    return normalise_webhook_url(raw)


def mask_target(channel: Channel | str, target: str) -> str:
    """What a response shows of a target: ``138****5678`` for a phone; for a URL its
    scheme and host only, because a webhook's path or query is often its secret."""
    if Channel(channel) is Channel.SMS:
        if len(target) < 8:
            return MASK * len(target)
        return target[:3] + MASK * (len(target) - 7) + target[-4:]
    parts = urlsplit(target)
    host = parts.netloc or "?"
    hidden = "/***" if (parts.path not in ("", "/") or parts.query) else "/"
    return f"{parts.scheme}://{host}{hidden}"


# --- retries ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: the n-th failed attempt waits ``base * 2**(n-1)``, at most
    ``max_delay``; after ``max_attempts`` failed attempts the delivery is given up.

    With ``jitter`` j, a delivery waits between (1 - j) and 1 times that, at a point
    fixed by its key: the 22 deliveries of one alarm to a gateway that was down do
    not all come back in the same second, and a retry is still reproducible.
    """

    max_attempts: int = 6
    base_delay: timedelta = timedelta(seconds=5)
    max_delay: timedelta = timedelta(minutes=10)
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay <= timedelta(0) or self.max_delay < self.base_delay:
            raise ValueError("need 0 < base_delay <= max_delay")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError("jitter must be in [0, 1)")

    def delay_after(self, attempts: int, key: str = "") -> timedelta:
        """How long to wait after the ``attempts``-th failed attempt of delivery ``key``."""
        # Capped exponent: 2**60 seconds would overflow a timedelta.
        factor: int = 2 ** min(max(attempts - 1, 0), 30)
        delay: timedelta = min(self.base_delay * factor, self.max_delay)
        if self.jitter == 0.0:
            return delay
        digest = hashlib.blake2b(f"{key}:{attempts}".encode(), digest_size=4).digest()
        share = int.from_bytes(digest, "big") / 2**32  # uniform in [0, 1)
        return delay * (1.0 - self.jitter * share)

    def after_failure(
        self, attempts: int, now: datetime, key: str = ""
    ) -> tuple[DeliveryStatus, datetime | None]:
        """The delivery's status after its ``attempts``-th attempt failed at ``now``,
        and when the next attempt is due (None once given up)."""
        if attempts >= self.max_attempts:
            return DeliveryStatus.GAVE_UP, None
        return DeliveryStatus.FAILED, now + self.delay_after(attempts, key)


# --- what is said ------------------------------------------------------------------

# Chongqing keeps China Standard Time all year (no daylight saving).
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

# One SMS segment holds 70 UCS-2 characters; the Chinese text must fit in one.
SMS_SEGMENT_CHARS = 70

_STATUS_WORDS: Mapping[FireAlarmStatus, str] = {
    FireAlarmStatus.RAISED: "新火警",
    FireAlarmStatus.VERIFIED: "火情已核实",
    FireAlarmStatus.DISMISSED: "火警已排除",
    FireAlarmStatus.DISPATCHED: "已派扑火队",
    FireAlarmStatus.ON_SCENE: "扑火队已到场",
    FireAlarmStatus.EXTINGUISHED: "明火已扑灭",
    FireAlarmStatus.CLOSED: "火警已结案",
}


@dataclass(frozen=True, slots=True)
class AlarmNotice:
    """What one delivery says: the alarm as it was when it reached ``status``."""

    alarm_id: str
    status: FireAlarmStatus
    kind: str
    lon: float
    lat: float
    uncertainty_m: float
    danger_level: int
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "alarm_id": self.alarm_id,
            "status": self.status.value,
            "kind": self.kind,
            "lon": self.lon,
            "lat": self.lat,
            "uncertainty_m": self.uncertainty_m,
            "danger_level": self.danger_level,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlarmNotice:
        at = datetime.fromisoformat(str(data["at"]))
        return cls(
            alarm_id=str(data["alarm_id"]),
            status=FireAlarmStatus(data["status"]),
            kind=str(data["kind"]),
            lon=float(data["lon"]),
            lat=float(data["lat"]),
            uncertainty_m=float(data["uncertainty_m"]),
            danger_level=int(data["danger_level"]),
            at=at if at.tzinfo is not None else at.replace(tzinfo=UTC),
        )


def webhook_body(notice: AlarmNotice, *, delivery_id: int, link: str) -> dict[str, Any]:
    """The JSON a webhook receives; the location is a GeoJSON Point (WGS 84)."""
    return {
        "delivery_id": delivery_id,
        "alarm_id": notice.alarm_id,
        "status": notice.status.value,
        "kind": notice.kind,
        "location": {"type": "Point", "coordinates": [notice.lon, notice.lat]},
        "uncertainty_m": notice.uncertainty_m,
        "danger_level": notice.danger_level,
        "at": notice.at.isoformat(),
        "link": link,
        "text": sms_text(notice),
    }


def sms_text(notice: AlarmNotice) -> str:
    """One SMS segment (at most 70 characters) of Chinese with the alarm's id, place
    (decimal degrees), danger level and local time, e.g.
    ``【永川林火】新火警 fa-1a2b3c4d5e6f7a8b 105.9301E,29.3502N 危险4级 11-23 15:02``."""
    local = notice.at.astimezone(CHINA_STANDARD_TIME)
    words = _STATUS_WORDS[notice.status]
    place = f"{abs(notice.lon):.4f}{'E' if notice.lon >= 0 else 'W'},"
    place += f"{abs(notice.lat):.4f}{'N' if notice.lat >= 0 else 'S'}"
    text = (
        f"【永川林火】{words} {notice.alarm_id} {place} "
        f"危险{notice.danger_level}级 {local:%m-%d %H:%M}"
    )
    if len(text) > SMS_SEGMENT_CHARS:
        # Only an unusually long alarm id gets here: the tail is cut rather than the
        # text split into two segments that may arrive out of order.
        text = text[: SMS_SEGMENT_CHARS - 1] + "…"
    return text
