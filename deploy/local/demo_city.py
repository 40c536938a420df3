"""The demo city: a small Yongchuan, loaded through the public API like any client.

Places are approximate but real: the district around 29.35°N 105.93°E, the
Chashan bamboo-sea forest to the north-west, the Linjiang river through town.
Loading twice changes nothing: existing items answer 409 and are skipped.
"""

from __future__ import annotations

from typing import Any

import httpx

from enterprise_hub.domain.credit_code import check_character


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _credit_code(first17: str) -> str:
    return first17 + check_character(first17)


def grid_cells() -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = [
        {
            "id": "yongchuan",
            "name": "永川区 Yongchuan District",
            "level": "district",
            "parent_id": None,
            "boundary": _box(105.64, 29.04, 106.08, 29.56),
        },
    ]
    towns = {
        "zhongshanlu": ("中山路街道 Zhongshanlu", (105.90, 29.33, 105.95, 29.38)),
        "shenglilu": ("胜利路街道 Shenglilu", (105.95, 29.33, 106.00, 29.38)),
        "chashanzhuhai": ("茶山竹海街道 Chashan Zhuhai", (105.78, 29.40, 105.88, 29.50)),
    }
    for town_id, (name, (w, s, e, n)) in towns.items():
        cells.append(
            {
                "id": town_id,
                "name": name,
                "level": "town",
                "parent_id": "yongchuan",
                "boundary": _box(w, s, e, n),
            }
        )
        # Four grid cells per town: the grid workers' beats.
        mid_lon, mid_lat = round((w + e) / 2, 4), round((s + n) / 2, 4)
        quarters = {
            "sw": (w, s, mid_lon, mid_lat),
            "se": (mid_lon, s, e, mid_lat),
            "nw": (w, mid_lat, mid_lon, n),
            "ne": (mid_lon, mid_lat, e, n),
        }
        for q, box in quarters.items():
            cells.append(
                {
                    "id": f"{town_id}-{q}",
                    "name": f"{name} {q.upper()}",
                    "level": "cell",
                    "parent_id": town_id,
                    "boundary": _box(*box),
                }
            )
    return cells


CAMERAS = [
    {
        "id": "forest-chashan-01",
        "kind": "forest",
        "location": _point(105.835, 29.452),
        "elevation_m": 812.0,
        "heading_deg": 270.0,
        "hfov_deg": 60.0,
        "presets": [180.0, 225.0, 270.0, 315.0, 0.0],
    },
    {
        "id": "forest-chashan-02",
        "kind": "forest",
        "location": _point(105.862, 29.431),
        "elevation_m": 745.0,
        "heading_deg": 315.0,
        "hfov_deg": 60.0,
        "presets": [270.0, 315.0, 0.0, 45.0],
    },
    {
        "id": "forest-jishan-01",
        "kind": "forest",
        "location": _point(105.975, 29.292),
        "elevation_m": 690.0,
        "heading_deg": 180.0,
        "hfov_deg": 55.0,
        "presets": [90.0, 135.0, 180.0, 225.0],
    },
    {
        "id": "traffic-renmin-01",
        "kind": "traffic",
        "location": _point(105.9265, 29.3551),
        "elevation_m": 260.0,
        "heading_deg": 90.0,
        "hfov_deg": 90.0,
        "presets": [],
    },
    {
        "id": "traffic-renmin-02",
        "kind": "traffic",
        "location": _point(105.9402, 29.3530),
        "elevation_m": 258.0,
        "heading_deg": 270.0,
        "hfov_deg": 90.0,
        "presets": [],
    },
]

