"""air-water against the real PostgreSQL/PostGIS and Kafka."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from air_water.bootstrap import create_app
from air_water.config import Settings
from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging import KafkaPublisher, ensure_topics
from city_common.testing import (
    KAFKA_BOOTSTRAP,
    bearer,
    consumed,
    keyed,
    migrated_database,
    problem_fields,
    read_topic,
    running_app,
    settings_for_test,
    unique,
)

pytestmark = pytest.mark.integration

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)


def station(station_id: str, medium: str, cell_id: str, lon: float, lat: float) -> dict[str, Any]:
    return {
        "id": station_id,
        "medium": medium,
        "name": f"Station {station_id}",
        "cell_id": cell_id,
        "location": {"type": "Point", "coordinates": [lon, lat]},
    }


def reading(
    pollutant: str, value: float, unit: str, at: datetime, averaging: str = "24h"
) -> dict[str, Any]:
    return {
        "pollutant": pollutant,
        "value": value,
        "unit": unit,
        "observed_at": at.isoformat(),
        "averaging": averaging,
    }


async def test_stations_observations_and_exceedance_loop() -> None:
    url = await migrated_database("air_water", f"test_air_{uuid.uuid4().hex[:8]}")
    prefix = unique("aw") + "."
    settings = settings_for_test(Settings, url, topic_prefix=prefix)
    admin = bearer(settings, "admin")
    operator = bearer(settings, "operator", subject="op-1")
    logger = bearer(settings, "service", subject="aq-network")
    async with running_app(create_app(settings)) as client:
        # --- stations ----------------------------------------------------
        for body in (
            station("aq-yc-01", "air", "cell-1", 105.93, 29.35),
            station("aq-yc-02", "air", "cell-2", 105.95, 29.37),
            station("wq-linjiang-01", "water", "cell-2", 105.96, 29.36),
        ):
            made = await client.post("/stations", json=body, headers=admin)
            assert made.status_code == 201, made.text
        assert made.json()["location"] == {"type": "Point", "coordinates": [105.96, 29.36]}
        dup = await client.post("/stations", json=body, headers=admin)
        assert dup.status_code == 409 and dup.headers["content-type"] == "application/problem+json"

        bad_point = {
            **body,
            "id": "x-1",
            "location": {"type": "Point", "coordinates": ["105.9", 29.3]},
        }
        assert problem_fields(await client.post("/stations", json=bad_point, headers=admin)) == [
            "body.location.coordinates.0"
        ]
        bad_medium = {**body, "id": "x-2", "medium": "soil"}
        assert problem_fields(await client.post("/stations", json=bad_medium, headers=admin)) == [
            "body.medium"
        ]
        extra = {**body, "id": "x-3", "operator": "someone"}
        assert problem_fields(await client.post("/stations", json=extra, headers=admin)) == [
            "body.operator"
        ]
        malformed = await client.post(
            "/stations", content=b"{", headers={**admin, "content-type": "application/json"}
        )
        assert malformed.status_code == 400

        assert (await client.post("/stations", json=body)).status_code == 401
        assert (await client.post("/stations", json=body, headers=operator)).status_code == 403
        assert (
            await client.get("/stations", headers=bearer(settings, "citizen"))
        ).status_code == 403

        air = (await client.get("/stations?medium=air", headers=operator)).json()
        assert air["total"] == 2 and {i["id"] for i in air["items"]} == {"aq-yc-01", "aq-yc-02"}
        cell2 = (await client.get("/stations?cell_id=cell-2", headers=operator)).json()
        assert {i["id"] for i in cell2["items"]} == {"aq-yc-02", "wq-linjiang-01"}
        page = (await client.get("/stations?limit=2&offset=2", headers=operator)).json()
        assert page["total"] == 3 and [i["id"] for i in page["items"]] == ["wq-linjiang-01"]
        assert (await client.get("/stations?limit=0", headers=operator)).status_code == 422
        one = await client.get("/stations/aq-yc-01", headers=operator)
        assert one.json()["cell_id"] == "cell-1"
        assert (await client.get("/stations/nope", headers=operator)).status_code == 404

        # --- observations --------------------------------------------------
        obs = "/stations/aq-yc-01/observations"
        # PM2.5 70 µg/m³ over 24 h: within 75 (2012), over 60 (2026 transition).
        made = await client.post(obs, json=reading("pm2_5", 70, "µg/m³", YESTERDAY), headers=logger)
        assert made.status_code == 201, made.text
        pm25_exceedance = made.json()["exceedance_id"]
        assert pm25_exceedance is not None
        under_2012 = await client.post(
            obs + "?standard=GB3095-2012",
            json=reading("pm2_5", 70, "ug/m3", YESTERDAY - timedelta(days=1)),
            headers=logger,
        )
        assert under_2012.status_code == 201 and under_2012.json()["exceedance_id"] is None
        assert under_2012.json()["unit"] == "µg/m³"
        at_limit = await client.post(
            obs, json=reading("pm2_5", 60, "µg/m³", YESTERDAY - timedelta(days=2)), headers=logger
        )
        assert at_limit.json()["exceedance_id"] is None
        again = await client.post(
            obs, json=reading("pm2_5", 71, "µg/m³", YESTERDAY), headers=logger
        )
        assert again.status_code == 409

        water = "/stations/wq-linjiang-01/observations"
        made = await client.post(
            water, json=reading("nh3_n", 1.6, "mg/L", YESTERDAY, "1h"), headers=operator
        )
        assert made.status_code == 201, made.text
        nh3_exceedance = made.json()["exceedance_id"]
        assert nh3_exceedance is not None

        not_water = await client.post(
            water, json=reading("so2", 10, "µg/m³", YESTERDAY), headers=logger
        )
        assert not_water.status_code == 422 and problem_fields(not_water) == ["body.pollutant"]
        future = reading("pm2_5", 10, "µg/m³", datetime.now(UTC) + timedelta(hours=1))
        assert problem_fields(await client.post(obs, json=future, headers=logger)) == [
            "body.observed_at"
        ]
        naive = {**reading("pm2_5", 10, "µg/m³", YESTERDAY), "observed_at": "2026-01-01T00:00:00"}
        assert problem_fields(await client.post(obs, json=naive, headers=logger)) == [
            "body.observed_at"
        ]
        wrong_unit = reading("co", 3, "µg/m³", YESTERDAY)
        assert problem_fields(await client.post(obs, json=wrong_unit, headers=logger)) == [
            "body.unit"
        ]
        as_text = {**reading("pm2_5", 10, "µg/m³", YESTERDAY), "value": "10"}
        assert problem_fields(await client.post(obs, json=as_text, headers=logger)) == [
            "body.value"
        ]
        negative = reading("pm2_5", -1, "µg/m³", YESTERDAY)
        assert problem_fields(await client.post(obs, json=negative, headers=logger)) == [
            "body.value"
        ]
        bad_period = reading("pm2_5", 10, "µg/m³", YESTERDAY, "8h")
        assert problem_fields(await client.post(obs, json=bad_period, headers=logger)) == [
            "body.averaging"
        ]
        acid = reading("ph", 15, "pH", YESTERDAY)
        assert problem_fields(await client.post(water, json=acid, headers=logger)) == ["body.value"]
        unknown = await client.post(
            "/stations/nope/observations",
            json=reading("so2", 1, "µg/m³", YESTERDAY),
            headers=logger,
        )
        assert unknown.status_code == 404
        grid_worker = bearer(settings, "grid_worker")
        denied = await client.post(
            obs, json=reading("so2", 1, "µg/m³", YESTERDAY), headers=grid_worker
        )
        assert denied.status_code == 403

        history = (await client.get(obs + "?limit=2", headers=operator)).json()
        assert history["total"] == 3 and len(history["items"]) == 2
        assert history["items"][0]["observed_at"].startswith(YESTERDAY.isoformat()[:13])

        # --- exceedances ----------------------------------------------------
        listed = (await client.get("/exceedances?status=open", headers=operator)).json()
        assert listed["total"] == 2
        in_cell2 = (await client.get("/exceedances?cell_id=cell-2", headers=operator)).json()
        assert [e["id"] for e in in_cell2["items"]] == [nh3_exceedance]
        detail = (await client.get(f"/exceedances/{pm25_exceedance}", headers=operator)).json()
        assert detail["limit"] == 60 and detail["standard"] == "GB3095-2026-transition"
        assert detail["status"] == "open" and detail["cell_id"] == "cell-1"
        assert (await client.get("/exceedances?status=gone", headers=operator)).status_code == 422

        announced = keyed(await read_topic(prefix + "env.exceedances", expected=2))
        assert len(announced) == 2
        by_key = {key: (h, data) for key, h, data in announced}
        assert set(by_key) == {"cell-1", "cell-2"}
        headers, data = by_key["cell-1"]
        assert headers["ce_type"] == b"city.env.exceedance.detected.v1"
        assert data["exceedance_id"] == pm25_exceedance and data["limit"] == 60
        assert data["surrounding_mean"] is None

        # --- the grid closes the case raised for the exceedance -------------
        await ensure_topics(KAFKA_BOOTSTRAP, [prefix + "grid.cases"])
        publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test")
        await publisher.start()
        try:
            for status, kind, ref in (
                ("opened", "exceedance", pm25_exceedance),  # not a closing: ignored
                ("closed", "fire_alarm", pm25_exceedance),  # another system's case: ignored
                ("closed", "exceedance", pm25_exceedance),
            ):
                case = s.GridCaseChanged(
                    case_id="case-77",
                    status=s.GridCaseStatus(status),
                    category="air_pollution",
                    at=datetime.now(UTC),
                    cell_id="cell-1",
                    department="environment",
                    source=s.GridCaseSource(kind=kind, ref=ref),
                    location=GeoPoint.of(105.93, 29.35),
                )
                key, event = spec_for_type(f"city.grid.case.{status}.v1").build(
                    case, source="/test"
                )
                await publisher.publish(prefix + "grid.cases", key, event)
            await publisher.publish(prefix + "grid.cases", key, event)  # redelivered

            closed = None
            for _ in range(150):
                closed = (
                    await client.get(f"/exceedances/{pm25_exceedance}", headers=operator)
                ).json()
                if closed["status"] == "closed":
                    break
                await asyncio.sleep(0.2)
            assert closed is not None and closed["status"] == "closed"
            assert closed["closed_by_case"] == "case-77"

            for _ in range(150):
                metrics = (await client.get("/metrics")).text
                if consumed(metrics, prefix + "grid.cases", "duplicate") >= 1:
                    break
                await asyncio.sleep(0.2)
            assert consumed(metrics, prefix + "grid.cases", "duplicate") == 1, "inbox absorbed it"
        finally:
            await publisher.stop()

        still_open = (await client.get("/exceedances?status=open", headers=operator)).json()
        assert [e["id"] for e in still_open["items"]] == [nh3_exceedance]

        # Read while the app (and its outbox relay) still runs; wait past the third
        # message to see that the redelivery announced no second closing.
        messages = keyed(await read_topic(prefix + "env.exceedances", expected=4, timeout_s=5))
    types = sorted(h["ce_type"].decode() for _, h, _ in messages)
    assert types == [
        "city.env.exceedance.closed.v1",
        "city.env.exceedance.detected.v1",
        "city.env.exceedance.detected.v1",
    ], "one closing for the one closed case"
    closing = next(
        (k, data) for k, h, data in messages if h["ce_type"] == b"city.env.exceedance.closed.v1"
    )
    assert closing[0] == "cell-1" and closing[1]["exceedance_id"] == pm25_exceedance
