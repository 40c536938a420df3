"""enterprise-hub against the real PostgreSQL/PostGIS and Kafka."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

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
from enterprise_hub.bootstrap import create_app
from enterprise_hub.config import Settings
from enterprise_hub.domain.credit_code import check_character
from enterprise_hub.domain.model import policy_applies

pytestmark = pytest.mark.integration

STATION = GeoPoint.of(105.93, 29.35)  # where the exceedance was recorded


def credit_code(serial: str) -> str:
    """A valid code of a Yongchuan (500118) company with a 9-character organisation code."""
    first17 = "91500118" + serial
    return first17 + check_character(first17)


ENTERPRISES: list[tuple[str, str, str, float, float]] = [
    # name, industry, size, lon, lat: two within 1 km of the station, one 3.6 km away.
    ("Yongchuan Xiushan Tea Co.", "tea_processing", "small", 105.935, 29.352),
    ("Chongqing Linjiang Chemicals Co.", "chemicals", "medium", 105.925, 29.347),
    ("Weixi Machinery Works", "manufacturing", "large", 105.96, 29.37),
]


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


async def test_enterprises_policies_and_compliance_notices() -> None:
    url = await migrated_database("enterprise_hub", f"test_ent_{uuid.uuid4().hex[:8]}")
    prefix = unique("eh") + "."
    settings = settings_for_test(Settings, url, topic_prefix=prefix)
    operator = bearer(settings, "operator", subject="commerce-bureau")
    company = bearer(settings, "enterprise", subject="xiushan-tea")
    async with running_app(create_app(settings)) as client:
        # --- enterprises -------------------------------------------------------
        ids: dict[str, str] = {}
        body: dict[str, Any] = {}
        for n, (name, industry, size, lon, lat) in enumerate(ENTERPRISES):
            body = {
                "name": name,
                "credit_code": credit_code(f"MA6{n:05d}X"),
                "industry": industry,
                "size": size,
                "location": {"type": "Point", "coordinates": [lon, lat]},
            }
            made = await client.post("/enterprises", json=body, headers=operator)
            assert made.status_code == 201, made.text
            ids[industry] = made.json()["id"]
        dup = await client.post("/enterprises", json={**body, "name": "Another"}, headers=operator)
        assert dup.status_code == 409 and body["credit_code"] in dup.json()["detail"]

        wrong_check = body["credit_code"][:17] + ("0" if body["credit_code"][17] != "0" else "1")
        bad = await client.post(
            "/enterprises", json={**body, "credit_code": wrong_check}, headers=operator
        )
        assert bad.status_code == 422 and problem_fields(bad) == ["body.credit_code"]
        assert "check character" in bad.json()["errors"][0]["reason"]
        for field, value in (
            ("credit_code", "91350100O000100Y43"),
            ("credit_code", 913501001),
            ("industry", "Chemicals"),
            ("size", "huge"),
            ("name", ""),
        ):
            bad = await client.post("/enterprises", json={**body, field: value}, headers=operator)
            assert bad.status_code == 422 and problem_fields(bad) == [f"body.{field}"], (
                field,
                value,
            )
        extra = await client.post(
            "/enterprises", json={**body, "legal_person": "x"}, headers=operator
        )
        assert problem_fields(extra) == ["body.legal_person"]

        assert (await client.get("/enterprises")).status_code == 401
        assert (await client.post("/enterprises", json=body, headers=company)).status_code == 403
        assert (
            await client.get("/enterprises", headers=bearer(settings, "citizen"))
        ).status_code == 403

        chem = (await client.get("/enterprises?industry=chemicals", headers=company)).json()
        assert chem["total"] == 1 and chem["items"][0]["id"] == ids["chemicals"]
        page = (await client.get("/enterprises?limit=1&offset=1", headers=operator)).json()
        assert page["total"] == 3 and [e["name"] for e in page["items"]] == [
            "Weixi Machinery Works"
        ]
        one = (await client.get(f"/enterprises/{ids['tea_processing']}", headers=company)).json()
        assert one["credit_code"] == credit_code("MA600000X") and one["size"] == "small"
        assert (await client.get("/enterprises/ent-nope", headers=company)).status_code == 404

        # --- policies --------------------------------------------------------------
        policies = {}
        for key, industries in (
            ("chem_relief", ["chemicals"]),
            ("all_sme", []),
            ("tea_and_machines", ["tea_processing", "manufacturing"]),
        ):
            made = await client.post(
                "/policies",
                json={
                    "title": f"Policy {key}",
                    "department": "District Commerce Bureau",
                    "industries": industries,
                    "summary": "Tax relief for the first three years.",
                },
                headers=operator,
            )
            assert made.status_code == 201, made.text
            policies[key] = made.json()
        repeated = {
            "title": "t",
            "department": "d",
            "industries": ["chemicals", "chemicals"],
            "summary": "s",
        }
        assert problem_fields(await client.post("/policies", json=repeated, headers=operator)) == [
            "body.industries"
        ]
        not_a_list = {**repeated, "industries": "chemicals"}
        assert problem_fields(
            await client.post("/policies", json=not_a_list, headers=operator)
        ) == ["body.industries"]
        bad_item = {**repeated, "industries": ["Tea Processing"]}
        assert problem_fields(await client.post("/policies", json=bad_item, headers=operator)) == [
            "body.industries.0"
        ]
        assert (await client.post("/policies", json=repeated, headers=company)).status_code == 403

        listed = (await client.get("/policies?limit=500", headers=company)).json()
        assert listed["total"] == 3
        everything = listed["items"]
        # The database's filter and the domain's rule agree, industry by industry.
        for industry in ("chemicals", "tea_processing", "manufacturing", "logistics"):
            got = (await client.get(f"/policies?industry={industry}", headers=company)).json()
            expected = {p["id"] for p in everything if policy_applies(p["industries"], industry)}
            assert {p["id"] for p in got["items"]} == expected and got["total"] == len(expected)
        for_chem = (
            await client.get(f"/enterprises/{ids['chemicals']}/policies", headers=company)
        ).json()
        assert {p["id"] for p in for_chem["items"]} == {
            policies["chem_relief"]["id"],
            policies["all_sme"]["id"],
        }
        first = (
            await client.get(
                f"/enterprises/{ids['manufacturing']}/policies?limit=1", headers=company
            )
        ).json()
        assert first["total"] == 2 and len(first["items"]) == 1
        assert (
            await client.get("/enterprises/ent-nope/policies", headers=company)
        ).status_code == 404
        by_department = (await client.get("/policies?department=Nobody", headers=company)).json()
        assert by_department["total"] == 0

        published = keyed(await read_topic(prefix + "enterprise.policies", expected=3))
        assert {h["ce_type"] for _, h, _ in published} == {b"city.enterprise.policy.published.v1"}
        assert {k for k, _, _ in published} == {p["id"] for p in policies.values()}
        chem_event = next(data for k, _, data in published if k == policies["chem_relief"]["id"])
        assert (
            chem_event["industries"] == ["chemicals"]
            and chem_event["title"] == "Policy chem_relief"
        )

        # --- an exceedance nearby asks the enterprises within 1 km to check ----------
        await ensure_topics(KAFKA_BOOTSTRAP, [prefix + "env.exceedances"])
        publisher = KafkaPublisher(KAFKA_BOOTSTRAP, client_id="test")
        await publisher.start()
        try:
            exceedance = s.ExceedanceDetected(
                exceedance_id="exc-pm25-1",
                cell_id="cell-1",
                medium=s.EnvMedium.AIR,
                pollutant="pm2_5",
                concentration=82.0,
                limit=60.0,
                unit="µg/m³",
                observed_hour=datetime.now(UTC).replace(minute=0, second=0, microsecond=0),
                location=STATION,
            )
            spec = spec_for_type("city.env.exceedance.detected.v1")
            key, event = spec.build(exceedance, source="/test")
            await publisher.publish(prefix + "env.exceedances", key, event)
            await publisher.publish(prefix + "env.exceedances", key, event)  # redelivered
            # The same exceedance announced again under a new event id.
            await publisher.publish(
                prefix + "env.exceedances", *spec.build(exceedance, source="/test")
            )

            topic = prefix + "env.exceedances"
            for _ in range(150):
                if consumed((await client.get("/metrics")).text, topic, "applied") >= 2:
                    break
                await asyncio.sleep(0.2)
            metrics = (await client.get("/metrics")).text
            assert consumed(metrics, topic, "applied") == 2
            assert consumed(metrics, topic, "duplicate") == 1, "the inbox absorbed the redelivery"
        finally:
            await publisher.stop()

        notices = (
            await client.get("/compliance-notices?exceedance_id=exc-pm25-1", headers=operator)
        ).json()
        assert notices["total"] == 2, (
            "one notice per enterprise within 1 km, however often announced"
        )
        assert {n["enterprise_id"] for n in notices["items"]} == {
            ids["tea_processing"],
            ids["chemicals"],
        }
        for notice in notices["items"]:
            _, _, _, lon, lat = next(e for e in ENTERPRISES if e[0] == notice["enterprise_name"])
            assert notice["distance_m"] == pytest.approx(
                haversine_m(105.93, 29.35, lon, lat), rel=5e-3
            )
            assert notice["distance_m"] < 1_000
            assert notice["pollutant"] == "pm2_5" and notice["limit"] == 60.0
        tea = (
            await client.get(
                f"/compliance-notices?enterprise_id={ids['tea_processing']}", headers=company
            )
        ).json()
        assert tea["total"] == 1 and tea["items"][0]["cell_id"] == "cell-1"
        far = (
            await client.get(
                f"/compliance-notices?enterprise_id={ids['manufacturing']}", headers=company
            )
        ).json()
        assert far["total"] == 0
        paged = (await client.get("/compliance-notices?limit=1&offset=1", headers=operator)).json()
        assert paged["total"] == 2 and len(paged["items"]) == 1