FOREST_RESOURCES = [
    {
        "id": "water-chashan-reservoir",
        "kind": "water_source",
        "name": "茶山水库 Chashan reservoir",
        "location": _point(105.842, 29.441),
    },
    {
        "id": "water-huangguayan-pond",
        "kind": "water_source",
        "name": "黄瓜堰 fire pond",
        "location": _point(105.858, 29.462),
    },
    {
        "id": "road-chashan-gate",
        "kind": "road_access",
        "name": "Chashan scenic road gate",
        "location": _point(105.871, 29.428),
    },
    {
        "id": "ranger-chashan",
        "kind": "ranger_station",
        "name": "茶山竹海护林站 ranger station",
        "location": _point(105.850, 29.437),
    },
    {
        "id": "ranger-jishan",
        "kind": "ranger_station",
        "name": "箕山护林站 ranger station",
        "location": _point(105.969, 29.301),
    },
    {
        "id": "village-xinsheng",
        "kind": "village",
        "name": "新胜村 Xinsheng village",
        "location": _point(105.829, 29.447),
    },
    {
        "id": "hazard-power-line-110kv",
        "kind": "hazard",
        "name": "110 kV line tower",
        "location": _point(105.846, 29.455),
    },
]

INTERSECTIONS = [
    {
        "id": f"renmin-{n:02d}",
        "name": name,
        "location": _point(lon, lat),
        "signal_groups": groups,
        "corridor_id": "renmin-dadao",
    }
    for n, (name, lon, lat, groups) in enumerate(
        [
            ("人民大道/兴龙大道", 105.9180, 29.3562, 8),
            ("人民大道/昌州大道", 105.9265, 29.3551, 8),
            ("人民大道/萱花路", 105.9338, 29.3541, 6),
            ("人民大道/红河大道", 105.9402, 29.3530, 8),
            ("人民大道/汇龙大道", 105.9480, 29.3519, 6),
        ],
        start=1,
    )
]

STATIONS = [
    {
        "id": "air-zhongshanlu",
        "medium": "air",
        "name": "中山路 air station",
        "cell_id": "zhongshanlu-ne",
        "location": _point(105.935, 29.365),
    },
    {
        "id": "air-shenglilu",
        "medium": "air",
        "name": "胜利路 air station",
        "cell_id": "shenglilu-sw",
        "location": _point(105.962, 29.342),
    },
    {
        "id": "air-chashan",
        "medium": "air",
        "name": "茶山竹海 background station",
        "cell_id": "chashanzhuhai-nw",
        "location": _point(105.820, 29.470),
    },
    {
        "id": "water-linjiang-up",
        "medium": "water",
        "name": "临江河 upstream section",
        "cell_id": "zhongshanlu-nw",
        "location": _point(105.908, 29.371),
    },
    {
        "id": "water-linjiang-down",
        "medium": "water",
        "name": "临江河 downstream section",
        "cell_id": "shenglilu-se",
        "location": _point(105.991, 29.338),
    },
]

FACILITIES = [
    {
        "id": "yc-peoples-hospital",
        "name": "永川区人民医院 Yongchuan People's Hospital",
        "level": "tertiary",
        "emergency_beds": 60,
        "location": _point(105.9262, 29.3568),
    },
    {
        "id": "cqmu-yongchuan-hospital",
        "name": "重庆医科大学附属永川医院 Yongchuan Hospital of CQMU",
        "level": "tertiary",
        "emergency_beds": 80,
        "location": _point(105.9030, 29.3570),
    },
    {
        "id": "yc-tcm-hospital",
        "name": "永川区中医院 Yongchuan TCM Hospital",
        "level": "secondary",
        "emergency_beds": 25,
        "location": _point(105.9390, 29.3495),
    },
    {
        "id": "chashan-health-centre",
        "name": "茶山竹海卫生院 Chashan health centre",
        "level": "primary",
        "emergency_beds": 4,
        "location": _point(105.848, 29.430),
    },
]

ENTERPRISES = [
    {
        "name": "永川智能装备有限公司",
        "credit_code": _credit_code("91500118MA60DEM01"),
        "industry": "manufacturing",
        "size": "medium",
        "location": _point(105.958, 29.341),
    },
    {
        "name": "茶山竹海旅游开发有限公司",
        "credit_code": _credit_code("91500118MA60DEM02"),
        "industry": "tourism",
        "size": "small",
        "location": _point(105.852, 29.440),
    },
    {
        "name": "永川西部数据中心有限公司",
        "credit_code": _credit_code("91500118MA60DEM03"),
        "industry": "information_technology",
        "size": "large",
        "location": _point(105.905, 29.330),
    },
]

