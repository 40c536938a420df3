from pydantic import Field
from pydantic_settings import SettingsConfigDict

from city_common.settings import ServiceSettings

# The public name of each service under /api/v1/ and where it listens in the dev stack.
DEFAULT_SERVICE_URLS = {
    "traffic-signal": "http://127.0.0.1:8001",
    "video-ingest": "http://127.0.0.1:8002",
    "fire-detect": "http://127.0.0.1:8003",
    "air-water": "http://127.0.0.1:8004",
    "health-record": "http://127.0.0.1:8005",
    "enterprise-hub": "http://127.0.0.1:8006",
    "grid-events": "http://127.0.0.1:8007",
}


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", extra="ignore")

    service_name: str = "gateway"
    http_port: int = 8000
    database_url: str = "postgresql+asyncpg://city:city@127.0.0.1:15432/gateway"
    # Frames pass through the gateway; allow them and a little multipart overhead.
    max_body_bytes: int = 3 * 1024 * 1024
    service_urls: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SERVICE_URLS))
    proxy_timeout_s: float = Field(default=15.0, gt=0, le=120)
    # Token bucket per caller: sustained rate and burst.
    rate_limit_per_s: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    live_feed_enabled: bool = True
    live_feed_buffer: int = Field(default=200, ge=1, le=10_000)
