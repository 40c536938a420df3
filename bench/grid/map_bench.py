"""Latency of the command centre's case map with 100,000 open and closed cases.

Builds a throwaway database (migrated like the service's own): a district of 10
towns, 20 villages and 100 grid cells, then 100,000 cases spread over a year and
over the cells (about 30 % still open), inserted in one INSERT ... SELECT. Starts
grid-events as its own process (uvicorn, consumer and relay off) and times
``GET /map/cases`` through HTTP for typical filters: p50/p99 over --requests calls
each, with the answer's size.

Baselines measured in the same run: ``GET /healthz`` (the HTTP floor), a plain
``SELECT count(*) FROM cases`` straight to PostgreSQL, and the map query with no
filter at all (every status).

Run: make stack-up && uv run python bench/grid/map_bench.py [--cases 100000] [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from city_common.testing import (
    PG_HOST,
    PG_PASSWORD,
    PG_PORT,
    PG_USER,
    bearer,
    drop_created_databases,
    free_port,
    migrated_database,
    settings_for_test,
)
from grid_events.config import Settings

WEST, SOUTH, STEP = 105.80, 29.25, 0.03  # 10 × 10 cells of 0.03°

HIERARCHY_SQL = """
INSERT INTO grid_cells (id, name, level, parent_id, geom)
SELECT 'yc', '永川区', 'district', NULL,
       ST_Multi(ST_MakeEnvelope(105.80, 29.25, 106.10, 29.55, 4326));
-- A town is a row of 10 cells; a village its western or eastern half.
INSERT INTO grid_cells (id, name, level, parent_id, geom)
SELECT format('t%s', r), format('town %s', r), 'town', 'yc',
       ST_Multi(ST_MakeEnvelope(105.80, 29.25 + r * 0.03, 106.10, 29.28 + r * 0.03, 4326))
FROM generate_series(0, 9) AS r;
INSERT INTO grid_cells (id, name, level, parent_id, geom)
SELECT format('t%s-v%s', r, h), format('village %s-%s', r, h), 'village', format('t%s', r),
       ST_Multi(ST_MakeEnvelope(105.80 + h * 0.15, 29.25 + r * 0.03,
                                105.95 + h * 0.15, 29.28 + r * 0.03, 4326))
FROM generate_series(0, 9) AS r, generate_series(0, 1) AS h;
INSERT INTO grid_cells (id, name, level, parent_id, geom)
SELECT format('c%s-%s', r, c), format('cell %s-%s', r, c), 'cell', format('t%s-v%s', r, c / 5),
       ST_Multi(ST_MakeEnvelope(105.80 + c * 0.03, 29.25 + r * 0.03,
                                105.83 + c * 0.03, 29.28 + r * 0.03, 4326))
FROM generate_series(0, 9) AS r, generate_series(0, 9) AS c;
"""

# Deterministic (setseed) so two runs measure the same data.
CASES_SQL = """
SELECT setseed(0.2026);
INSERT INTO cases (id, category, status, department, cell_id, source_kind, source_ref,
                   description, location, opened_at, updated_at, last_reported_at,
                   priority, due_at, resolved_at, closed_at)
SELECT format('case-%s', lpad(n::text, 7, '0')),
       (ARRAY['forest_fire', 'camera_fault', 'air_pollution', 'water_pollution',
              'traffic_incident', 'public_safety', 'other'])[1 + floor(random() * 7)::int],
       s.status, 'urban_management',
       format('c%s-%s', floor((p.lat - 29.25) / 0.03)::int, floor((p.lon - 105.80) / 0.03)::int),
       'grid_worker', 'bench', 'synthetic case',
       ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326),
       o.opened_at, o.opened_at, o.opened_at,
       o.priority, o.opened_at + make_interval(hours => (ARRAY[2, 24, 72, 168])[o.priority]),
       CASE WHEN s.status = 'closed' THEN o.opened_at + make_interval(hours => s.hours) END,
       CASE WHEN s.status = 'closed' THEN o.opened_at + make_interval(hours => s.hours) END
