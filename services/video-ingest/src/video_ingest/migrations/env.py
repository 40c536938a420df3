from city_common.db.migrations import run_env
from video_ingest.adapters.orm import metadata

run_env(metadata)
