"""Settings every service extends (pydantic-settings, environment prefix ``CITY_``)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Base settings; each service subclasses it and adds its own fields.

    Every process reads its own environment, so ``CITY_DATABASE_URL`` names the
    database of the service that process runs (one database per service).
    """

    model_config = SettingsConfigDict(env_prefix="CITY_", env_file=None, extra="ignore")

    service_name: str = "city-service"
    environment: str = Field(default="dev", pattern="^(dev|test|staging|prod)$")
    database_url: str = "postgresql+asyncpg://city:city@127.0.0.1:15432/city_test"
    db_pool_size: int = Field(default=5, ge=1, le=100)
    kafka_bootstrap: str = "127.0.0.1:19092"
    # Topics a service finds missing are created with these; production declares
    # its topics (Strimzi KafkaTopic) with the cluster's replication instead.
    kafka_topic_partitions: int = Field(default=3, ge=1, le=1000)
    kafka_topic_replication: int = Field(default=1, ge=1, le=7)
    # Prepended to every topic name: isolates test runs, or two stages on one cluster.
    topic_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9._-]*$", max_length=64)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    log_json: bool = True
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    # Requests larger than this get 413 before any body is read.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    # JWT: HS256 with a shared secret in dev; RS256 with a public key in production.
    jwt_secret: str = "dev-secret-change-me-please-32-bytes-min"  # noqa: S105 - dev default
    jwt_public_key: str | None = None
    jwt_algorithm: str = Field(default="HS256", pattern="^(HS256|RS256|ES256)$")
    jwt_issuer: str = "yongchuan-city"
    jwt_audience: str = "yongchuan-city"
    # Off only for local experiments; the gateway and services verify tokens by default.
    auth_enabled: bool = True

    # Messaging
    consumer_enabled: bool = True
    consumer_max_attempts: int = Field(default=3, ge=1, le=20)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0.0, le=60.0)
    consumer_batch_size: int = Field(default=100, ge=1, le=5000)
    # How long the broker may hold a fetch that finds no new data (Kafka's
    # fetch.max.wait.ms): the latency-critical consumers lower it.
    consumer_fetch_max_wait_ms: int = Field(default=500, ge=1, le=10_000)
    outbox_enabled: bool = True
    outbox_poll_interval_s: float = Field(default=0.1, gt=0.0, le=10.0)
    # LISTEN for commits that wrote outbox rows and publish at once (one more
    # connection per process); the poll above remains the fallback.
    outbox_listen: bool = True
    outbox_batch_size: int = Field(default=200, ge=1, le=5000)
    # How long published outbox rows are kept (for an operator's look at what went
    # out); 0 deletes each row as soon as the broker has acknowledged it.
    outbox_retention_hours: float = Field(default=24.0, ge=0.0)

    @field_validator("database_url")
    @classmethod
    def _asyncpg_driver(cls, value: str) -> str:
        # Accept the plain libpq form operators paste, and use the async driver.
        if value.startswith("postgresql://"):
            return "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("database_url must be a postgresql:// or postgresql+asyncpg:// URL")
        return value
