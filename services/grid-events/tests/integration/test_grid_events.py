"""grid-events against the real PostgreSQL/PostGIS and Kafka."""

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
    migrated_database,
    read_topic,
    running_app,
    settings_for_test,
    unique,
)
from grid_events.bootstrap import create_app
from grid_events.config import Settings

pytestmark = pytest.mark.integration

# A 0.02° square cell around the demo centre, inside a town.
TOWN = [[[105.90, 29.32], [105.96, 29.32], [105.96, 29.38], [105.90, 29.38], [105.90, 29.32]]]
CELL = [[[105.92, 29.34], [105.94, 29.34], [105.94, 29.36], [105.92, 29.36], [105.92, 29.34]]]


async def test_cells_cases_and_fire_alarm_intake() -> None:
    url = await migrated_database("grid_events", f"test_grid_{uuid.uuid4().hex[:8]}")
    prefix = unique("g") + "."
    settings = settings_for_test(Settings, url, topic_prefix=prefix)
    admin = bearer(settings, "admin")
    worker = bearer(settings, "grid_worker", subject="worker-7")
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
            created = await client.post("/cells", json=body, headers=admin)
            assert created.status_code == 201, created.text
        dup = await client.post("/cells", json=body, headers=admin)
        assert dup.status_code == 409
        open_ring = {
            **body,
            "id": "x",
            "boundary": {"type": "Polygon", "coordinates": [CELL[0][:-1]]},
        }
        bad = await client.post("/cells", json=open_ring, headers=admin)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith(
            "body.boundary"
        )

        inside = await client.get("/cells/lookup?lon=105.93&lat=29.35", headers=worker)
        assert inside.json() == {"cell_id": "cell-1"}
        town_only = await client.get("/cells/lookup?lon=105.95&lat=29.37", headers=worker)
        assert town_only.json() == {"cell_id": "town-1"}
        outside = await client.get("/cells/lookup?lon=106.5&lat=29.9", headers=worker)
        assert outside.json() == {"cell_id": None}

        report = {
            "category": "public_safety",
            "description": "Blocked fire lane",
            "location": {"type": "Point", "coordinates": [105.93, 29.35]},
        }
        made = await client.post("/cases", json=report, headers=worker)
        assert made.status_code == 201, made.text
        case = made.json()
        assert case["cell_id"] == "cell-1" and case["department"] == "police"
        assert case["source_ref"] == "worker-7"
        # A person's report waits for the command centre; the rules already name the
        # department it would go to.
        assert case["status"] == "reported" and case["due_at"] is None

        # A fire alarm on the bus becomes a forestry case in the right cell ...
        alarm = s.FireAlarmRaised(
            alarm_id="fa-42",
            raised_at=datetime.now(UTC),
            location=GeoPoint.of(105.935, 29.345),
            uncertainty_m=120.0,
            confidence=0.9,
            danger_level=3,
        )
        await ensure_topics(KAFKA_BOOTSTRAP, [prefix + "fire.alarms"])
        publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test")
        await publisher.start()
        try:
            key, event = spec_for_type("city.fire.alarm.raised.v1").build(alarm, source="/test")
            await publisher.publish(prefix + "fire.alarms", key, event)
            await publisher.publish(prefix + "fire.alarms", key, event)  # redelivered
            fire_case = None
            for _ in range(150):
                listed = await client.get("/cases?category=forest_fire", headers=worker)
                if listed.json()["total"]:
                    fire_case = listed.json()["items"][0]
                    break
                await asyncio.sleep(0.2)
            assert fire_case is not None
            assert fire_case["cell_id"] == "cell-1" and fire_case["department"] == "forestry"
            # An automatic source's case is dispatched at once, with the due time of
            # its priority (forest fires: P1, 2 h by default).
            assert fire_case["status"] == "dispatched" and fire_case["priority"] == 1
            assert fire_case["due_at"] is not None

            # ... and closes when the alarm is extinguished.
            done = s.FireAlarmStatusChanged(
                alarm_id="fa-42",
                status=s.FireAlarmStatus.EXTINGUISHED,
                at=datetime.now(UTC),
                actor="ranger-3",
                location=alarm.location,
            )
            key, event = spec_for_type("city.fire.alarm.extinguished.v1").build(done, source="/t")
            await publisher.publish(prefix + "fire.alarms", key, event)
            for _ in range(150):
                got = (await client.get(f"/cases/{fire_case['id']}", headers=worker)).json()
                if got["status"] == "closed":
                    break
                await asyncio.sleep(0.2)
            assert got["status"] == "closed"
            # The source closed its case through the lifecycle, signing each step.
            timeline = (
                await client.get(f"/cases/{fire_case['id']}/timeline", headers=worker)
            ).json()
            assert [
                (t["action"], t["from_status"], t["to_status"], t["actor"]) for t in timeline
            ] == [
                ("report", None, "reported", "system:fire_alarm"),
                ("dispatch", "reported", "dispatched", "system:fire_alarm"),
                ("close", "dispatched", "closed", "system:fire_alarm"),
            ]
            assert got["closed_at"] and got["resolved_at"]
        finally:
            await publisher.stop()

        listed = (await client.get("/cases?category=forest_fire", headers=worker)).json()
        assert listed["total"] == 1, "the redelivered alarm opened no second case"
        assert (await client.get("/cases/nope", headers=worker)).status_code == 404
        assert (await client.get("/cases", headers=bearer(settings, "citizen"))).status_code == 403

    cases = await read_topic(prefix + "grid.cases", expected=4)
    types = sorted(h["ce_type"].decode() for _, h, _ in cases)
    assert types == [
        "city.grid.case.closed.v1",
        "city.grid.case.dispatched.v1",
        "city.grid.case.opened.v1",
        "city.grid.case.opened.v1",
    ]
