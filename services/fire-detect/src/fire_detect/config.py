from pydantic import Field
from pydantic_settings import SettingsConfigDict

from city_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", extra="ignore")

    service_name: str = "fire-detect"
    http_port: int = 8003
    database_url: str = "postgresql+asyncpg://city:city@127.0.0.1:15432/fire_detect"

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
