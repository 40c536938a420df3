"""The response to a fire against the real PostgreSQL/PostGIS (and Kafka, which the app
starts): resources imported from GeoJSON and exported back, what is near an alarm and
its plan, alarm filters, KPIs, the CAP export and the evidence endpoint."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from city_common.testing import (
    assert_problem,
    bearer,
    execute_sql,
    migrated_database,
    running_app,
    settings_for_test,
    unique,
)
from fire_detect.bootstrap import create_app
from fire_detect.config import Settings
from fire_detect.domain.cap import CAP_NS
from fire_detect.domain.location import destination

pytestmark = pytest.mark.integration

FIRE = (105.93, 29.42)


@dataclass
class Service:
    client: httpx.AsyncClient
    settings: Settings
    url: str

    def auth(self, *roles: str) -> dict[str, str]:
        return bearer(self.settings, *roles, subject="ranger-li")


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[Service]:
    url = await migrated_database("fire_detect", f"test_fire_resp_{uuid.uuid4().hex[:8]}")
    settings = settings_for_test(Settings, url, topic_prefix=unique("fdr") + ".")
    async with running_app(create_app(settings)) as client:
        yield Service(client, settings, url)


def at(bearing: float, metres: float, origin: tuple[float, float] = FIRE) -> list[float]:
    lon, lat = destination(*origin, bearing, metres)
    return [lon, lat]


def square(centre: tuple[float, float], half: float) -> list[list[float]]:
    lon, lat = centre
    return [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]


def feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def pt(coords: list[float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": coords}


FOREST = {
    "type": "FeatureCollection",
    "features": [
        feature(
            {"type": "Polygon", "coordinates": [square(FIRE, 0.01)]},
            id="cp-7",
            kind="forest_compartment",
            name="Compartment 7",
            stand="masson pine",
        ),
        feature(
            {"type": "Polygon", "coordinates": [square((105.99, 29.42), 0.01)]},
            id="cp-8",
            kind="forest_compartment",
            name="Compartment 8",
        ),
        feature(pt(at(0, 800)), id="ws-pond", kind="water_source", name="Pond", volume_m3=900),
        feature(pt(at(90, 3_000)), id="ws-dam", kind="water_source", name="Dam"),
        feature(
            {"type": "LineString", "coordinates": [at(270, 3_000, tuple(at(180, 1_500))),
                                                   at(90, 3_000, tuple(at(180, 1_500)))]},
            id="rd-gate",
            kind="road_access",
            name="South forest road",
        ),
        feature(pt(at(45, 4_000)), id="st-a", kind="ranger_station", name="Station A"),
        feature(pt(at(200, 9_000)), id="st-b", kind="ranger_station", name="Station B"),
        feature(pt(at(300, 20_000)), id="st-c", kind="ranger_station", name="Station C"),
        feature(pt(at(270, 900)), id="hz-hetao", kind="hazard", subtype="village",
                name="Hetao village"),
        feature(pt(at(135, 4_000)), id="vl-shuang", kind="village", name="Shuangshi"),
        feature(pt(at(160, 3_000)), id="hz-depot", kind="hazard", subtype="fuel_depot",
                name="Fuel depot"),
        feature(
            {"type": "LineString", "coordinates": [at(0, 5_000), at(90, 5_000)]},
            id="hz-line",
            kind="hazard",
            subtype="power_line",
            name="110 kV line",
        ),
    ],
}  # fmt: skip


async def report(service: Service, lon: float, lat: float, danger: int) -> dict[str, Any]:
    made = await service.client.post(
        "/alarms",
        json={"location": pt([lon, lat]), "danger_level": danger},
        headers=service.auth("ranger"),
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


async def move(service: Service, alarm_id: str, *statuses: str) -> None:
    for status in statuses:
        moved = await service.client.post(
            f"/alarms/{alarm_id}/transitions",
            json={"status": status},
            headers=service.auth("dispatcher"),
        )
        assert moved.status_code == 201, moved.text


async def test_resources_import_by_id_and_export_as_geojson(service: Service) -> None:
    admin = service.auth("admin")
    bad = feature(pt([105.9, 29.4]), id="hz-x", kind="hazard", name="No subtype")
    bowtie = feature(
        {"type": "Polygon", "coordinates": [[[105.8, 29.3], [105.81, 29.31], [105.81, 29.3],
                                             [105.8, 29.31], [105.8, 29.3]]]},
        id="cp-bowtie", kind="forest_compartment", name="Self-crossing",
    )  # fmt: skip
    document = {**FOREST, "features": [*FOREST["features"], bad, bowtie]}
    first = await service.client.post("/resources/import", json=document, headers=admin)
    assert first.status_code == 200, first.text
    report_ = first.json()
    assert (report_["imported"], report_["created"], report_["updated"]) == (12, 12, 0)
    assert [(r["index"], r["id"], r["field"]) for r in report_["rejected"]] == [
        (12, "hz-x", "features[12].properties.subtype"),
        (13, "cp-bowtie", "features[13].geometry"),
    ]
    assert "self-intersection" in report_["rejected"][1]["reason"].lower()

    # The same file again, with one name changed: updated in place, nothing new.
    renamed = {**FOREST, "features": list(FOREST["features"])}
    renamed["features"][2] = feature(
        pt(at(0, 800)), id="ws-pond", kind="water_source", name="Big pond", volume_m3=1500
    )
    again = (await service.client.post("/resources/import", json=renamed, headers=admin)).json()
    assert (again["imported"], again["created"], again["updated"]) == (12, 0, 12)
    pond = (await service.client.get("/resources/ws-pond", headers=admin)).json()
    assert pond["name"] == "Big pond" and pond["kind"] == "water_source"
    assert pond["properties"] == {"volume_m3": 1500} and pond["subtype"] is None
    depot = (await service.client.get("/resources/hz-depot", headers=admin)).json()
    assert depot["subtype"] == "fuel_depot"
    # A compartment answers point queries too, at a point inside it.
    inside = (await service.client.get("/resources/cp-7", headers=admin)).json()
    assert abs(inside["location"]["coordinates"][0] - FIRE[0]) < 0.01

    exported = await service.client.get("/resources.geojson", headers=service.auth("ranger"))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/geo+json")
    collection = exported.json()
    assert collection["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in collection["features"]}
    assert set(by_id) == {f["properties"]["id"] for f in FOREST["features"]}
    assert by_id["ws-pond"]["properties"] == {
        "id": "ws-pond", "kind": "water_source", "name": "Big pond", "volume_m3": 1500,
    }  # fmt: skip
    assert by_id["cp-7"]["geometry"]["type"] == "Polygon"
    assert by_id["cp-7"]["properties"]["stand"] == "masson pine"
    assert by_id["hz-depot"]["properties"]["subtype"] == "fuel_depot"
    assert by_id["rd-gate"]["geometry"]["type"] == "LineString"
    only = await service.client.get("/resources.geojson?kind=ranger_station", headers=admin)
    assert {f["id"] for f in only.json()["features"]} == {"st-a", "st-b", "st-c"}
    # What was exported imports back unchanged.
    back = (await service.client.post("/resources/import", json=collection, headers=admin)).json()
    assert back["rejected"] == [] and back["created"] == 0 and back["updated"] == 12


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "Feature", "geometry": None, "properties": {}}, "type"),
        ({"type": "FeatureCollection"}, "features"),
        ({"type": "FeatureCollection", "features": "all"}, "features"),
    ],
)
async def test_import_wants_a_feature_collection(
    service: Service, body: dict[str, Any], field: str
) -> None:
    got = await service.client.post("/resources/import", json=body, headers=service.auth("admin"))
    assert_problem(got, 422, field)


async def test_import_is_for_admins_and_wants_json(service: Service) -> None:
    empty = {"type": "FeatureCollection", "features": []}
    forbidden = await service.client.post(
        "/resources/import", json=empty, headers=service.auth("ranger")
    )
    assert_problem(forbidden, 403)
    garbled = await service.client.post(
        "/resources/import",
        content=b"{not json",
        headers={**service.auth("admin"), "content-type": "application/json"},
    )
    assert_problem(garbled, 400)


async def test_an_alarm_shows_what_is_near_and_its_plan(service: Service) -> None:
    await service.client.post("/resources/import", json=FOREST, headers=service.auth("admin"))
    alarm = await report(service, *FIRE, danger=3)
    detail = await service.client.get(f"/alarms/{alarm['id']}", headers=service.auth("ranger"))
    assert detail.status_code == 200, detail.text
    got = detail.json()
    near = got["resources"]
    assert near["compartment"]["id"] == "cp-7" and near["compartment"]["distance_m"] == 0.0
    nearest = near["nearest"]
    assert nearest["water_source"]["id"] == "ws-pond"
    assert nearest["water_source"]["distance_m"] == pytest.approx(800, abs=2)
    # The road is a line 1.5 km south: the distance is to the line, not to its ends.
    assert nearest["road_access"]["id"] == "rd-gate"
    assert nearest["road_access"]["distance_m"] == pytest.approx(1_500, abs=15)
    assert nearest["ranger_station"]["id"] == "st-a"
    assert nearest["hazard"]["id"] == "hz-hetao"
    assert nearest["village"]["id"] == "vl-shuang"

    plan = got["plan"]
    assert plan["danger_level"] == 3
    assert [t["station_id"] for t in plan["teams"]] == ["st-a", "st-b"]
    actions = {(a["code"], a["resource_id"]) for a in plan["actions"]}
    assert {
        ("evacuate", "hz-hetao"),
        ("prepare_evacuation", "vl-shuang"),
        ("protect_fuel_depot", "hz-depot"),
    } <= actions
    roles = {n["role"] for n in plan["notify"]}
    assert {"village_head", "fuel_depot_operator", "duty_ranger"} <= roles
    # The power line is 5 km away, beyond the 2 km rule; danger 3 calls no county command.
    assert "power_company" not in roles and "county_fire_command" not in roles
    assert [w["id"] for w in plan["water_sources"]] == ["ws-pond", "ws-dam"]
    assert [w["id"] for w in plan["access_roads"]] == ["rd-gate"]
    # Reported by a ranger: no frame, but a CAP alert.
    assert got["links"] == {"cap": f"/alarms/{alarm['id']}/cap"}
    assert got["kpis"]["alarm_to_verification_s"] is None
    # The POST answered the same plan as the GET.
    assert alarm["plan"] == plan


async def test_alarm_list_filters(service: Service) -> None:
    reader = service.auth("operator")
    a = await report(service, *FIRE, danger=3)
    b = await report(service, 106.20, 29.10, danger=5)
    c = await report(service, FIRE[0] + 0.002, FIRE[1], danger=4)
    mine = {a["id"], b["id"], c["id"]}
    t0 = datetime(2021, 5, 1, 12, 0, tzinfo=UTC)
    for i, alarm in enumerate((a, b, c)):
        await execute_sql(
            service.url,
            "UPDATE fire_alarms SET raised_at = $2 WHERE id = $1",
            alarm["id"],
            t0 + timedelta(hours=i),
        )

    async def ids(**params: Any) -> set[str]:
        got = await service.client.get("/alarms", params={"limit": 500, **params}, headers=reader)
        assert got.status_code == 200, got.text
        return {x["id"] for x in got.json()["items"]} & mine

    assert await ids() == mine
    assert await ids(danger_level=5) == {b["id"]}
    assert await ids(bbox="105.9,29.4,105.96,29.44") == {a["id"], c["id"]}
    polygon = {"type": "Polygon", "coordinates": [square((106.2, 29.1), 0.05)]}
    assert await ids(within=json.dumps(polygon)) == {b["id"]}
    assert await ids(within=json.dumps(polygon), bbox="105.9,29.4,105.96,29.44") == set()
    assert await ids(raised_from="2021-05-01T12:30:00+00:00") == {b["id"], c["id"]}
    assert await ids(raised_from="2021-05-01T12:30:00Z", raised_to="2021-05-01T14:00:00Z") == {
        b["id"]
    }
    assert await ids(status="raised", danger_level=4) == {c["id"]}
    assert await ids(camera_id="tower-none") == set()
    paged = await service.client.get(
        "/alarms",
        params={"limit": 1, "offset": 1, "raised_from": "2021-05-01T00:00:00Z",
                "raised_to": "2021-05-02T00:00:00Z"},
        headers=reader,
    )  # fmt: skip
    page = paged.json()
    # Newest first: c, b, a.
    assert page["total"] == 3 and [x["id"] for x in page["items"]] == [b["id"]]

    for params, field in (
        ({"bbox": "105.9,29.4,105.96"}, "bbox"),
        ({"bbox": "106,29.4,105,29.5"}, "bbox"),
        ({"within": "{\"type\": \"Point\"}"}, "within"),
        ({"within": "not json"}, "within"),
        ({"raised_from": "2021-05-02T00:00:00Z", "raised_to": "2021-05-01T00:00:00Z"},
         "raised_to"),
        ({"raised_from": "2021-05-02T00:00:00"}, "query.raised_from"),
        ({"danger_level": 6}, "query.danger_level"),
    ):  # fmt: skip
        got = await service.client.get("/alarms", params=params, headers=reader)
        assert_problem(got, 422, field)


async def test_kpis_per_alarm_and_over_a_period(service: Service) -> None:
    k1 = await report(service, *FIRE, danger=3)
    k2 = await report(service, *FIRE, danger=3)
    k3 = await report(service, *FIRE, danger=3)
    await move(service, k1["id"], "verified", "dispatched", "on_scene", "extinguished")
    await move(service, k2["id"], "verified", "dispatched", "on_scene")
    await move(service, k3["id"], "dismissed")
    t0 = datetime(2020, 3, 1, 15, 2, tzinfo=UTC)
    timings = {
        k1["id"]: (0, {"raised": 0, "verified": 60, "dispatched": 300, "on_scene": 3600,
                       "extinguished": 5400}),
        k2["id"]: (100, {"raised": 0, "verified": 180, "dispatched": 400, "on_scene": 1800}),
        k3["id"]: (200, {"raised": 0, "dismissed": 30}),
    }  # fmt: skip
    for alarm_id, (start, steps) in timings.items():
        raised = t0 + timedelta(seconds=start)
        await execute_sql(
            service.url, "UPDATE fire_alarms SET raised_at = $2 WHERE id = $1", alarm_id, raised
        )
        for status, after in steps.items():
            await execute_sql(
                service.url,
                "UPDATE alarm_transitions SET at = $3 WHERE alarm_id = $1 AND status = $2",
                alarm_id,
                status,
                raised + timedelta(seconds=after),
            )

    reader = service.auth("operator")
    one = (await service.client.get(f"/alarms/{k1['id']}", headers=reader)).json()
    assert one["kpis"] == {
        "alarm_to_verification_s": 60.0,
        "alarm_to_arrival_s": 3600.0,
        "alarm_to_extinguished_s": 5400.0,
        "detection_to_alarm_s": None,
    }
    got = await service.client.get(
        "/alarms/kpis",
        params={"from": "2020-03-01T00:00:00Z", "to": "2020-03-02T00:00:00Z"},
        headers=reader,
    )
    assert got.status_code == 200, got.text
    kpis = got.json()
    assert (kpis["alarms"], kpis["verified"], kpis["dismissed"]) == (3, 2, 1)
    assert kpis["share"] == {"verified": 0.6667, "dismissed": 0.3333}
    assert kpis["from"].startswith("2020-03-01T00:00:00")
    assert kpis["kpis"]["alarm_to_verification_s"] == {"count": 2, "median": 120.0, "p90": 168.0}
    assert kpis["kpis"]["alarm_to_arrival_s"] == {"count": 2, "median": 2700.0, "p90": 3420.0}
    assert kpis["kpis"]["alarm_to_extinguished_s"] == {"count": 1, "median": 5400.0, "p90": 5400.0}
    empty = await service.client.get(
        "/alarms/kpis", params={"from": "2019-01-01T00:00:00Z", "to": "2019-01-02T00:00:00Z"},
        headers=reader,
    )  # fmt: skip
    assert empty.json()["alarms"] == 0 and empty.json()["share"]["verified"] is None
    backwards = await service.client.get(
        "/alarms/kpis", params={"from": "2020-03-02T00:00:00Z", "to": "2020-03-01T00:00:00Z"},
        headers=reader,
    )  # fmt: skip
    assert_problem(backwards, 422, "to")

    # The CAP thread of k1: an update that gives the all-clear, referring to the alert.
    cap = await service.client.get(f"/alarms/{k1['id']}/cap", headers=reader)
    assert cap.status_code == 200
    assert cap.headers["content-type"].startswith("application/cap+xml")
    root = ET.fromstring(cap.content)  # noqa: S314 - the service's own output
    ns = {"cap": CAP_NS}
    assert root.tag == f"{{{CAP_NS}}}alert"
    assert root.findtext("cap:msgType", namespaces=ns) == "Update"
    assert root.findtext("cap:identifier", namespaces=ns) == f"{k1['id']}.5"
    assert root.findtext("cap:sender", namespaces=ns) == "fire-detect@yongchuan.city"
    assert root.findtext("cap:references", namespaces=ns) == (
        f"fire-detect@yongchuan.city,{k1['id']}.1,2020-03-01T15:02:00+00:00"
    )
    assert root.findtext("cap:info/cap:responseType", namespaces=ns) == "AllClear"
    circle = root.findtext("cap:info/cap:area/cap:circle", namespaces=ns)
    assert circle == f"{FIRE[1]:.6f},{FIRE[0]:.6f} 0.100"
    dismissed = ET.fromstring(  # noqa: S314
        (await service.client.get(f"/alarms/{k3['id']}/cap", headers=reader)).content
    )
    assert dismissed.findtext("cap:msgType", namespaces=ns) == "Cancel"
    assert_problem(await service.client.get("/alarms/fa-none/cap", headers=reader), 404)


async def test_evidence_of_an_alarm_without_a_frame_is_not_found(service: Service) -> None:
    reader = service.auth("operator")
    alarm = await report(service, *FIRE, danger=2)
    no_frame = await service.client.get(f"/alarms/{alarm['id']}/evidence", headers=reader)
    assert "no evidence frame" in str(assert_problem(no_frame, 404)["detail"])
    no_alarm = await service.client.get("/alarms/fa-none/evidence", headers=reader)
    assert "does not exist" in str(assert_problem(no_alarm, 404)["detail"])
    assert_problem(await service.client.get(f"/alarms/{alarm['id']}/evidence"), 401)
