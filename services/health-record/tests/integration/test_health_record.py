"""health-record against the real PostgreSQL/PostGIS and Kafka."""

from __future__ import annotations

import asyncio
import math
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
    consumed,
    migrated_database,
    problem_fields,
    running_app,
    settings_for_test,
    unique,
)
from health_record.bootstrap import create_app
from health_record.config import Settings

pytestmark = pytest.mark.integration

FACILITIES = [
    (
        "cq-ych",
        "Yongchuan Hospital of Chongqing Medical University",
        "tertiary",
        40,
        105.894,
        29.356,
    ),
    (
        "yc-tcm",
        "Yongchuan Hospital of Traditional Chinese Medicine",
        "secondary",
        20,
        105.927,
        29.348,
    ),
    # Nearest the Chashan bamboo forest, but with no emergency bed.
    ("songji-kiosk", "Songji health kiosk", "kiosk", 0, 105.805, 29.262),
    ("far-clinic", "A clinic far to the north-east", "primary", 6, 106.40, 29.70),
]
FIRE = GeoPoint.of(105.80, 29.26)  # Chashan bamboo forest
REMOTE_FIRE = GeoPoint.of(106.90, 30.20)  # no facility within 30 km


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


async def test_facilities_readiness_and_audit() -> None:
    url = await migrated_database("health_record", f"test_health_{uuid.uuid4().hex[:8]}")
    prefix = unique("hr") + "."
    settings = settings_for_test(Settings, url, topic_prefix=prefix)
    admin = bearer(settings, "admin", subject="admin-wang")
    doctor = bearer(settings, "doctor", subject="dr-li")
    operator = bearer(settings, "operator", subject="op-zhang")
    async with running_app(create_app(settings)) as client:
        # --- facilities ----------------------------------------------------
        for fid, name, level, beds, lon, lat in FACILITIES:
            body = {
                "id": fid,
                "name": name,
                "level": level,
                "emergency_beds": beds,
                "location": {"type": "Point", "coordinates": [lon, lat]},
            }
            made = await client.post("/facilities", json=body, headers=admin)
            assert made.status_code == 201, made.text
        assert (await client.post("/facilities", json=body, headers=admin)).status_code == 409

        for field, value in (
            ("emergency_beds", "5"),
            ("emergency_beds", -1),
            ("emergency_beds", 2.5),
            ("level", "quaternary"),
            ("name", ""),
            ("id", "has space"),
        ):
            bad = await client.post("/facilities", json={**body, field: value}, headers=admin)
            assert bad.status_code == 422 and problem_fields(bad) == [f"body.{field}"], (
                field,
                value,
            )
        extra = await client.post("/facilities", json={**body, "director": "x"}, headers=admin)
        assert problem_fields(extra) == ["body.director"]

        assert (await client.get("/facilities")).status_code == 401
        assert (await client.post("/facilities", json=body, headers=doctor)).status_code == 403
        assert (
            await client.get("/facilities", headers=bearer(settings, "citizen"))
        ).status_code == 403

        tertiary = (await client.get("/facilities?level=tertiary", headers=doctor)).json()
        assert [f["id"] for f in tertiary["items"]] == ["cq-ych"]
        page = (await client.get("/facilities?limit=2&offset=2", headers=operator)).json()
        assert page["total"] == 4 and [f["id"] for f in page["items"]] == ["songji-kiosk", "yc-tcm"]
        assert (await client.get("/facilities?level=clinic", headers=doctor)).status_code == 422
        one = await client.get("/facilities/yc-tcm", headers=doctor)
        assert one.json()["emergency_beds"] == 20
        read_trace = one.headers["x-trace-id"]
        assert (await client.get("/facilities/nope", headers=doctor)).status_code == 404

        near = await client.get("/facilities/nearest?lon=105.93&lat=29.35&limit=2", headers=doctor)
        assert near.status_code == 200, near.text
        nearest = near.json()
        assert nearest["total"] == 4 and [f["id"] for f in nearest["items"]] == ["yc-tcm", "cq-ych"]
        for item in nearest["items"]:
            lon, lat = item["location"]["coordinates"]
            # Spheroid (PostGIS) and sphere (haversine) agree within 0.5 %.
            assert item["distance_m"] == pytest.approx(
                haversine_m(105.93, 29.35, lon, lat), rel=5e-3
            )
        rest = (
            await client.get("/facilities/nearest?lon=105.93&lat=29.35&offset=2", headers=doctor)
        ).json()
        assert [f["id"] for f in rest["items"]] == ["songji-kiosk", "far-clinic"]
        assert problem_fields(
            await client.get("/facilities/nearest?lon=105.93", headers=doctor)
        ) == ["query.lat"]
        assert problem_fields(
            await client.get("/facilities/nearest?lon=105.93&lat=95", headers=doctor)
        ) == ["query.lat"]
        for lon in ("east", "nan", "inf", "181"):
            wrong = await client.get(f"/facilities/nearest?lon={lon}&lat=29", headers=doctor)
            assert problem_fields(wrong) == ["query.lon"], lon

        # --- a forest fire readies the nearest facility with emergency beds ----
        await ensure_topics(KAFKA_BOOTSTRAP, [prefix + "fire.alarms"])
        publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test")
        await publisher.start()
        try:
            for alarm_id, place in (("fa-chashan-1", FIRE), ("fa-remote-1", REMOTE_FIRE)):
                alarm = s.FireAlarmRaised(
                    alarm_id=alarm_id,
                    raised_at=datetime.now(UTC),
                    location=place,
                    uncertainty_m=150.0,
                    confidence=0.93,
                    danger_level=4,
                )
                key, event = spec_for_type("city.fire.alarm.raised.v1").build(alarm, source="/test")
                await publisher.publish(prefix + "fire.alarms", key, event)
            await publisher.publish(prefix + "fire.alarms", key, event)  # redelivered
            first = spec_for_type("city.fire.alarm.raised.v1").build(
                alarm.model_copy(update={"alarm_id": "fa-chashan-1", "location": FIRE}), source="/t"
            )
            await publisher.publish(prefix + "fire.alarms", *first)

            topic = prefix + "fire.alarms"
            for _ in range(150):
                if consumed((await client.get("/metrics")).text, topic, "applied") >= 3:
                    break
                await asyncio.sleep(0.2)
            metrics = (await client.get("/metrics")).text
            assert consumed(metrics, topic, "applied") == 3
            assert consumed(metrics, topic, "duplicate") == 1, "the inbox absorbed the redelivery"

            notices = (await client.get("/readiness-notices?status=open", headers=doctor)).json()
            assert notices["total"] == 1, "one notice: the remote fire has no facility in reach"
            notice = notices["items"][0]
            assert notice["alarm_id"] == "fa-chashan-1" and notice["facility_id"] == "cq-ych"
            assert notice["facility_name"].startswith("Yongchuan Hospital of Chongqing")
            assert notice["distance_m"] == pytest.approx(
                haversine_m(105.80, 29.26, 105.894, 29.356), rel=5e-3
            )
            assert notice["alarm_location"] == {"type": "Point", "coordinates": [105.80, 29.26]}
            none_at_tcm = (
                await client.get("/readiness-notices?facility_id=yc-tcm", headers=doctor)
            ).json()
            assert none_at_tcm["total"] == 0

            out = s.FireAlarmStatusChanged(
                alarm_id="fa-chashan-1",
                status=s.FireAlarmStatus.EXTINGUISHED,
                at=datetime.now(UTC),
                actor="ranger-3",
                location=FIRE,
            )
            key, event = spec_for_type("city.fire.alarm.extinguished.v1").build(out, source="/t")
            await publisher.publish(prefix + "fire.alarms", key, event)
            for _ in range(150):
                closed = (
                    await client.get("/readiness-notices?status=closed", headers=operator)
                ).json()
                if closed["total"]:
                    break
                await asyncio.sleep(0.2)
            assert closed["total"] == 1
            assert closed["items"][0]["closed_because"] == "extinguished"
            assert closed["items"][0]["id"] == notice["id"]
        finally:
            await publisher.stop()

        # --- every access through the API is in the audit -----------------------
        assert (await client.get("/audit", headers=doctor)).status_code == 403
        audit = (await client.get("/audit?subject=dr-li&limit=500", headers=admin)).json()
        records = audit["items"]
        assert {r["subject"] for r in records} == {"dr-li"} and audit["total"] == len(records)
        assert all(r["roles"] == ["doctor"] for r in records)
        read = [r for r in records if r["action"] == "read"]
        assert read == [
            {**read[0], "resource": "facility", "resource_id": "yc-tcm", "trace_id": read_trace}
        ], "the 404 read and the refused calls left no record"
        actions = {(r["action"], r["resource"]) for r in records}
        assert actions == {
            ("list", "facility"),
            ("read", "facility"),
            ("search", "facility"),
            ("list", "readiness_notice"),
        }
        created = (await client.get("/audit?subject=admin-wang", headers=admin)).json()
        creates = [r for r in created["items"] if r["action"] == "create"]
        assert sorted(r["resource_id"] for r in creates) == sorted(f[0] for f in FACILITIES)
        # Reading the audit is itself recorded.
        again = (await client.get("/audit?subject=admin-wang", headers=admin)).json()
        assert again["total"] == created["total"] + 1
        assert again["items"][0]["resource"] == "access_audit"
        paged = (await client.get("/audit?limit=1&offset=1", headers=admin)).json()
        assert len(paged["items"]) == 1 and paged["total"] > 1
