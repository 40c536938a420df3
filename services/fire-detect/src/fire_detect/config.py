from pydantic import Field
from pydantic_settings import SettingsConfigDict

from city_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", extra="ignore")

    service_name: str = "fire-detect"
    http_port: int = 8003
    database_url: str = "postgresql+asyncpg://city:city@127.0.0.1:15432/fire_detect"
    # Frames come 776 a second, nine in ten of them passed over unread: larger batches
    # mean fewer transactions and offset commits a frame.
    consumer_batch_size: int = Field(default=500, ge=1, le=5000)
    # A fire-watch frame should not wait on the broker: with the default 500 ms the
    # hop from Kafka to the detector took 0.27 s at the median, 0.76 s at p90; with
    # 50 ms, 0.18 s and 0.44 s (bench/fire/latency_bench.py, 776 cameras).
    consumer_fetch_max_wait_ms: int = Field(default=50, ge=1, le=10_000)

    # The danger level used when no noon weather of today or yesterday was recorded.
    fire_default_danger_level: int = Field(default=3, ge=1, le=5)
    # Latitude of the forest, for the day-length factors of the Fire Weather Index.
    fire_latitude: float = Field(default=29.35, ge=-90.0, le=90.0)
    # How near and how far a lookout camera sees a fire, in metres: the wedge a single
    # bearing leaves open, and the range within which two bearings may cross.
    fire_view_near_m: float = Field(default=200.0, ge=0.0)
    fire_view_far_m: float = Field(default=15_000.0, gt=0.0)
    # Alarms of other cameras within this many minutes may be the same fire.
    fire_cross_window_min: float = Field(default=30.0, gt=0.0)
    # Camera poses whose last frames the detector keeps in memory, and how old a pose's
    # last frame may be before its memory is started afresh.
    fire_scene_memories: int = Field(default=4096, ge=1)
    fire_scene_max_gap_s: float = Field(default=600.0, gt=0.0)
    # Who a CAP 1.2 alert says sent it: an address without spaces, commas or '<&'.
    fire_cap_sender: str = Field(default="fire-detect@yongchuan.city", pattern=r"^[^\s,<&]{1,128}$")
    fire_cap_sender_name: str = "Yongchuan Forest Fire Early Warning"

    # Notifications: the delivery worker, how often it looks for due deliveries and how
    # many it sends at once; how long a receiver may take to answer.
    fire_notify_enabled: bool = True
    fire_notify_poll_interval_s: float = Field(default=1.0, gt=0.0, le=60.0)
    fire_notify_batch_size: int = Field(default=100, ge=1, le=1000)
    fire_notify_timeout_s: float = Field(default=5.0, gt=0.0, le=60.0)
    # Retries: attempt n waits base * 2**(n-1) (at most max) after failing; after
    # max_attempts failed attempts the delivery is given up.
    fire_notify_max_attempts: int = Field(default=6, ge=1, le=50)
    fire_notify_backoff_base_s: float = Field(default=5.0, gt=0.0)
    fire_notify_backoff_max_s: float = Field(default=600.0, gt=0.0)
    # How long a claimed delivery is held before another worker may try it (a worker
    # that died mid-send); longer than a send can take.
    fire_notify_lease_s: float = Field(default=60.0, gt=0.0)
    # The link a notice carries: this base plus the alarm id.
    fire_alarm_link_base: str = "http://127.0.0.1:8000/api/v1/fire-detect/alarms/"
    # The HTTP SMS gateway (POST {"to", "text", "reference"}); unset: SMS deliveries fail.
    fire_sms_gateway_url: str | None = None
    fire_sms_gateway_token: str | None = None
