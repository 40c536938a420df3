"""The command centre's map and statistics against the real PostgreSQL/PostGIS."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from city_common.testing import (
    assert_problem,
    bearer,
    execute_sql,
    migrated_database,
    running_app,
    settings_for_test,
)
from grid_events.bootstrap import create_app
from grid_events.config import Settings
from grid_events.domain.model import CHINA_STANDARD_TIME

pytestmark = pytest.mark.integration


def square(west: float, south: float, size: float) -> dict[str, Any]:
    ring = [
        [west, south],
        [west + size, south],
        [west + size, south + size],
        [west, south + size],
        [west, south],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def area(area_id: str, level: str, parent: str | None, geometry: dict[str, Any]) -> dict[str, Any]:
    props = {"id": area_id, "name": area_id, "level": level, "parent_id": parent}
    return {"type": "Feature", "properties": props, "geometry": geometry}


HIERARCHY = {
    "type": "FeatureCollection",
    "features": [
        area("d", "district", None, square(105.80, 29.20, 0.40)),
        area("t1", "town", "d", square(105.85, 29.25, 0.10)),
        area("t2", "town", "d", square(105.95, 29.35, 0.10)),
        area("v1", "village", "t1", square(105.88, 29.28, 0.05)),
        area("v2", "village", "t2", square(105.98, 29.38, 0.05)),
        area("c1", "cell", "v1", square(105.90, 29.30, 0.02)),
        area("c2", "cell", "v2", square(106.00, 29.40, 0.02)),
    ],
}


def ids(collection: dict[str, Any]) -> list[str]:
    return [f["id"] for f in collection["features"]]


async def test_map_and_statistics() -> None:
    url = await migrated_database("grid_events", f"test_views_{uuid.uuid4().hex[:8]}")
    settings = settings_for_test(Settings, url)
    reader = bearer(settings, "dispatcher")
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now - timedelta(days=10)
    hour, day = timedelta(hours=1), timedelta(days=1)
    # id, category, status, cell, lon, lat, opened, due, closed
    rows = [
        ("k1", "forest_fire", "dispatched", "c1", 105.91, 29.31, t0, t0 + hour, None),
        ("k2", "traffic_incident", "reported", "c2", 106.01, 29.41, t0 + day, now + day, None),
        ("k3", "forest_fire", "closed", "c1", 105.91, 29.31, t0, t0 + 10 * hour, t0 + 2 * hour),
        (
            "k4",
            "air_pollution",
            "closed",
            "c2",
            106.01,
            29.41,
            t0 + day,
            t0 + day + hour,
            t0 + day + 5 * hour,
        ),
        ("k5", "forest_fire", "rejected", "c1", 105.91, 29.31, t0 + 2 * day, None, None),
        ("k6", "public_safety", "in_progress", None, 107.0, 30.0, now - 40 * day, None, None),
    ]
    async with running_app(create_app(settings)) as client:
        imported = await client.post(
            "/areas/import", json=HIERARCHY, headers=bearer(settings, "admin")
        )
        assert imported.json()["created"] == 7
        for case_id, category, status, cell, lon, lat, opened, due, closed in rows:
            await execute_sql(
                url,
                "INSERT INTO cases (id, category, status, cell_id, source_kind, source_ref,"
                " location, opened_at, due_at, closed_at)"
                " VALUES ($1, $2, $3, $4, 'grid_worker', 'w', ST_SetSRID(ST_MakePoint($5, $6),"
                " 4326), $7, $8, $9)",
                case_id,
                category,
                status,
                cell,
                lon,
                lat,
                opened,
                due,
                closed,
            )

        async def map_of(query: str = "") -> dict[str, Any]:
            answer = await client.get(f"/map/cases{query}", headers=reader)
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith("application/geo+json")
            document: dict[str, Any] = answer.json()
            return document

        # By default the open cases, newest first, with their properties.
        default = await map_of()
        assert default["type"] == "FeatureCollection" and default["truncated"] is False
        assert ids(default) == ["k2", "k1", "k6"]
        first = default["features"][1]
        assert first["geometry"] == {"type": "Point", "coordinates": [105.91, 29.31]}
        props = first["properties"]
        assert (props["category"], props["status"], props["cell_id"]) == (
            "forest_fire",
            "dispatched",
            "c1",
        )
        assert props["priority"] == 3 and props["overdue"] is True
        assert datetime.fromisoformat(props["opened_at"]) == t0
        assert default["features"][0]["properties"]["overdue"] is False

        assert ids(await map_of("?category=forest_fire&category=traffic_incident")) == ["k2", "k1"]
        assert ids(await map_of("?status=closed&status=rejected")) == ["k5", "k4", "k3"]
        assert ids(await map_of("?area=t1")) == ["k1"]
        assert ids(await map_of("?area=d&status=closed")) == ["k4", "k3"]
        assert ids(await map_of("?area=c2")) == ["k2"]
        assert ids(await map_of("?bbox=105.99,29.39,106.05,29.45")) == ["k2"]
        window = f"?opened_from={(t0 + 12 * hour).isoformat()}&opened_to={now.isoformat()}"
        assert ids(await map_of(window.replace("+", "%2B"))) == ["k2"]
        cut = await map_of("?limit=1")
        assert ids(cut) == ["k2"] and cut["truncated"] is True and cut["limit"] == 1

        for query, field in (
            ("?limit=20001", "query.limit"),
            ("?area=nowhere", "query.area"),
            ("?bbox=106,29,105,30", "query.bbox"),
            ("?status=lost", "query.status.0"),
            ("?category=fire", "query.category.0"),
            ("?opened_from=2026-01-01T00:00:00", "query.opened_from"),
        ):
            assert_problem(await client.get(f"/map/cases{query}", headers=reader), 422, field=field)
        citizen = bearer(settings, "citizen")
        assert (await client.get("/map/cases", headers=citizen)).status_code == 403

        # Statistics over the last 30 days (k6 is older).
        by_category = (await client.get("/stats/cases", headers=reader)).json()
        assert by_category["total"] == 5 and by_category["group_by"] == "category"
        groups = {g["key"]: g for g in by_category["groups"]}
        assert groups["forest_fire"] == {
            "key": "forest_fire",
            "cases": 3,
            "closed": 1,
            "closed_within_due": 1,
            "share_closed_within_due": 1.0,
            "median_hours_to_close": 2.0,
        }
        assert groups["air_pollution"]["share_closed_within_due"] == 0.0
        assert groups["air_pollution"]["median_hours_to_close"] == 5.0
        assert groups["traffic_incident"]["median_hours_to_close"] is None

        by_town = (await client.get("/stats/cases?group_by=area", headers=reader)).json()
        assert {g["key"]: g["cases"] for g in by_town["groups"]} == {"t1": 3, "t2": 2}
        assert by_town["area_level"] == "town"
        by_cell = (
            await client.get("/stats/cases?group_by=area&area_level=cell&area=t2", headers=reader)
        ).json()
        assert {g["key"]: g["cases"] for g in by_cell["groups"]} == {"c2": 2}
        by_status = (await client.get("/stats/cases?group_by=status", headers=reader)).json()
        assert {g["key"]: g["cases"] for g in by_status["groups"]} == {
            "closed": 2,
            "dispatched": 1,
            "rejected": 1,
            "reported": 1,
        }
        by_day = (
            await client.get("/stats/cases?group_by=period&period=day", headers=reader)
        ).json()
        local = [
            (t0 + n * day).astimezone(CHINA_STANDARD_TIME).date().isoformat() for n in range(3)
        ]
        assert [(g["key"], g["cases"]) for g in by_day["groups"]] == list(
            zip(local, [2, 2, 1], strict=True)
        )
        by_month = (
            await client.get(
                "/stats/cases?group_by=period&period=month&from="
                + (now - 60 * day).isoformat().replace("+", "%2B"),
                headers=reader,
            )
        ).json()
        assert by_month["total"] == 6 and all(g["key"].endswith("-01") for g in by_month["groups"])
        assert_problem(
            await client.get("/stats/cases?group_by=town", headers=reader),
            422,
            field="query.group_by",
        )
        backwards = f"/stats/cases?from={now.isoformat()}&to={t0.isoformat()}".replace("+", "%2B")
        assert_problem(await client.get(backwards, headers=reader), 422, field="query.from")

        summary = (await client.get("/stats/summary", headers=reader)).json()
        assert summary["events_reported"] == 6 and summary["cases"] == 6
        assert summary["cases_closed"] == 2 and summary["closure_rate"] == 0.3333
        assert summary["share_closed_within_due"] == 0.5
        assert summary["median_hours_to_close"] == 3.5
        assert summary["disputes_registered"] == 0 and summary["dispute_resolution_rate"] is None
