from city_common.db.migrations import run_env
from grid_events.adapters.orm import metadata

run_env(metadata)