POLICIES = [
    {
        "title": "2026 小微企业稳岗培训补贴 Training subsidy for small enterprises",
        "department": "永川区人力社保局 Human Resources and Social Security Bureau",
        "industries": [],
        "summary": "A training subsidy per employee trained in 2026.",
    },
]


# The district's departments come with grid-events' first migration.
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙"


def _staff(ident: str, name: str, phone: str, role: str, area_id: str) -> dict[str, Any]:
    return {
        "id": ident,
        "name": name,
        "phone": phone,
        "role": role,
        "duty_status": "on_duty",
        "department_id": "urban_management",
        "area_ids": [area_id],
    }


def grid_staff() -> list[dict[str, Any]]:
    """One grid worker on duty per cell and a grid leader per town (names are demo
    names; they are stored sealed and shown masked)."""
    cells = [c for c in grid_cells() if c["level"] == "cell"]
    towns = [c for c in grid_cells() if c["level"] == "town"]
    workers = [
        _staff(
            f"gw-{cell['id']}",
            f"{_SURNAMES[i % len(_SURNAMES)]}网格员{i + 1}",
            f"1380230{i:04d}",
            "grid_worker",
            cell["id"],
        )
        for i, cell in enumerate(cells)
    ]
    leaders = [
        _staff(
            f"gl-{town['id']}",
            f"{_SURNAMES[-1 - i]}网格长",
            f"1390230{i:04d}",
            "grid_leader",
            town["id"],
        )
        for i, town in enumerate(towns)
    ]
    return workers + leaders


def dispatch_rules() -> list[dict[str, Any]]:
    """Citizens' reports (category ``other``) in each town go to urban management and
    to the on-duty grid worker of the cell; everything else follows the default table."""
    return [
        {
            "category": "other",
            "area_id": town["id"],
            "priority": 3,
            "department_id": "urban_management",
            "assign_cell_worker": True,
        }
        for town in grid_cells()
        if town["level"] == "town"
    ]


def _post_all(client: httpx.Client, path: str, items: list[dict[str, Any]]) -> int:
    created = 0
    for item in items:
        response = client.post(path, json=item)
        if response.status_code in (200, 201, 202):
            created += 1
        elif response.status_code != 409:
            raise RuntimeError(
                f"POST {path} {item.get('id', '')}: {response.status_code} {response.text}"
            )
    return created


def load(gateway: str, token: str) -> dict[str, int]:
    """Load the demo city through the gateway; returns what was created this time."""
    counts: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{gateway}/api/v1", headers=headers, timeout=30) as client:
        counts["grid cells"] = _post_all(client, "/grid-events/cells", grid_cells())
        counts["grid workers"] = _post_all(client, "/grid-events/grid-workers", grid_staff())
        # Rules have no id of their own to collide on: added once, on an empty table.
        rules = client.get("/grid-events/dispatch-rules", params={"limit": 1}).json()["total"]
        counts["dispatch rules"] = (
            0 if rules else _post_all(client, "/grid-events/dispatch-rules", dispatch_rules())
        )
        counts["cameras"] = _post_all(client, "/video-ingest/cameras", CAMERAS)
        counts["forest resources"] = _post_all(client, "/fire-detect/resources", FOREST_RESOURCES)
        counts["intersections"] = _post_all(client, "/traffic-signal/intersections", INTERSECTIONS)
        counts["stations"] = _post_all(client, "/air-water/stations", STATIONS)
        counts["facilities"] = _post_all(client, "/health-record/facilities", FACILITIES)
        counts["enterprises"] = _post_all(client, "/enterprise-hub/enterprises", ENTERPRISES)
        existing = client.get("/enterprise-hub/policies", params={"limit": 1}).json()["total"]
        counts["policies"] = (
            0 if existing else _post_all(client, "/enterprise-hub/policies", POLICIES)
        )
    return counts
