from city_common.db.migrations import run_env
from sample_svc.app import metadata

run_env(metadata)
