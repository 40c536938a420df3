import base64
import binascii
import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from city_common.settings import ServiceSettings
from grid_events.domain.model import DedupRule
from grid_events.domain.workflow import DueTimes, WorkflowPolicy

# Development keys, public in this repository: they protect nothing. The settings
# refuse them when CITY_ENVIRONMENT=prod; production takes its own from a secret
# (e.g. `openssl rand -base64 32`).
DEV_PII_HMAC_KEY = base64.b64encode(b"DEV ONLY grid-events PII HMAC key - not secret!").decode()
DEV_PII_KEY_ID = "dev-1"
DEV_PII_ENCRYPTION_KEY = base64.b64encode(b"DEV ONLY grid-events AES key 32B").decode()

HMAC_KEY_MIN_BYTES = 32
AES_KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")


def decode_key(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{name} is not valid base64") from exc


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", extra="ignore")

    service_name: str = "grid-events"
    http_port: int = 8007
    database_url: str = "postgresql+asyncpg://city:city@127.0.0.1:15432/grid_events"

    # Personal data. CITY_PII_HMAC_KEY: base64, at least 32 bytes; it keys the
    # pseudonyms used for lookup and cannot change without re-keying every row.
    pii_hmac_key: str = DEV_PII_HMAC_KEY
    # CITY_PII_ENCRYPTION_KEYS: JSON object of key id -> base64 AES-256 key. Every
    # ciphertext names its key id, so old keys stay listed (for reading) after a new
    # one becomes active (for writing).
    pii_encryption_keys: dict[str, str] = Field(
        default_factory=lambda: {DEV_PII_KEY_ID: DEV_PII_ENCRYPTION_KEY}
    )
    # CITY_PII_ACTIVE_KEY_ID: the key new data is encrypted with; may be left out
    # when only one key is listed.
    pii_active_key_id: str | None = None

    # Open311 GeoReport v2. The one jurisdiction this endpoint serves: a request naming
    # another jurisdiction_id is answered 404, one naming none is served.
    open311_jurisdiction_id: str = Field(default="yongchuan.gov.cn", min_length=1, max_length=128)
    # "realtime": POST requests answers the service_request_id; "batch": a token, which
    # GET tokens/{token} turns into the id (for partners that expect the batch flow).
    open311_request_type: Literal["realtime", "batch"] = "realtime"

    # De-duplication: a report of the same category within this distance of an open
    # case, and within this time of its latest report, joins that case. 0 m: never.
    dedup_radius_m: float = Field(default=200.0, ge=0.0, le=10_000.0)
    dedup_window_min: float = Field(default=60.0, ge=0.0, le=7 * 24 * 60)

    # Workflow: how long the holder of a case has, by priority (1 most urgent), before
    # it escalates one level up the hierarchy; how often the escalation job looks.
    due_p1_hours: float = Field(default=2.0, gt=0.0, le=365 * 24)
    due_p2_hours: float = Field(default=24.0, gt=0.0, le=365 * 24)
    due_p3_hours: float = Field(default=72.0, gt=0.0, le=365 * 24)
    due_p4_hours: float = Field(default=7 * 24.0, gt=0.0, le=365 * 24)
    escalation_enabled: bool = True
    escalation_interval_s: float = Field(default=30.0, gt=0.0, le=3600.0)
    escalation_batch_size: int = Field(default=100, ge=1, le=10_000)
    # Sources whose cases are dispatched by the rules as they arrive; a person's
    # report waits for the command centre to dispatch it (or reject it).
    auto_dispatch_sources: frozenset[str] = frozenset(
        {"fire_alarm", "camera", "exceedance", "traffic_incident"}
    )

    @model_validator(mode="after")
    def _pii_keys(self) -> "Settings":
        hmac_key = decode_key(self.pii_hmac_key, "pii_hmac_key")
        if len(hmac_key) < HMAC_KEY_MIN_BYTES:
            raise ValueError(f"pii_hmac_key must be at least {HMAC_KEY_MIN_BYTES} bytes")
        if not self.pii_encryption_keys:
            raise ValueError("pii_encryption_keys must list at least one key")
        for key_id, value in self.pii_encryption_keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"key id {key_id!r} must be 1-32 of A-Z a-z 0-9 . _ -")
            if len(decode_key(value, f"pii_encryption_keys[{key_id}]")) != AES_KEY_BYTES:
                raise ValueError(f"pii_encryption_keys[{key_id}] must be {AES_KEY_BYTES} bytes")
        if self.pii_active_key_id is None:
            if len(self.pii_encryption_keys) > 1:
                raise ValueError("pii_active_key_id must name one of several encryption keys")
            self.pii_active_key_id = next(iter(self.pii_encryption_keys))
        elif self.pii_active_key_id not in self.pii_encryption_keys:
            raise ValueError("pii_active_key_id must be one of pii_encryption_keys")
        if self.environment == "prod":
            dev_hmac = decode_key(DEV_PII_HMAC_KEY, "dev")
            dev_aes = decode_key(DEV_PII_ENCRYPTION_KEY, "dev")
            if hmac_key == dev_hmac or any(
                decode_key(v, k) == dev_aes for k, v in self.pii_encryption_keys.items()
            ):
                raise ValueError(
                    "the development PII keys are refused in production: set "
                    "CITY_PII_HMAC_KEY and CITY_PII_ENCRYPTION_KEYS from a secret"
                )
        return self

    @property
    def dedup_rule(self) -> DedupRule:
        return DedupRule(self.dedup_radius_m, timedelta(minutes=self.dedup_window_min))

    @property
    def due_times(self) -> DueTimes:
        return DueTimes(
            timedelta(hours=self.due_p1_hours),
            timedelta(hours=self.due_p2_hours),
            timedelta(hours=self.due_p3_hours),
            timedelta(hours=self.due_p4_hours),
        )

    @property
    def workflow_policy(self) -> WorkflowPolicy:
        return WorkflowPolicy(self.due_times, self.auto_dispatch_sources)

    @property
    def active_key_id(self) -> str:
        assert self.pii_active_key_id is not None  # noqa: S101 - set by the validator
        return self.pii_active_key_id
