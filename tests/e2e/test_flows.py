"""Flows across services, through the gateway of the platform `make run` started."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx

from .conftest import Platform, poll

# Inside the demo town Chashan Zhuhai, north-east grid cell (105.83-105.88 E,
# 29.45-29.50 N), near the bamboo forest. A different point each run: grid-events
# merges reports within 200 m and an hour into one case, and a case left open by
# an interrupted earlier run on the same database must not absorb this alarm.
FIRE = {
    "type": "Point",
    "coordinates": [
        round(random.uniform(105.835, 105.875), 5),
        round(random.uniform(29.455, 29.495), 5),
    ],
}


def test_a_reported_fire_becomes_a_forestry_case_and_closes_when_extinguished(
    platform: Platform,
) -> None:
    with httpx.Client(
        base_url=f"{platform.gateway}/api/v1", timeout=15, headers=platform.headers()
    ) as api:
        reported = api.post("/fire-detect/alarms", json={"location": FIRE, "danger_level": 4})
        assert reported.status_code == 201, reported.text
        alarm_id = reported.json()["id"]
        trace_id = reported.headers["x-trace-id"]

        def fire_case() -> dict[str, Any] | None:
            page = api.get("/grid-events/cases", params={"category": "forest_fire", "limit": 500})
            return next((c for c in page.json()["items"] if c["source_ref"] == alarm_id), None)

        case = poll(fire_case, lambda c: c is not None)
        assert case["cell_id"] == "chashanzhuhai-ne"
        assert case["department"] == "forestry" and case["status"] == "dispatched"
        assert case["due_at"] is not None

        def notices() -> list[dict[str, Any]]:
            page = api.get("/health-record/readiness-notices", params={"limit": 500})
            return [n for n in page.json()["items"] if n["alarm_id"] == alarm_id]

        (notice,) = poll(notices, lambda ns: len(ns) == 1)
        assert notice["facility_id"] == "chashan-health-centre" and notice["status"] == "open"

        for step in ("verified", "dispatched", "on_scene", "extinguished", "closed"):
            moved = api.post(f"/fire-detect/alarms/{alarm_id}/transitions", json={"status": step})
            assert moved.status_code == 201, (step, moved.text)
        skipped_back = api.post(
            f"/fire-detect/alarms/{alarm_id}/transitions", json={"status": "verified"}
        )
        assert skipped_back.status_code == 409

        closed = poll(
            lambda: api.get(f"/grid-events/cases/{case['id']}").json(),
            lambda c: c["status"] == "closed",
        )
        assert closed["id"] == case["id"]
        poll(notices, lambda ns: ns[0]["status"] == "closed")

        timeline = api.get(f"/fire-detect/alarms/{alarm_id}").json()["timeline"]
        assert [t["status"] for t in timeline] == [
            "raised",
            "verified",
            "dispatched",
            "on_scene",
            "extinguished",
            "closed",
        ]

        # The operators' live feed saw the alarm and the case it opened. The case's
        # closed row is visible before its event has gone through the outbox relay and
        # Kafka to the gateway, so the feed is read until that last event is in it.
        def feed() -> set[tuple[str, str]]:
            recent = api.get("/events/recent", params={"limit": 1000}).json()
            return {(e["type"], e["subject"]) for e in recent}

        subjects = poll(feed, lambda s: ("city.grid.case.closed.v1", case["id"]) in s)
        assert ("city.fire.alarm.raised.v1", alarm_id) in subjects
        assert ("city.grid.case.opened.v1", case["id"]) in subjects
        assert ("city.grid.case.dispatched.v1", case["id"]) in subjects

    # One trace id follows the report from the gateway through fire-detect into the
    # consumers of its event, in each service's own log.
    for service in ("gateway", "fire-detect", "grid-events", "health-record"):
        lines = (platform.logs / f"{service}.log").read_text(encoding="utf-8").splitlines()
        traced = [json.loads(x) for x in lines if trace_id in x]
        assert traced, f"trace {trace_id} not in {service}'s log"
        assert all(entry["trace_id"] == trace_id for entry in traced)
    grid_lines = (platform.logs / "grid-events.log").read_text(encoding="utf-8")
    assert any(
        json.loads(x).get("event_type") == "city.fire.alarm.raised.v1"
        for x in grid_lines.splitlines()
        if trace_id in x
    )
