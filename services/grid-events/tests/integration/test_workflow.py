"""The case workflow against the real PostgreSQL/PostGIS and Kafka: departments, grid
workers, dispatch rules, the lifecycle and escalation with a controllable clock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from city_common.geo import GeoPoint
from city_common.testing import (
    assert_problem,
    bearer,
    execute_sql,
    keyed,
    migrated_database,
    read_topic,
    running_app,
    settings_for_test,
    unique,
    wait_until,
)
from grid_events.adapters import repository as repo
from grid_events.adapters import workflow_repo as wrepo
from grid_events.bootstrap import create_app
from grid_events.config import Settings
from grid_events.service_layer.escalation import escalate_due
from grid_events.service_layer.handlers import take_report

pytestmark = pytest.mark.integration


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }


# district > town t-1 > village v-1 > cells c-1, c-2; and town t-2 > cell c-9.
HIERARCHY = (
    ("d-1", "district", None, square(105.0, 29.0, 106.5, 30.0)),
    ("t-1", "town", "d-1", square(105.90, 29.30, 106.00, 29.40)),
    ("v-1", "village", "t-1", square(105.90, 29.30, 105.95, 29.35)),
    ("c-1", "cell", "v-1", square(105.90, 29.30, 105.92, 29.32)),
    ("c-2", "cell", "v-1", square(105.92, 29.30, 105.95, 29.35)),
    ("t-2", "town", "d-1", square(105.50, 29.50, 105.60, 29.60)),
    ("c-9", "cell", "t-2", square(105.50, 29.50, 105.55, 29.55)),
)
IN_C1 = (105.91, 29.31)
IN_C2 = (105.93, 29.33)
IN_C9 = (105.52, 29.52)


@asynccontextmanager
async def city() -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Any]]:
    url = await migrated_database("grid_events", f"test_wf_{uuid.uuid4().hex[:8]}")
    # The job is driven by hand here, with its clock: the loop stays off.
    settings = settings_for_test(
        Settings, url, topic_prefix=unique("wf") + ".", escalation_enabled=False
    )
    app = create_app(settings)
    admin = bearer(settings, "admin")
    async with running_app(app) as client:
        for cell_id, level, parent, boundary in HIERARCHY:
            body = {
                "id": cell_id,
                "name": cell_id,
                "level": level,
                "parent_id": parent,
                "boundary": boundary,
            }
            assert (await client.post("/cells", json=body, headers=admin)).status_code == 201
        yield client, settings, app.state.runtime


async def report(
    client: httpx.AsyncClient, headers: dict[str, str], category: str, at: tuple[float, float]
) -> dict[str, Any]:
    made = await client.post(
        "/cases",
        json={
            "category": category,
            "description": f"{category} here",
            "location": {"type": "Point", "coordinates": list(at)},
        },
        headers=headers,
    )
    assert made.status_code == 201, made.text
    case: dict[str, Any] = made.json()
    return case


async def test_departments_and_grid_workers() -> None:
    async with city() as (client, settings, _):
        admin = bearer(settings, "admin")
        reader = bearer(settings, "operator")
        seeded = (await client.get("/departments?limit=100", headers=reader)).json()
        kinds = {d["kind"] for d in seeded["items"]}
        assert {"police", "fire", "forestry", "environment", "transport", "health"} <= kinds
        assert all(d["area_id"] is None for d in seeded["items"]), "seeded: district-wide"

        station = {"id": "forestry-t1", "name": "Town forestry station", "kind": "forestry"}
        made = await client.post("/departments", json={**station, "area_id": "t-1"}, headers=admin)
        assert made.status_code == 201, made.text
        assert made.json()["area_id"] == "t-1"
        assert_problem(
            await client.post("/departments", json={**station, "area_id": "t-1"}, headers=admin),
            409,
        )
        again = {**station, "id": "forestry-t1b", "area_id": "t-1"}
        assert_problem(await client.post("/departments", json=again, headers=admin), 409)
        in_cell = {**station, "id": "x", "area_id": "c-1"}
        assert_problem(
            await client.post("/departments", json=in_cell, headers=admin), 422, "body.area_id"
        )
        nowhere = {**station, "id": "x", "area_id": "nope"}
        assert_problem(
            await client.post("/departments", json=nowhere, headers=admin), 422, "body.area_id"
        )
        bad_kind = {**station, "id": "x", "kind": "Fire Dept"}
        assert_problem(
            await client.post("/departments", json=bad_kind, headers=admin), 422, "body.kind"
        )
        assert_problem(await client.post("/departments", json=station, headers=reader), 403)
        by_area = (await client.get("/departments?area_id=t-1", headers=reader)).json()
        assert [d["id"] for d in by_area["items"]] == ["forestry-t1"]
        renamed = await client.patch(
            "/departments/forestry-t1", json={"name": "Renamed"}, headers=admin
        )
        assert renamed.json()["name"] == "Renamed"

        # Grid workers: names and phones are sealed and only ever shown masked.
        worker = {
            "id": "w-1",
            "name": "张三丰",
            "phone": "138 1234 5678",
            "role": "grid_worker",
            "department_id": "grid_office",
            "area_ids": ["c-1", "c-2"],
        }
        made = await client.post("/grid-workers", json=worker, headers=admin)
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["name_masked"] == "张**" and body["phone_masked"] == "138****5678"
        assert body["duty_status"] == "off_duty" and body["area_ids"] == ["c-1", "c-2"]
        read_back = await client.get("/grid-workers/w-1", headers=reader)
        for response in (made, read_back):
            assert "张三丰" not in response.text and "12345678" not in response.text
        assert_problem(await client.post("/grid-workers", json=worker, headers=admin), 409)
        for field, value, named in (
            ("phone", "12345", "body.phone"),
            ("area_ids", ["c-1", "nope"], "body.area_ids.1"),
            ("department_id", "nope", "body.department_id"),
            ("role", "mayor", "body.role"),
        ):
            bad = {**worker, "id": "w-x", field: value}
            assert_problem(await client.post("/grid-workers", json=bad, headers=admin), 422, named)
        leader = {**worker, "id": "l-1", "name": "李四", "role": "grid_leader", "area_ids": ["v-1"]}
        assert (await client.post("/grid-workers", json=leader, headers=admin)).status_code == 201

        # Duty: the worker themself or the command centre; nobody else.
        w1 = bearer(settings, "grid_worker", subject="w-1")
        on = await client.put("/grid-workers/w-1/duty", json={"duty_status": "on_duty"}, headers=w1)
        assert on.status_code == 200 and on.json()["duty_status"] == "on_duty"
        other = bearer(settings, "grid_worker", subject="w-2")
        assert_problem(
            await client.put(
                "/grid-workers/w-1/duty", json={"duty_status": "on_leave"}, headers=other
            ),
            403,
        )
        assert_problem(
            await client.put("/grid-workers/w-1/duty", json={"duty_status": "away"}, headers=w1),
            422,
            "body.duty_status",
        )
        assert_problem(
            await client.put(
                "/grid-workers/nope/duty", json={"duty_status": "on_duty"}, headers=reader
            ),
            404,
        )

        on_duty = (await client.get("/grid-workers?duty_status=on_duty", headers=reader)).json()
        assert [w["id"] for w in on_duty["items"]] == ["w-1"]
        in_village = (await client.get("/grid-workers?area_id=v-1", headers=reader)).json()
        assert [w["id"] for w in in_village["items"]] == ["l-1"]
        first = (await client.get("/grid-workers?limit=1", headers=reader)).json()
        assert first["total"] == 2 and len(first["items"]) == 1 and first["items"][0]["id"] == "l-1"
        second = (await client.get("/grid-workers?limit=1&offset=1", headers=reader)).json()
        assert second["items"][0]["id"] == "w-1"

        moved = await client.patch(
            "/grid-workers/w-1", json={"area_ids": ["c-2"], "name": "王五"}, headers=admin
        )
        assert moved.json()["area_ids"] == ["c-2"] and moved.json()["name_masked"] == "王*"
        assert_problem(
            await client.patch("/grid-workers/w-1", json={"role": None}, headers=admin),
            422,
            "body.role",
        )

        # A department still in use is kept; an unused one goes.
        assert_problem(await client.delete("/departments/grid_office", headers=admin), 409)
        assert (await client.delete("/departments/forestry-t1", headers=admin)).status_code == 204
        assert_problem(await client.get("/departments/forestry-t1", headers=reader), 404)
        assert (await client.delete("/grid-workers/l-1", headers=admin)).status_code == 204
        assert_problem(await client.get("/grid-workers/l-1", headers=reader), 404)


async def test_dispatch_rules_and_the_full_lifecycle() -> None:
    async with city() as (client, settings, _):
        admin = bearer(settings, "admin")
        dispatcher = bearer(settings, "dispatcher", subject="disp-1")
        reporter = bearer(settings, "grid_worker", subject="worker-7")
        w1 = bearer(settings, "grid_worker", subject="w-1")
        w2 = bearer(settings, "grid_worker", subject="w-2")
        town_police = {"id": "police-t1", "name": "Town police", "kind": "police", "area_id": "t-1"}
        assert (
            await client.post("/departments", json=town_police, headers=admin)
        ).status_code == 201
        worker = {"id": "w-1", "name": "张三", "duty_status": "on_duty", "area_ids": ["c-1"]}
        assert (await client.post("/grid-workers", json=worker, headers=admin)).status_code == 201

        rules = {}
        for name, rule in (
            (
                "any",
                {
                    "category": "*",
                    "priority": 3,
                    "department_id": "grid_office",
                    "assign_cell_worker": True,
                },
            ),
            ("police", {"category": "public_safety", "priority": 2, "department_id": "police"}),
            (
                "police-t1",
                {
                    "category": "public_safety",
                    "area_id": "t-1",
                    "priority": 1,
                    "department_id": "police-t1",
                },
            ),
        ):
            made = await client.post("/dispatch-rules", json=rule, headers=admin)
            assert made.status_code == 201, made.text
            rules[name] = made.json()["id"]
        clash = {
            "category": "public_safety",
            "area_id": "t-1",
            "priority": 4,
            "department_id": "police",
        }
        assert_problem(await client.post("/dispatch-rules", json=clash, headers=admin), 409)
        for field, value in (
            ("priority", 0),
            ("category", "Bad!"),
            ("area_id", "nope"),
            ("department_id", "nope"),
            ("priority", "1"),
        ):
            bad = {**clash, "area_id": "v-1", field: value}
            assert_problem(
                await client.post("/dispatch-rules", json=bad, headers=admin), 422, f"body.{field}"
            )
        listed = (await client.get("/dispatch-rules?category=public_safety", headers=admin)).json()
        assert listed["total"] == 2

        # The most specific rule routes each case; a person's report waits as "reported".
        in_town = await report(client, reporter, "public_safety", IN_C1)
        elsewhere = await report(client, reporter, "public_safety", IN_C9)
        anything = await report(client, reporter, "other", IN_C1)
        assert in_town["status"] == "reported" and in_town["due_at"] is None
        assert (in_town["department"], in_town["priority"]) == ("police-t1", 1)
        assert (elsewhere["department"], elsewhere["priority"]) == ("police", 2)
        assert (anything["department"], anything["priority"]) == ("grid_office", 3)
        route = (await client.get(f"/cases/{anything['id']}/route", headers=dispatcher)).json()
        assert route == {
            "department": "grid_office",
            "priority": 3,
            "assign_cell_worker": True,
            "rule_id": rules["any"],
        }
        # Rules change what the next case gets.
        await client.patch(
            f"/dispatch-rules/{rules['police']}", json={"priority": 4}, headers=admin
        )
        # (3 km from the first: another incident, not a report joining it.)
        assert (await report(client, reporter, "public_safety", (105.54, 29.54)))["priority"] == 4

        async def step(
            case_id: str, headers: dict[str, str], action: str, **extra: Any
        ) -> httpx.Response:
            return await client.post(
                f"/cases/{case_id}/transitions", json={"action": action, **extra}, headers=headers
            )

        # dispatch: by the rules, to grid_office and the on-duty worker of the cell.
        assert_problem(await step(anything["id"], w1, "dispatch"), 403)
        before = datetime.now(UTC)
        dispatched = await step(anything["id"], dispatcher, "dispatch", note="to the grid")
        assert dispatched.status_code == 201, dispatched.text
        got = dispatched.json()
        assert got["status"] == "dispatched" and got["assignee_worker_id"] == "w-1"
        due = datetime.fromisoformat(got["due_at"])
        assert before + timedelta(hours=72) <= due <= datetime.now(UTC) + timedelta(hours=72)

        assert_problem(await step(anything["id"], w2, "accept"), 403)  # not theirs
        assert (await step(anything["id"], w1, "accept")).json()["status"] == "accepted"
        assert (await step(anything["id"], w1, "start")).json()["status"] == "in_progress"
        assert_problem(await step(anything["id"], w1, "verify"), 403)  # the office verifies
        refused = assert_problem(await step(anything["id"], dispatcher, "close"), 409)
        assert refused["current_status"] == "in_progress"
        assert "in_progress" in str(refused["detail"]) and refused["allowed"] == ["resolve"]
        assert (await step(anything["id"], w1, "resolve", note="cleared")).json()[
            "status"
        ] == "resolved"
        assert (await step(anything["id"], dispatcher, "reopen")).json()["status"] == "in_progress"
        assert (await step(anything["id"], w1, "resolve")).json()["status"] == "resolved"
        assert (await step(anything["id"], dispatcher, "verify")).json()["status"] == "verified"
        assert (await step(anything["id"], dispatcher, "close")).json()["status"] == "closed"
        after = assert_problem(await step(anything["id"], dispatcher, "dispatch"), 409)
        assert after["current_status"] == "closed" and after["allowed"] == []

        closed = (await client.get(f"/cases/{anything['id']}", headers=dispatcher)).json()
        assert closed["resolved_at"] and closed["closed_at"]
        timeline = (
            await client.get(f"/cases/{anything['id']}/timeline", headers=dispatcher)
        ).json()
        assert [(t["action"], t["to_status"], t["actor"]) for t in timeline] == [
            ("report", "reported", "worker-7"),
            ("dispatch", "dispatched", "disp-1"),
            ("accept", "accepted", "w-1"),
            ("start", "in_progress", "w-1"),
            ("resolve", "resolved", "w-1"),
            ("reopen", "in_progress", "disp-1"),
            ("resolve", "resolved", "w-1"),
            ("verify", "verified", "disp-1"),
            ("close", "closed", "disp-1"),
        ]
        assert timeline[1]["note"] == "to the grid" and timeline[1]["assignee_worker_id"] == "w-1"
        assert [t["from_status"] for t in timeline[:3]] == [None, "reported", "dispatched"]

        # A dispatcher may send a case elsewhere than the rules say, with another priority.
        manual = await step(in_town["id"], dispatcher, "dispatch", department="fire", priority=4)
        assert (manual.json()["department"], manual.json()["priority"]) == ("fire", 4)
        assert_problem(
            await step(elsewhere["id"], dispatcher, "dispatch", department="nope"),
            422,
            "body.department",
        )
        assert_problem(
            await step(elsewhere["id"], dispatcher, "reject", priority=1), 422, "body.priority"
        )
        assert_problem(await step(elsewhere["id"], dispatcher, "fly"), 422, "body.action")
        assert_problem(await step("case-nope", dispatcher, "dispatch"), 404)
        assert (await step(elsewhere["id"], dispatcher, "reject", note="not ours")).json()[
            "status"
        ] == "rejected"
        rejected = (await client.get("/cases?status=rejected", headers=dispatcher)).json()
        assert [c["id"] for c in rejected["items"]] == [elsewhere["id"]]

        # Read while this app's relay runs.
        changes = keyed(await read_topic(settings.topic_prefix + "grid.cases", expected=10))
        about = [d["status"] for k, _, d in changes if k == anything["id"]]
        assert about == ["opened", "dispatched", "resolved", "resolved", "closed"]
        assert [d["status"] for k, _, d in changes if k == elsewhere["id"]] == ["opened", "closed"]


async def test_escalation_after_the_due_time_once_and_up_the_hierarchy() -> None:
    async with city() as (client, settings, runtime):
        admin = bearer(settings, "admin")
        dispatcher = bearer(settings, "dispatcher", subject="disp-1")
        reporter = bearer(settings, "grid_worker", subject="worker-7")
        station = {"id": "forestry-t1", "name": "Station", "kind": "forestry", "area_id": "t-1"}
        assert (await client.post("/departments", json=station, headers=admin)).status_code == 201
        for worker in (
            {"id": "w-1", "name": "张三", "duty_status": "on_duty", "area_ids": ["c-1"]},
            {
                "id": "l-1",
                "name": "李四",
                "role": "grid_leader",
                "duty_status": "on_duty",
                "area_ids": ["v-1"],
            },
        ):
            assert (
                await client.post("/grid-workers", json=worker, headers=admin)
            ).status_code == 201
        for rule in (
            {
                "category": "forest_fire",
                "area_id": "t-1",
                "priority": 1,
                "department_id": "forestry-t1",
            },
            {
                "category": "other",
                "priority": 2,
                "department_id": "grid_office",
                "assign_cell_worker": True,
            },
        ):
            assert (
                await client.post("/dispatch-rules", json=rule, headers=admin)
            ).status_code == 201

        fire = await report(client, reporter, "forest_fire", IN_C1)
        litter = await report(client, reporter, "other", IN_C1)
        done = await report(client, reporter, "other", IN_C2)
        start = datetime.now(UTC)
        for case in (fire, litter, done):
            moved = await client.post(
                f"/cases/{case['id']}/transitions", json={"action": "dispatch"}, headers=dispatcher
            )
            assert moved.status_code == 201, moved.text
        for action in ("accept", "resolve"):
            await client.post(
                f"/cases/{done['id']}/transitions", json={"action": action}, headers=dispatcher
            )
        policy = settings.workflow_policy

        async def escalate(at: datetime) -> list[str]:
            async with runtime.uow() as uow:
                return await escalate_due(uow, policy, now=at)

        async def case(case_id: str) -> dict[str, Any]:
            got: dict[str, Any] = (await client.get(f"/cases/{case_id}", headers=dispatcher)).json()
            return got

        # Not before the due time (P1: 2 h) ...
        assert await escalate(start + timedelta(hours=1)) == []
        # ... after it, once, however often the job runs, and with two replicas at once.
        t1 = start + timedelta(hours=3)
        first, second = await asyncio.gather(escalate(t1), escalate(t1))
        assert sorted(first + second) == [fire["id"]]
        assert await escalate(t1) == []
        got = await case(fire["id"])
        # The town's station → the district bureau of the same kind, with a fresh due time.
        assert got["escalation_level"] == 1 and got["department"] == "forestry"
        assert got["status"] == "dispatched"
        assert datetime.fromisoformat(got["due_at"]) == t1 + timedelta(hours=2)
        timeline = (await client.get(f"/cases/{fire['id']}/timeline", headers=dispatcher)).json()
        assert (timeline[-1]["action"], timeline[-1]["actor"]) == ("escalate", "system:escalation")
        assert timeline[-1]["department"] == "forestry"

        # The worker's case (P2: 24 h) goes to the leader of the village, then back to
        # the department as nobody leads above; the district bureau has nobody above.
        t2 = start + timedelta(hours=25)
        assert sorted(await escalate(t2)) == sorted([fire["id"], litter["id"]])
        got = await case(litter["id"])
        assert (got["assignee_worker_id"], got["department"], got["escalation_level"]) == (
            "l-1",
            "grid_office",
            1,
        )
        top = await case(fire["id"])
        assert (top["department"], top["escalation_level"]) == ("forestry", 2)
        t3 = t2 + timedelta(hours=25)
        assert litter["id"] in await escalate(t3)
        got = await case(litter["id"])
        assert (got["assignee_worker_id"], got["escalation_level"]) == (None, 2)
        # A resolved case waits for verification, not for its holder: never escalated.
        assert (await case(done["id"]))["escalation_level"] == 0
        assert done["id"] not in await escalate(start + timedelta(days=30))

        # 3 opened, 3 dispatched, 1 resolved; the fire escalated at t1, t2, t3 and on
        # day 30, the worker's case at t2, t3 and on day 30.
        changes = keyed(await read_topic(settings.topic_prefix + "grid.cases", expected=14))
        escalated = [k for k, _, d in changes if d["status"] == "escalated"]
        assert escalated.count(fire["id"]) == 4 and escalated.count(litter["id"]) == 3


async def test_the_background_job_escalates_what_fell_due_while_it_was_away() -> None:
    async with city() as (client, settings, _):
        dispatcher = bearer(settings, "dispatcher")
        case = await report(client, bearer(settings, "grid_worker"), "other", IN_C1)
        moved = await client.post(
            f"/cases/{case['id']}/transitions", json={"action": "dispatch"}, headers=dispatcher
        )
        assert moved.status_code == 201
    # Down for a day: the case fell due meanwhile.
    url = settings.database_url
    await execute_sql(
        url, "UPDATE cases SET due_at = now() - interval '1 day' WHERE id = $1", case["id"]
    )
    restarted = settings_for_test(
        Settings,
        url,
        topic_prefix=settings.topic_prefix,
        escalation_enabled=True,
        escalation_interval_s=0.1,
    )
    async with running_app(create_app(restarted)) as client:

        async def escalated() -> bool:
            got = (await client.get(f"/cases/{case['id']}", headers=dispatcher)).json()
            return bool(got["escalation_level"] == 1)

        await wait_until(escalated, timeout_s=20)
        await asyncio.sleep(0.5)  # several more passes: the fresh due time holds
        got = (await client.get(f"/cases/{case['id']}", headers=dispatcher)).json()
        assert got["escalation_level"] == 1
        assert datetime.fromisoformat(got["due_at"]) > datetime.now(UTC) + timedelta(hours=70)


async def test_an_alarm_joining_a_persons_report_dispatches_it() -> None:
    async with city() as (client, settings, runtime):
        operator = bearer(settings, "operator")
        seen = await report(client, bearer(settings, "grid_worker"), "forest_fire", IN_C2)
        assert seen["status"] == "reported"
        async with runtime.uow() as uow:
            joined, merged = await take_report(
                uow,
                settings.dedup_rule,
                category="forest_fire",
                description="Forest fire alarm fa-9",
                location=GeoPoint.of(*IN_C2),
                source_kind="fire_alarm",
                source_ref="fa-9",
                policy=settings.workflow_policy,
            )
            await uow.commit()
        assert merged and joined["id"] == seen["id"]
        got = (await client.get(f"/cases/{seen['id']}", headers=operator)).json()
        assert got["status"] == "dispatched" and got["report_count"] == 2
        assert got["department"] == "forestry" and got["due_at"]
        timeline = (await client.get(f"/cases/{seen['id']}/timeline", headers=operator)).json()
        assert timeline[-1]["actor"] == "system:fire_alarm"

        # Who holds an unfinished case stays: their department and themselves.
        admin = bearer(settings, "admin")
        assert_problem(await client.delete("/departments/forestry", headers=admin), 409)
        worker = {"id": "w-5", "name": "赵六", "area_ids": ["c-2"]}
        assert (await client.post("/grid-workers", json=worker, headers=admin)).status_code == 201
        moved = await client.post(
            f"/cases/{seen['id']}/transitions",
            json={"action": "dispatch", "assignee_worker_id": "w-5"},
            headers=operator,
        )
        assert moved.json()["assignee_worker_id"] == "w-5"
        assert_problem(await client.delete("/grid-workers/w-5", headers=admin), 409)
        await client.post(
            f"/cases/{seen['id']}/transitions", json={"action": "reject"}, headers=operator
        )
        assert (await client.delete("/grid-workers/w-5", headers=admin)).status_code == 204


async def test_intake_reads_cell_ancestry_and_case_in_fewer_queries_with_the_same_answers() -> None:
    async with city() as (_client, settings, runtime):
        async with runtime.uow() as uow:
            # One query for the cell and its parents: the same as the two it replaces.
            for lon, lat in (IN_C1, IN_C2, IN_C9, (105.2, 29.2), (100.0, 20.0)):
                point = GeoPoint.of(lon, lat)
                cell = await repo.cell_at(uow.session, point)
                combined = await repo.cell_and_ancestry(uow.session, point)
                assert combined == await wrepo.ancestry(uow.session, cell)
                assert (combined[0] if combined else None) == cell
            assert await repo.cell_and_ancestry(uow.session, GeoPoint.of(*IN_C1)) == [
                "c-1",
                "v-1",
                "t-1",
                "d-1",
            ]

            # The case intake hands back (built from RETURNING, not read again) is the
            # case as it is stored: dispatched by the rules it was routed by once.
            case, merged = await take_report(
                uow,
                settings.dedup_rule,
                category="forest_fire",
                description="Forest fire alarm fa-77",
                location=GeoPoint.of(*IN_C1),
                source_kind="fire_alarm",
                source_ref="fa-77",
                policy=settings.workflow_policy,
            )
            assert not merged
            assert case == await repo.get_case(uow.session, case["id"])
            assert case["status"] == "dispatched" and case["cell_id"] == "c-1"
            assert case["department"] == "forestry" and case["due_at"] is not None
            timeline = await wrepo.timeline(uow.session, case["id"])
            assert [t["action"] for t in timeline] == ["report", "dispatch"]
            assert timeline[-1]["due_at"] == case["due_at"]

            # A second alarm nearby joins it: the case handed back is the stored one.
            joined, merged = await take_report(
                uow,
                settings.dedup_rule,
                category="forest_fire",
                description="Forest fire alarm fa-78",
                location=GeoPoint.of(*IN_C1),
                source_kind="fire_alarm",
                source_ref="fa-78",
                policy=settings.workflow_policy,
            )
            assert merged and joined["id"] == case["id"] and joined["report_count"] == 2
            assert joined == await repo.get_case(uow.session, case["id"])
            await uow.commit()
