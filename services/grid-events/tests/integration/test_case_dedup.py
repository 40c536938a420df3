"""De-duplication: reports of one incident from workers, citizens and alarms become one case."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.testing import (
    KAFKA_BOOTSTRAP,
    bearer,
    execute_sql,
    keyed,
    migrated_database,
    read_topic,
    running_app,
    settings_for_test,
    unique,
)
from grid_events.bootstrap import create_app
from grid_events.config import Settings

pytestmark = pytest.mark.integration

TOWN = [[[105.90, 29.32], [105.96, 29.32], [105.96, 29.38], [105.90, 29.38], [105.90, 29.32]]]
CELL = [[[105.92, 29.34], [105.94, 29.34], [105.94, 29.36], [105.92, 29.36], [105.92, 29.34]]]
# At 29.35° N a thousandth of a degree is about 111 m of latitude, 97 m of longitude.
P = (105.930, 29.350)
P_80M_NORTH = (105.930, 29.35072)
P_500M_NORTH = (105.930, 29.3545)
ALARM_A = (105.925, 29.345)
ALARM_B = (105.92654, 29.345)  # 150 m east of A
SMOKE_SEEN = (105.9258, 29.3452)  # a citizen, about 80 m from A


def point(lon_lat: tuple[float, float]) -> dict[str, object]:
    return {"type": "Point", "coordinates": list(lon_lat)}


async def test_reports_near_in_space_and_time_become_one_case() -> None:
    url = await migrated_database("grid_events", f"test_grid_dedup_{uuid.uuid4().hex[:8]}")
    prefix = unique("d") + "."
    settings = settings_for_test(
        Settings, url, topic_prefix=prefix, dedup_radius_m=200.0, dedup_window_min=60.0
    )
    admin = bearer(settings, "admin")
    worker = bearer(settings, "grid_worker", subject="worker-1")
    operator = bearer(settings, "operator")
    async with running_app(create_app(settings)) as client:
        for cell_id, level, parent, ring in (
            ("town-1", "town", None, TOWN),
            ("cell-1", "cell", "town-1", CELL),
        ):
            body = {
                "id": cell_id,
                "name": cell_id,
                "level": level,
                "parent_id": parent,
                "boundary": {"type": "Polygon", "coordinates": ring},
            }
            assert (await client.post("/cells", json=body, headers=admin)).status_code == 201

        async def report(
            category: str, where: tuple[float, float], text: str = "Fire lane blocked"
        ) -> dict:
            made = await client.post(
                "/cases",
                json={"category": category, "description": text, "location": point(where)},
                headers=worker,
            )
            assert made.status_code == 201, made.text
            return made.json()

        first = await report("public_safety", P)
        assert first["report_count"] == 1
        second = await report("public_safety", P_80M_NORTH, "Same lane, still blocked")
        assert second["id"] == first["id"] and second["report_count"] == 2
        far = await report("public_safety", P_500M_NORTH)
        assert far["id"] != first["id"], "500 m away is another incident"
        other_kind = await report("other", P)
        assert other_kind["id"] != first["id"], "another category is another incident"

        # A citizen's Open311 request joins the case too, and reads its status.
        key = (await client.post("/open311-keys", json={"name": "app"}, headers=admin)).json()[
            "api_key"
        ]
        posted = await client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": key,
                "service_code": "public-safety",
                "lat": "29.3503",
                "long": "105.9302",
                "description": "Cars parked in the fire lane",
            },
        )
        assert posted.status_code == 200, posted.text
        request_id = posted.json()[0]["service_request_id"]
        reports = (await client.get(f"/cases/{first['id']}/reports", headers=operator)).json()
        assert [r["source_kind"] for r in reports] == ["grid_worker", "grid_worker", "citizen"]
        assert reports[2]["source_ref"] == request_id
        assert reports[1]["location"]["coordinates"] == list(P_80M_NORTH)
        case = (await client.get(f"/cases/{first['id']}", headers=operator)).json()
        assert case["report_count"] == 3 and case["source_kind"] == "grid_worker"

        # Time: after the window, or once the case is finished, a report opens a new case.
        await execute_sql(
            url,
            "UPDATE cases SET last_reported_at = now() - interval '61 minutes' WHERE id = $1",
            first["id"],
        )
        late = await report("public_safety", P)
        assert late["id"] != first["id"]
        await execute_sql(url, "UPDATE cases SET status = 'resolved' WHERE id = $1", late["id"])
        after_resolved = await report("public_safety", P)
        assert after_resolved["id"] not in (first["id"], late["id"])
        assert (await client.get(f"/open311/v2/requests/{request_id}.json")).json()[0][
            "status"
        ] == "open"

        # Two cameras see one fire: one case with two reports; a citizen's sighting joins it.
        await ensure_topics(KAFKA_BOOTSTRAP, [prefix + "fire.alarms", prefix + "camera.status"])
        publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test-dedup")
        await publisher.start()
        try:
            for alarm_id, where in (("fa-a", ALARM_A), ("fa-b", ALARM_B)):
                alarm = s.FireAlarmRaised(
                    alarm_id=alarm_id,
                    raised_at=datetime.now(UTC),
                    location=GeoPoint.of(*where),
                    uncertainty_m=100.0,
                    confidence=0.9,
                    danger_level=3,
                )
                k, event = spec_for_type("city.fire.alarm.raised.v1").build(alarm, source="/test")
                await publisher.publish(prefix + "fire.alarms", k, event)
                # One at a time: the second alarm must find the first one's case.
                for _ in range(150):
                    fires = (
                        await client.get("/cases?category=forest_fire", headers=operator)
                    ).json()
                    if fires["total"] and fires["items"][0]["report_count"] == (
                        1 if alarm_id == "fa-a" else 2
                    ):
                        break
                    await asyncio.sleep(0.1)
            fires = (await client.get("/cases?category=forest_fire", headers=operator)).json()
            assert fires["total"] == 1 and fires["items"][0]["report_count"] == 2
            fire = fires["items"][0]
            assert fire["source_kind"] == "fire_alarm" and fire["source_ref"] == "fa-a"
            smoke = await client.post(
                "/open311/v2/requests.json",
                data={
                    "api_key": key,
                    "service_code": "forest-smoke",
                    "lat": str(SMOKE_SEEN[1]),
                    "long": str(SMOKE_SEEN[0]),
                    "attribute[flames]": "yes",
                },
            )
            smoke_id = smoke.json()[0]["service_request_id"]
            fire = (await client.get(f"/cases/{fire['id']}", headers=operator)).json()
            assert fire["report_count"] == 3

            # Two cameras offline side by side are two repairs: camera faults never merge.
            for camera_id in ("cam-1", "cam-2"):
                status = s.CameraStatusChanged(
                    camera_id=camera_id,
                    camera_kind=s.CameraKind.FOREST,
                    status="offline",
                    since=datetime.now(UTC),
                    location=GeoPoint.of(105.931, 29.351 + (0.0001 if camera_id == "cam-2" else 0)),
                )
                k, event = spec_for_type("city.camera.offline.v1").build(status, source="/test")
                await publisher.publish(prefix + "camera.status", k, event)
            for _ in range(150):
                faults = (await client.get("/cases?category=camera_fault", headers=operator)).json()
                if faults["total"] == 2:
                    break
                await asyncio.sleep(0.1)
            assert faults["total"] == 2

            # The fire closes only when both alarms are extinguished.
            async def extinguish(alarm_id: str, where: tuple[float, float]) -> None:
                done = s.FireAlarmStatusChanged(
                    alarm_id=alarm_id,
                    status=s.FireAlarmStatus.EXTINGUISHED,
                    at=datetime.now(UTC),
                    actor="ranger-3",
                    location=GeoPoint.of(*where),
                )
                k, event = spec_for_type("city.fire.alarm.extinguished.v1").build(done, source="/t")
                await publisher.publish(prefix + "fire.alarms", k, event)

            await extinguish("fa-a", ALARM_A)
            for _ in range(150):
                reports = (
                    await client.get(f"/cases/{fire['id']}/reports", headers=operator)
                ).json()
                if reports[0]["closed_at"]:
                    break
                await asyncio.sleep(0.1)
            assert reports[0]["closed_at"] and not reports[1]["closed_at"]
            assert (await client.get(f"/cases/{fire['id']}", headers=operator)).json()[
                "status"
            ] == "dispatched"
            await extinguish("fa-b", ALARM_B)
            for _ in range(150):
                got = (await client.get(f"/cases/{fire['id']}", headers=operator)).json()
                if got["status"] == "closed":
                    break
                await asyncio.sleep(0.1)
            assert got["status"] == "closed"
            closed = (await client.get(f"/open311/v2/requests/{smoke_id}.json")).json()[0]
            assert closed["status"] == "closed", "the citizen sees the fire's case closed"
        finally:
            await publisher.stop()

        # 8 cases opened; the fire and the two camera faults (automatic sources) were
        # dispatched on intake; the fire closed.
        changes = keyed(await read_topic(prefix + "grid.cases", expected=12))
        about_fire = [h["ce_type"].decode() for k, h, _ in changes if k == fire["id"]]
        assert about_fire == [
            "city.grid.case.opened.v1",
            "city.grid.case.dispatched.v1",
            "city.grid.case.closed.v1",
        ]
        opened_ids = {k for k, h, _ in changes if h["ce_type"] == b"city.grid.case.opened.v1"}
        assert first["id"] in opened_ids and len(opened_ids) == 8
