from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from city_common.events.schemas import CameraKind
from city_common.runtime import Runtime
from city_common.settings import ServiceSettings
from video_ingest.domain.health import HealthPolicy

_MIB = 1024 * 1024


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", extra="ignore")

    service_name: str = "video-ingest"
    http_port: int = 8002
    database_url: str = "postgresql+asyncpg://city:city@127.0.0.1:15432/video_ingest"
    # The largest camera frame accepted; larger ones get 413. The platform's producer
    # sends at most 8 MiB per request, headers and batch framing included.
    max_frame_bytes: int = Field(default=2 * _MIB, ge=1024, le=6 * _MIB)
    # Above the frame limit, so that a frame near the limit is judged by the frame
    # rule and any other body still has a ceiling.
    max_body_bytes: int = Field(default=2 * _MIB + 64 * 1024, ge=1024)
    # Raise the frame topic's max.message.bytes to fit a frame at startup. Off where
    # topics are declared elsewhere (a Strimzi KafkaTopic), which must then allow it.
    manage_frame_topic: bool = True
    # Every frame goes out through the outbox with its image: a day of published rows
    # at Yongchuan's 776 frames/s of ~30 kB would be some 2 TB. They are deleted as
    # soon as Kafka has them (camera.frames keeps them there, 6 h).
    outbox_retention_hours: float = Field(default=0.0, ge=0.0)

    # Pushed frames in flight at once in this process; more are refused with 503 and
    # Retry-After. Cameras without priority may take only the smaller share, so that
    # the rest stays free for priority cameras' frames (see domain/admission.py).
    frames_in_flight_max: int = Field(default=64, ge=1, le=10_000)
    frames_in_flight_low_priority_max: int = Field(default=32, ge=1, le=10_000)
    # The most pushed frames written in one transaction (those that arrived while the
    # previous batch was being written).
    frame_batch_max: int = Field(default=64, ge=1, le=1000)
    # Camera kinds whose frames have priority: the forest cameras watch for fire.
    priority_camera_kinds: frozenset[CameraKind] = frozenset({CameraKind.FOREST})
    # How often the priority cameras are read again from the registry.
    priority_refresh_s: float = Field(default=10.0, gt=0.0, le=3600.0)

    # Snapshot cruise: cameras with a snapshot URL are polled here, one preset pose per
    # poll. Off in a deployment where another process polls them (or in tests that
    # drive one step at a time).
    cruise_enabled: bool = True
    # Seconds between two polls of one camera (one pose each); a camera may override it.
    cruise_interval_s: float = Field(default=10.0, gt=0.0, le=86_400.0)
    # Polls in flight at once in this process; the rest wait for a free slot.
    cruise_concurrency: int = Field(default=16, ge=1, le=1000)
    # The longest one poll may take, connection to last byte.
    cruise_timeout_s: float = Field(default=5.0, gt=0.0, le=120.0)
    # How often the cruise looks for cameras that are due.
    cruise_tick_s: float = Field(default=0.5, gt=0.0, le=60.0)

    # Camera health: a camera that delivers no frame for this many of its expected
    # intervals goes offline (one event); its next frame brings it back (one event).
    offline_after_intervals: float = Field(default=3.0, ge=1.0, le=1000.0)
    health_sweep_enabled: bool = True
    health_sweep_interval_s: float = Field(default=5.0, gt=0.0, le=3600.0)

    @model_validator(mode="after")
    def _body_fits_a_frame(self) -> "Settings":
        if self.max_body_bytes < self.max_frame_bytes:
            raise ValueError("max_body_bytes must be at least max_frame_bytes")
        if self.frames_in_flight_low_priority_max > self.frames_in_flight_max:
            raise ValueError(
                "frames_in_flight_low_priority_max must be at most frames_in_flight_max"
            )
        return self


def health_policy(settings: Settings) -> HealthPolicy:
    return HealthPolicy(
        offline_after_intervals=settings.offline_after_intervals,
        cruise_interval_s=settings.cruise_interval_s,
    )


def settings_of(runtime: Runtime) -> Settings:
    """This service's settings; the platform's runtime holds them as plain platform settings."""
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError("video-ingest runs with video_ingest.config.Settings")
    return settings
