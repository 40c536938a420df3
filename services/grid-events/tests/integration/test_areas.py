"""The administrative hierarchy as GeoJSON, and point-to-cell lookup at cell borders."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from city_common.testing import (
    assert_problem,
    bearer,
    migrated_database,
    running_app,
    settings_for_test,
)
from grid_events.bootstrap import create_app
from grid_events.config import Settings

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
    return {
        "type": "Feature",
        "properties": {
            "id": area_id,
            "name": f"名称 {area_id}",
            "level": level,
            "parent_id": parent,
        },
        "geometry": geometry,
    }


# District 0.4°, one town, one village, two cells side by side sharing the edge
# lon = 105.92 (and, further out, a third cell under the same village).
HIERARCHY = [
    # Children first: the import orders them itself.
    area("c-a-west", "cell", "v-1", square(105.90, 29.34, 0.02)),
    area("c-b-east", "cell", "v-1", square(105.92, 29.34, 0.02)),
    area("v-1", "village", "t-1", square(105.88, 29.32, 0.10)),
    area("t-1", "town", "d-1", square(105.85, 29.30, 0.20)),
    area("d-1", "district", None, square(105.80, 29.20, 0.40)),
]


async def test_import_export_and_border_lookup() -> None:
    url = await migrated_database("grid_events", f"test_areas_{uuid.uuid4().hex[:8]}")
    settings = settings_for_test(Settings, url)
    admin = bearer(settings, "admin")
    reader = bearer(settings, "operator")
    document = {"type": "FeatureCollection", "features": HIERARCHY}
    async with running_app(create_app(settings)) as client:
        first = await client.post("/areas/import", json=document, headers=admin)
        assert first.status_code == 200, first.text
        assert first.json() == {
            "received": 5,
            "created": 5,
            "updated": 0,
            "unchanged": 0,
            "rejected_rows": 0,
            "rejected": [],
        }
        # Importing the same file again changes nothing.
        again = (await client.post("/areas/import", json=document, headers=admin)).json()
        assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)

        # A row-level report: a renamed village is updated; a bow-tie polygon, a cell
        # hung under a town, a child of the bad row and an unknown parent are refused.
        bow_tie = {
            "type": "Polygon",
            "coordinates": [
                [[105.9, 29.3], [106.0, 29.4], [106.0, 29.3], [105.9, 29.4], [105.9, 29.3]]
            ],
        }
        renamed = area("v-1", "village", "t-1", square(105.88, 29.32, 0.10))
        renamed["properties"]["name"] = "新名"
        mixed = {
            "type": "FeatureCollection",
            "features": [
                renamed,
                area("v-bad", "village", "t-1", bow_tie),
                area("c-under-town", "cell", "t-1", square(105.86, 29.31, 0.01)),
                area("c-orphan", "cell", "v-bad", square(105.86, 29.31, 0.01)),
                area("c-lost", "cell", "v-nowhere", square(105.86, 29.31, 0.01)),
                area("c-new", "cell", "v-1", square(105.94, 29.34, 0.02)),
            ],
        }
        report = (await client.post("/areas/import", json=mixed, headers=admin)).json()
        assert (report["created"], report["updated"], report["unchanged"]) == (1, 1, 0)
        rejected = {r["row"]: r for r in report["rejected"]}
        assert report["rejected_rows"] == 4 and sorted(rejected) == [2, 3, 4, 5]
        assert rejected[2]["field"] == "geometry" and "Self-intersection" in rejected[2]["reason"]
        assert rejected[3]["field"] == "properties.parent_id" and "village" in rejected[3]["reason"]
        assert rejected[4]["id"] == "c-orphan" and "rejected" in rejected[4]["reason"]
        assert "neither stored nor in this file" in rejected[5]["reason"]

        not_a_collection = await client.post(
            "/areas/import", json={"type": "Feature"}, headers=admin
        )
        assert_problem(not_a_collection, 422, field="body.type")
        forbidden = await client.post("/areas/import", json=document, headers=reader)
        assert forbidden.status_code == 403

        village = (await client.get("/areas/v-1", headers=reader)).json()
        assert village["name"] == "新名" and village["children"] == 3
        assert village["geometry"]["type"] == "MultiPolygon"
        assert village["bbox"] == pytest.approx([105.88, 29.32, 105.98, 29.42])
        assert (await client.get("/areas/nope", headers=reader)).status_code == 404

        cells = (await client.get("/areas?level=cell&parent_id=v-1", headers=reader)).json()
        assert cells["total"] == 3
        assert [c["id"] for c in cells["items"]] == ["c-a-west", "c-b-east", "c-new"]

        exported = await client.get("/areas?format=geojson", headers=reader)
        assert exported.headers["content-type"].startswith("application/geo+json")
        features = exported.json()["features"]
        assert [f["properties"]["level"] for f in features][:3] == ["district", "town", "village"]
        assert len(features) == 6
        # The export is an import file: into a fresh database it rebuilds the hierarchy.
    url2 = await migrated_database("grid_events", f"test_areas_{uuid.uuid4().hex[:8]}")
    settings2 = settings_for_test(Settings, url2)
    async with running_app(create_app(settings2)) as client:
        rebuilt = await client.post(
            "/areas/import", json=exported.json(), headers=bearer(settings2, "admin")
        )
        assert rebuilt.json()["created"] == 6 and rebuilt.json()["rejected"] == []

        # On the edge the two cells share, both cover the point: the rule (finest
        # level, then lowest id) gives it to c-a-west every time. (c-b-east's area
        # is smaller by float noise: an area rule would pick it.)
        worker = bearer(settings2, "grid_worker")
        for _ in range(3):
            edge = await client.get("/cells/lookup?lon=105.92&lat=29.35", headers=worker)
            assert edge.json() == {"cell_id": "c-a-west"}
        corner = await client.get("/cells/lookup?lon=105.92&lat=29.34", headers=worker)
        assert corner.json() == {"cell_id": "c-a-west"}
        east = await client.get("/cells/lookup?lon=105.9201&lat=29.35", headers=worker)
        assert east.json() == {"cell_id": "c-b-east"}
        # On the village's outer edge, outside every cell: the village itself.
        village_edge = await client.get("/cells/lookup?lon=105.88&lat=29.40", headers=worker)
        assert village_edge.json() == {"cell_id": "v-1"}
