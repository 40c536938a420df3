from city_common.db.migrations import run_env
from health_record.adapters.orm import metadata

run_env(metadata)
