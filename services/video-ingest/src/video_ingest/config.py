from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from city_common.runtime import Runtime
from city_common.settings import ServiceSettings

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

    @model_validator(mode="after")
    def _body_fits_a_frame(self) -> "Settings":
        if self.max_body_bytes < self.max_frame_bytes:
            raise ValueError("max_body_bytes must be at least max_frame_bytes")
        return self


def settings_of(runtime: Runtime) -> Settings:
    """This service's settings; the platform's runtime holds them as plain platform settings."""
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError("video-ingest runs with video_ingest.config.Settings")
    return settings
