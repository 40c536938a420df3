from city_common.db.migrations import run_env
from fire_detect.adapters.orm import metadata

run_env(metadata)
