from city_common.db.migrations import run_env
from traffic_signal.adapters.orm import metadata

run_env(metadata)
