from city_common.db.migrations import run_env
from enterprise_hub.adapters.orm import metadata

run_env(metadata)
