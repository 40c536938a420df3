from pydantic_settings import SettingsConfigDict

from city_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", extra="ignore")

    service_name: str = "grid-events"
    http_port: int = 8007
    database_url: str = "postgresql+asyncpg://city:city@127.0.0.1:15432/grid_events"
