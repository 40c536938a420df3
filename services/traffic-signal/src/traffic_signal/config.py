from pydantic_settings import SettingsConfigDict

from city_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", extra="ignore")

    service_name: str = "traffic-signal"
    http_port: int = 8001
    database_url: str = "postgresql+asyncpg://city:city@127.0.0.1:15432/traffic_signal"
