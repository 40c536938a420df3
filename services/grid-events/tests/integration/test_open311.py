"""Open311 GeoReport v2, exercised the way an Open311 client does: form posts, arrays back."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest

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
)
from grid_events.bootstrap import create_app
from grid_events.config import Settings

pytestmark = pytest.mark.integration

TOWN = [[[105.90, 29.32], [105.96, 29.32], [105.96, 29.38], [105.90, 29.38], [105.90, 29.32]]]
CELL = [[[105.92, 29.34], [105.94, 29.34], [105.94, 29.36], [105.92, 29.36], [105.92, 29.34]]]
BASE = "/open311/v2"
FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def xml_of(response) -> ElementTree.Element:
    return ElementTree.fromstring(response.content)  # noqa: S314 - this service's own answer


def errors_of(response, status: int) -> list[dict]:
    """The specification's error array, with its HTTP status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list) and body, body
    assert all(set(e) == {"code", "description"} and e["description"] for e in body), body
    return body


async def test_open311_services_requests_and_tokens() -> None:
    url = await migrated_database("grid_events", f"test_grid_o311_{uuid.uuid4().hex[:8]}")
    prefix = unique("o") + "."
    settings = settings_for_test(Settings, url, topic_prefix=prefix, consumer_enabled=False)
    admin = bearer(settings, "admin")
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
        located = {
            "address": "人民大道 100号",
            "cell_id": "cell-1",
            "location": {"type": "Point", "coordinates": [105.931, 29.351]},
        }
        assert (await client.post("/housing", json=located, headers=admin)).status_code == 201
        unlocated = await client.post(
            "/housing", json={"address": "红旗路 8号", "cell_id": "cell-1"}, headers=admin
        )
        unlocated_id = unlocated.json()["id"]

        issued = await client.post("/open311-keys", json={"name": "wechat-app"}, headers=admin)
        assert issued.status_code == 201
        api_key = issued.json()["api_key"]
        assert api_key.startswith("o311_") and len(api_key) > 40
        assert_problem(
            await client.post("/open311-keys", json={"name": "x"}, headers=operator), 403
        )

        # --- the service list and definitions ------------------------------------------
        services = (await client.get(f"{BASE}/services.json")).json()
        assert isinstance(services, list) and len(services) >= 5
        for service in services:
            assert set(service) == {
                "service_code",
                "service_name",
                "description",
                "metadata",
                "type",
                "keywords",
                "group",
            }
            assert service["type"] == "realtime" and isinstance(service["metadata"], bool)
        by_code = {s["service_code"]: s for s in services}
        assert by_code["air-pollution"]["metadata"] is True
        assert by_code["public-safety"]["metadata"] is False
        as_xml = await client.get(f"{BASE}/services.xml?jurisdiction_id=yongchuan.gov.cn")
        assert as_xml.headers["content-type"].startswith("text/xml")
        assert as_xml.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
        root = xml_of(as_xml)
        assert root.tag == "services"
        assert [e.findtext("service_code") for e in root.findall("service")] == list(by_code)
        assert root.find("service/metadata").text in ("true", "false")

        definition = (await client.get(f"{BASE}/services/air-pollution.json")).json()
        assert definition["service_code"] == "air-pollution"
        source = definition["attributes"][0]
        assert source["code"] == "source" and source["datatype"] == "singlevaluelist"
        assert source["required"] is True and source["variable"] is True and source["order"] == 1
        assert {"key": "factory", "name": "A factory or workshop"} in source["values"]
        xml_definition = xml_of(await client.get(f"{BASE}/services/water-pollution.xml"))
        assert xml_definition.tag == "service_definition"
        assert (
            xml_definition.findtext("attributes/attribute[2]/values/value[1]/key") == "discoloured"
        )
        errors_of(await client.get(f"{BASE}/services/no-such-thing.json"), 404)
        errors_of(await client.get(f"{BASE}/services.json?jurisdiction_id=other.gov"), 404)
        errors_of(await client.get(f"{BASE}/services.yaml"), 400)
        xml_error = await client.get(f"{BASE}/services/nothing.xml")
        assert xml_error.status_code == 404
        assert xml_of(xml_error).findtext("error/code") == "404"

        # --- posting, exactly as a client does: form-encoded, api_key in the form -------------
        report = {
            "api_key": api_key,
            "jurisdiction_id": "yongchuan.gov.cn",
            "service_code": "air-pollution",
            "lat": "29.3512",
            "long": "105.9305",
            "description": "Black smoke from the brickworks chimney\nsince this morning",
            "media_url": "https://img.example.cn/p/123.jpg",
            "email": "wang.fang@example.cn",
            "first_name": "芳",
            "last_name": "王",
            "phone": "13812345678",
            "account_id": "acct-991",
            "attribute[source]": "factory",
            "attribute[noticed_at]": "2026-11-24T07:30:00+08:00",
        }
        posted = await client.post(f"{BASE}/requests.json", data=report)
        assert posted.status_code == 200, posted.text
        assert posted.request.headers["content-type"] == "application/x-www-form-urlencoded"
        answer = posted.json()
        assert isinstance(answer, list) and len(answer) == 1
        assert set(answer[0]) == {"service_request_id", "service_notice", "account_id"}
        assert answer[0]["account_id"] == "acct-991"
        smoke_id = answer[0]["service_request_id"]
        for contact in ("wang.fang@example.cn", "13812345678"):
            assert contact not in posted.text

        water = urlencode(
            [
                ("api_key", api_key),
                ("service_code", "water-pollution"),
                ("address_string", "人民大道　１００号"),  # the register's address, full-width
                ("attribute[signs][]", "foam"),
                ("attribute[signs][]", "dead_fish"),
                ("attribute[water_body]", "临江河"),
            ]
        )
        posted_xml = await client.post(f"{BASE}/requests.xml", content=water, headers=FORM)
        assert posted_xml.status_code == 200, posted_xml.text
        water_id = xml_of(posted_xml).findtext("request/service_request_id")
        assert water_id and water_id.startswith("sr-")
        by_address_id = await client.post(
            f"{BASE}/requests.json",
            data={
                "api_key": api_key,
                "service_code": "public-safety",
                "address_id": unlocated_id,
                "description": "Fire lane blocked by parked cars",
            },
        )
        assert by_address_id.status_code == 200, by_address_id.text
        lane_id = by_address_id.json()[0]["service_request_id"]

        # Bad posts: the specification's errors, every problem at once.
        no_key = {k: v for k, v in report.items() if k != "api_key"}
        assert (
            errors_of(await client.post(f"{BASE}/requests.json", data=no_key), 403)[0]["code"]
            == 403
        )
        errors_of(
            await client.post(f"{BASE}/requests.json", data={**report, "api_key": "o311_forged"}),
            403,
        )
        errors_of(
            await client.post(f"{BASE}/requests.json", data={**report, "service_code": "potholes"}),
            404,
        )
        errors_of(
            await client.post(
                f"{BASE}/requests.json",
                data={k: v for k, v in report.items() if k != "service_code"},
            ),
            400,
        )
        several = errors_of(
            await client.post(
                f"{BASE}/requests.json",
                data={
                    **{k: v for k, v in report.items() if k != "attribute[source]"},
                    "attribute[colour]": "black",
                    "lat": "north",
                    "media_url": "javascript:alert(1)",
                },
            ),
            400,
        )
        text = " ".join(e["description"] for e in several)
        assert len(several) >= 4
        assert "attribute[source] is required" in text and "attribute[colour]" in text
        assert "lat must be a decimal" in text and "media_url" in text
        for bad in (
            {"attribute[source]": "volcano"},
            {"lat": "", "long": ""},  # empty means absent: then no location at all
            {"long": ""},  # lat without long
            {"lat": "95"},
            {"description": "<script>alert(1)</script>"},
            {"description": "x" * 4001},
            {"attribute[noticed_at]": "yesterday"},
            {"email": "not-an-email"},
            {"lat": "29.9", "long": "106.9"},  # outside every cell
        ):
            errors_of(await client.post(f"{BASE}/requests.json", data={**report, **bad}), 400)
        unknown_address = {
            "api_key": api_key,
            "service_code": "public-safety",
            "address_string": "无名路 1号",
        }
        assert (
            "housing register"
            in errors_of(await client.post(f"{BASE}/requests.json", data=unknown_address), 400)[0][
                "description"
            ]
        )
        errors_of(await client.post(f"{BASE}/requests.json", json=report), 400)  # not form-encoded
        errors_of(
            await client.post(f"{BASE}/requests.json", data={**report, "jurisdiction_id": "x.gov"}),
            404,
        )

        # --- reading requests back -----------------------------------------------------------
        listed = (await client.get(f"{BASE}/requests.json")).json()
        assert {r["service_request_id"] for r in listed} == {smoke_id, water_id, lane_id}
        smoke = next(r for r in listed if r["service_request_id"] == smoke_id)
        assert smoke["status"] == "open" and smoke["status_notes"] is None
        assert (
            smoke["service_code"] == "air-pollution"
            and smoke["agency_responsible"] == "environment"
        )
        assert smoke["lat"] == pytest.approx(29.3512) and smoke["long"] == pytest.approx(105.9305)
        assert smoke["description"].startswith("Black smoke") and "\n" in smoke["description"]
        assert smoke["media_url"] == "https://img.example.cn/p/123.jpg"
        assert W3C.match(smoke["requested_datetime"]) and W3C.match(smoke["updated_datetime"])
        assert {
            "service_request_id",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url",
        } == set(smoke)
        water_row = next(r for r in listed if r["service_request_id"] == water_id)
        assert water_row["address"] == "人民大道　１００号"
        assert (water_row["long"], water_row["lat"]) == (
            pytest.approx(105.931),
            pytest.approx(29.351),
        )
        lane = next(r for r in listed if r["service_request_id"] == lane_id)
        assert lane["address_id"] == unlocated_id
        assert 105.92 <= lane["long"] <= 105.94 and 29.34 <= lane["lat"] <= 29.36, "inside its cell"
        for contact in ("wang.fang@example.cn", "13812345678", "acct-991"):
            assert contact not in str(listed)

        one = await client.get(f"{BASE}/requests/{smoke_id}.json")
        assert one.json() == [smoke]
        one_xml = xml_of(await client.get(f"{BASE}/requests/{smoke_id}.xml"))
        assert one_xml.tag == "service_requests" and one_xml.findtext("request/status") == "open"
        assert one_xml.find("request/expected_datetime").text is None
        errors_of(await client.get(f"{BASE}/requests/sr-nope.json"), 404)

        def ids(response) -> set[str]:
            assert response.status_code == 200, response.text
            return {r["service_request_id"] for r in response.json()}

        assert ids(
            await client.get(f"{BASE}/requests.json?service_code=air-pollution,public-safety")
        ) == {smoke_id, lane_id}
        assert ids(await client.get(f"{BASE}/requests.json?status=closed")) == set()
        # service_request_id overrides every other argument.
        assert ids(
            await client.get(
                f"{BASE}/requests.json?service_request_id={smoke_id},{water_id}&status=closed"
            )
        ) == {smoke_id, water_id}
        assert (
            ids(await client.get(f"{BASE}/requests.json?start_date=2099-01-01T00:00:00Z")) == set()
        )
        assert (
            ids(await client.get(f"{BASE}/requests.json?end_date=2000-01-01T00:00:00%2B08:00"))
            == set()
        )
        errors_of(
            await client.get(
                f"{BASE}/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"
            ),
            400,
        )
        errors_of(await client.get(f"{BASE}/requests.json?start_date=2026-01-01T00:00:00"), 400)
        errors_of(
            await client.get(
                f"{BASE}/requests.json?start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z"
            ),
            400,
        )
        errors_of(await client.get(f"{BASE}/requests.json?status=pending"), 400)

        # Each request is a case of the command centre, in its cell, from a citizen.
        cases = (await client.get("/cases?category=air_pollution", headers=operator)).json()[
            "items"
        ]
        assert len(cases) == 1
        case = cases[0]
        assert case["source_kind"] == "citizen" and case["source_ref"] == smoke_id
        assert case["cell_id"] == "cell-1" and case["department"] == "environment"
        # The city resolves it: the client sees "closed".
        await execute_sql(
            url,
            "UPDATE cases SET status = 'resolved', updated_at = now() WHERE id = $1",
            case["id"],
        )
        closed = (await client.get(f"{BASE}/requests/{smoke_id}.json")).json()[0]
        assert closed["status"] == "closed" and closed["status_notes"] == "case resolved"
        assert ids(await client.get(f"{BASE}/requests.json?status=closed")) == {smoke_id}
        assert ids(await client.get(f"{BASE}/requests.json?status=open,closed")) == {
            smoke_id,
            water_id,
            lane_id,
        }

        # Tokens: a realtime service hands out none, so an unknown token is 404.
        errors_of(await client.get(f"{BASE}/tokens/abc.json"), 404)

        # A revoked key posts no more.
        key_id = issued.json()["id"]
        keys = (await client.get("/open311-keys", headers=admin)).json()
        assert [k["id"] for k in keys] == [key_id] and "api_key" not in keys[0]
        assert (await client.delete(f"/open311-keys/{key_id}", headers=admin)).status_code == 204
        errors_of(await client.post(f"{BASE}/requests.json", data=report), 403)
        assert_problem(await client.delete("/open311-keys/key-nope", headers=admin), 404)
        batch_key = (
            await client.post("/open311-keys", json={"name": "batch"}, headers=admin)
        ).json()["api_key"]

    # The batch flow: POST answers a token, GET tokens/{token} the request id.
    batch = settings_for_test(
        Settings, url, topic_prefix=prefix, consumer_enabled=False, open311_request_type="batch"
    )
    async with running_app(create_app(batch)) as client:
        assert {s["type"] for s in (await client.get(f"{BASE}/services.json")).json()} == {"batch"}
        posted = await client.post(
            f"{BASE}/requests.json",
            data={
                "api_key": batch_key,
                "service_code": "urban-management",
                "lat": "29.35",
                "long": "105.93",
            },
        )
        assert posted.status_code == 200, posted.text
        answer = posted.json()[0]
        assert "service_request_id" not in answer and answer["token"]
        resolved = (await client.get(f"{BASE}/tokens/{answer['token']}.json")).json()
        assert resolved[0]["token"] == answer["token"]
        assert (
            await client.get(f"{BASE}/requests/{resolved[0]['service_request_id']}.json")
        ).status_code == 200
        token_xml = xml_of(await client.get(f"{BASE}/tokens/{answer['token']}.xml"))
        assert token_xml.findtext("request/service_request_id") == resolved[0]["service_request_id"]

        # Read while this app's relay runs: its outbox is published by then.
        opened = keyed(await read_topic(prefix + "grid.cases", expected=4))
        citizen = [d for _, _, d in opened if d["source"]["kind"] == "citizen"]
        batch_id = resolved[0]["service_request_id"]
        assert {d["source"]["ref"] for d in citizen} == {smoke_id, water_id, lane_id, batch_id}
        assert all(d["status"] == "opened" and d["cell_id"] == "cell-1" for d in citizen)
