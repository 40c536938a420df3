import asyncpg
import pytest

from city_common.testing import migrated_database, migration_drift
from video_ingest.adapters.orm import metadata

pytestmark = pytest.mark.integration


async def test_migrations_build_exactly_the_declared_tables() -> None:
    assert await migration_drift("video_ingest", metadata) == []


async def test_frame_writes_can_stay_in_place_and_images_are_not_recompressed() -> None:
    """Each frame updates its camera and replaces its snapshot: neither may touch an
    index (a HOT update needs no indexed column changed and room on the page), and a
    JPEG is not worth PostgreSQL's own compression."""
    url = await migrated_database("video_ingest")
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        options = dict(
            await conn.fetch(
                "SELECT relname, reloptions FROM pg_class "
                "WHERE relname IN ('cameras', 'camera_frames')"
            )
        )
        storage = await conn.fetchval(
            "SELECT attstorage FROM pg_attribute "
            "WHERE attrelid = 'camera_frames'::regclass AND attname = 'image'"
        )
        indexed = await conn.fetch(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = 'cameras'::regclass"
        )
    finally:
        await conn.close()
    assert options["cameras"] == ["fillfactor=70"]
    assert options["camera_frames"] == ["fillfactor=50"]
    assert storage == b"e"  # "char": asyncpg gives bytes
    assert not {"last_frame_at", "frame_due_by"} & {row["attname"] for row in indexed}