FROM generate_series(1, :n) AS n
CROSS JOIN LATERAL (
    SELECT 105.80 + random() * 0.29999 AS lon, 29.25 + random() * 0.29999 AS lat, n AS k
) AS p
CROSS JOIN LATERAL (
    SELECT now() - random() * interval '365 days' AS opened_at,
           1 + floor(random() * 4)::int AS priority, n AS k
) AS o
CROSS JOIN LATERAL (
    SELECT CASE WHEN r < 0.70 THEN 'closed'
                WHEN r < 0.78 THEN 'reported'
                WHEN r < 0.88 THEN 'dispatched'
                WHEN r < 0.94 THEN 'accepted'
                ELSE 'in_progress' END AS status,
           1 + floor(random() * 200)::int AS hours, n AS k
    FROM (SELECT random() AS r, n) AS x
) AS s;
ANALYZE cases;
ANALYZE grid_cells;
"""


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(label: str, samples: list[float], extra: str = "") -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"{label:<44} p50 {percentile(ms, 0.5):7.1f} ms  p99 {percentile(ms, 0.99):7.1f} ms"
        f"  mean {statistics.fmean(ms):7.1f} ms  {extra}"
    )


async def timed(call: Callable[[], Awaitable[object]], requests: int) -> list[float]:
    await call()  # warm: plans cached, connections open
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def wait_ready(client: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if process.returncode is not None:
            raise RuntimeError("grid-events exited during start-up")
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("grid-events did not become ready")


async def run(url: str, args: argparse.Namespace) -> None:
    db = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD, database=db
    )
    try:
        await conn.execute(HIERARCHY_SQL)
        started = time.perf_counter()
        await conn.execute(CASES_SQL.replace(":n", str(int(args.cases))))
        loaded = time.perf_counter() - started
        counts = dict(
            await conn.fetch(
                "SELECT closed_at IS NULL AS open, count(*) FROM cases GROUP BY 1 ORDER BY 1"
            )
        )
        print(
            f"{args.cases:,} cases inserted and analysed in {loaded:.1f} s "
            f"({counts.get(True, 0):,} open, {counts.get(False, 0):,} closed); "
            f"{os.cpu_count()} CPUs, server and client on this machine"
        )

        settings = settings_for_test(Settings, url)
        port = free_port()
        env = {
            **os.environ,
            "CITY_DATABASE_URL": url,
            "CITY_HTTP_PORT": str(port),
            "CITY_CONSUMER_ENABLED": "false",
            "CITY_OUTBOX_ENABLED": "false",
            "CITY_ENVIRONMENT": "test",
            "CITY_LOG_LEVEL": "WARNING",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "grid_events", env=env, stdout=asyncio.subprocess.DEVNULL
        )
        try:
            headers = bearer(settings, "dispatcher")
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60
            ) as client:
                await wait_ready(client, process)
                await measure(client, conn, args.requests)
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        await conn.close()


async def measure(client: httpx.AsyncClient, conn: asyncpg.Connection, requests: int) -> None:
    now = datetime.now(UTC)
    week = (now - timedelta(days=7)).isoformat().replace("+", "%2B")
    every_status = "&".join(
        f"status={s}" for s in ("reported", "dispatched", "accepted", "in_progress", "closed")
    )

    health = await timed(lambda: client.get("/healthz"), requests)
    print(line("baseline: GET /healthz (HTTP floor)", health))
    count = await timed(lambda: conn.fetchval("SELECT count(*) FROM cases"), requests)
    print(line("baseline: SELECT count(*) FROM cases (SQL)", count))

    filters = [
        ("baseline: no filter, every status, 5,000", f"?{every_status}"),
        ("default: open cases, newest 5,000", ""),
        ("open, category forest_fire", "?category=forest_fire"),
        ("open, 2 categories", "?category=forest_fire&category=traffic_incident"),
        ("open, area = one town (subtree)", "?area=t4"),
        ("open, area = one cell", "?area=c4-4"),
        ("open, bbox 0.06° x 0.06°", "?bbox=105.90,29.35,105.96,29.41"),
        ("open, opened in the last 7 days", f"?opened_from={week}"),
        ("closed, one town, last 7 days", f"?status=closed&area=t2&opened_from={week}"),
        ("every status, max limit 20,000", f"?{every_status}&limit=20000"),
    ]
    for label, query in filters:
        answer = await client.get(f"/map/cases{query}")
        assert answer.status_code == 200, answer.text
        features = len(answer.json()["features"])

        async def call(query: str = query) -> None:
            response = await client.get(f"/map/cases{query}")
            response.raise_for_status()

        samples = await timed(call, requests)
        size = len(answer.content)
        print(line(label, samples, f"{features:>6,} features {size / 1e6:6.2f} MB"))


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100, help="timed calls per filter")
    args = parser.parse_args()
    url = await migrated_database("grid_events", f"test_bench_map_{uuid.uuid4().hex[:8]}")
    try:
        await run(url, args)
    finally:
        await drop_created_databases()


if __name__ == "__main__":
    asyncio.run(main())
