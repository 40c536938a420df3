from air_water.adapters.orm import metadata
from city_common.db.migrations import run_env

run_env(metadata)
