"""Base data against the real PostgreSQL: masking everywhere, lookup, identity, imports."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import date

import asyncpg
import httpx
import pytest

from city_common.testing import (
    PG_HOST,
    PG_PASSWORD,
    PG_PORT,
    PG_USER,
    assert_problem,
    bearer,
    migrated_database,
    problem_fields,
    running_app,
    settings_for_test,
)
from grid_events.adapters.tabular import ImportFormat
from grid_events.bootstrap import create_app
from grid_events.config import Settings
from grid_events.domain.base_data import BaseDataKind
from grid_events.domain.identity import check_character
from grid_events.entrypoints.import_cli import run_import

pytestmark = pytest.mark.integration

TOWN = [[[105.90, 29.32], [105.96, 29.32], [105.96, 29.38], [105.90, 29.38], [105.90, 29.32]]]
CELL_1 = [[[105.92, 29.34], [105.94, 29.34], [105.94, 29.36], [105.92, 29.36], [105.92, 29.34]]]
CELL_2 = [[[105.94, 29.34], [105.96, 29.34], [105.96, 29.36], [105.94, 29.36], [105.94, 29.34]]]


def resident_id(born: date, sequence: int, area: str = "500118") -> str:
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def ending_in_x() -> str:
    for seq in range(1000):
        number = resident_id(date(1968, 8, 8), seq)
        if number.endswith("X"):
            return number
    raise AssertionError


# Every personal value a test sends; no response but the admin's identity read may carry one.
ALICE = resident_id(date(1985, 6, 15), 123)  # 张三丰, registered through the API
BOB = ending_in_x()
CAROL = resident_id(date(2001, 1, 31), 246)
DAVE = resident_id(date(1990, 10, 1), 7)
STRANGER = resident_id(date(1979, 4, 4), 555)  # valid, never registered
NAMES = ["张三丰", "李四", "王小明", "欧阳娜娜"]
PHONES = ["13812345678", "13987654321"]
SECRETS = [ALICE, BOB, CAROL, DAVE, STRANGER, *NAMES, *PHONES]


class ResponseScanner:
    """An httpx response hook: fails on any response that carries a whole personal value."""

    IDENTITY_PATH = re.compile(r"/residents/[^/]+/identity$")

    def __init__(self) -> None:
        self.scanned = 0
        self.allowed: list[str] = []

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        body = response.text
        self.scanned += 1
        if self.IDENTITY_PATH.search(response.request.url.path) and response.status_code == 200:
            self.allowed.append(response.request.url.path)
            return
        for secret in SECRETS:
            assert secret not in body, f"{response.request.url.path} leaked a personal value"
            assert secret.lower() not in body.lower()
        # Any 18-character number with a valid check character is a leaked identity number.
        for candidate in re.findall(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])", body):
            assert check_character(candidate[:17]) != candidate[17].upper(), (
                f"{response.request.url.path} carries an identity number"
            )


async def test_base_data_masking_lookup_identity_and_imports() -> None:
    url = await migrated_database("grid_events", f"test_grid_base_{uuid.uuid4().hex[:8]}")
    settings = settings_for_test(Settings, url, consumer_enabled=False)
    admin = bearer(settings, "admin", subject="admin-1")
    operator = bearer(settings, "operator", subject="op-1")
    worker = bearer(settings, "grid_worker", subject="worker-7")
    scanner = ResponseScanner()
    async with running_app(create_app(settings)) as client:
        client.event_hooks["response"].append(scanner)
        for cell_id, level, parent, ring in (
            ("town-1", "town", None, TOWN),
            ("cell-1", "cell", "town-1", CELL_1),
            ("cell-2", "cell", "town-1", CELL_2),
        ):
            body = {
                "id": cell_id,
                "name": cell_id,
                "level": level,
                "parent_id": parent,
                "boundary": {"type": "Polygon", "coordinates": ring},
            }
            assert (await client.post("/cells", json=body, headers=admin)).status_code == 201

        # --- one resident through the API -------------------------------------------
        alice = {
            "id_number": ALICE,
            "name": "张三丰",
            "phone": "+86 138 1234 5678",
            "cell_id": "cell-1",
            "address": "中山路街道 人民大道 100号",
        }
        made = await client.post("/residents", json=alice, headers=worker)
        assert made.status_code == 201, made.text
        shown = made.json()
        assert shown["id_number_masked"] == ALICE[:3] + "*" * 13 + ALICE[-2:]
        assert shown["name_masked"] == "张**"
        assert shown["phone_masked"] == "138****5678"
        assert shown["sex"] == "male" and shown["birth_year"] == 1985
        assert shown["residence"] == "registered" and shown["cell_id"] == "cell-1"
        assert "19850615" not in made.text
        alice_id = shown["id"]

        assert_problem(await client.post("/residents", json=alice, headers=worker), 409)
        wrong_check = {**alice, "id_number": ALICE[:-1] + ("1" if ALICE[-1] != "1" else "2")}
        bad = await client.post("/residents", json=wrong_check, headers=worker)
        assert_problem(bad, 422, "body.id_number")
        assert "check character" in bad.text
        nowhere = {**alice, "id_number": CAROL, "cell_id": "cell-9"}
        assert_problem(
            await client.post("/residents", json=nowhere, headers=worker), 422, "body.cell_id"
        )
        bad_phone = {**alice, "id_number": CAROL, "phone": "12"}
        assert_problem(
            await client.post("/residents", json=bad_phone, headers=worker), 422, "body.phone"
        )
        as_number = {**alice, "id_number": 500118198506151234}
        assert_problem(
            await client.post("/residents", json=as_number, headers=worker), 422, "body.id_number"
        )
        extra = {**alice, "id_number": CAROL, "ethnicity": "汉"}
        assert_problem(
            await client.post("/residents", json=extra, headers=worker), 422, "body.ethnicity"
        )
        citizen = bearer(settings, "citizen")
        assert_problem(await client.post("/residents", json=alice, headers=citizen), 403)

        got = await client.get(f"/residents/{alice_id}", headers=worker)
        assert got.status_code == 200 and got.json()["name_masked"] == "张**"
        listed = (await client.get("/residents?cell_id=cell-1", headers=operator)).json()
        assert listed["total"] == 1 and listed["items"][0]["id"] == alice_id
        assert_problem(await client.get("/residents/res-nope", headers=worker), 404)

        # --- lookup by identity number, through the pseudonym ---------------------------
        found = await client.post("/residents/lookup", json={"id_number": ALICE}, headers=worker)
        assert found.status_code == 200 and found.json()["id"] == alice_id
        missing = await client.post(
            "/residents/lookup", json={"id_number": STRANGER}, headers=worker
        )
        assert_problem(missing, 404)
        invalid = await client.post(
            "/residents/lookup",
            json={"id_number": STRANGER[:-1] + "0" if STRANGER[-1] != "0" else STRANGER[:-1] + "1"},
            headers=worker,
        )
        assert_problem(invalid, 422, "body.id_number")

        # --- recovery: admins only, audited ------------------------------------------------
        assert_problem(await client.get(f"/residents/{alice_id}/identity", headers=worker), 403)
        assert_problem(await client.get(f"/residents/{alice_id}/identity", headers=operator), 403)
        identity = await client.get(f"/residents/{alice_id}/identity", headers=admin)
        assert identity.status_code == 200
        assert identity.json() == {
            "id": alice_id,
            "id_number": ALICE,
            "name": "张三丰",
            "phone": "13812345678",
        }
        assert_problem(await client.get("/residents/res-nope/identity", headers=admin), 404)
        audit = (await client.get("/pii-audit", headers=admin)).json()
        actions = [(e["action"], e["subject"], e["resident_id"]) for e in audit["items"]]
        assert ("identity_read", "admin-1", alice_id) in actions
        assert ("lookup", "worker-7", alice_id) in actions
        assert ("lookup", "worker-7", None) in actions, "a lookup that finds nobody is audited too"
        assert all(e["trace_id"] for e in audit["items"])
        assert_problem(await client.get("/pii-audit", headers=operator), 403)

        # --- bulk import: CSV residents ------------------------------------------------------
        csv_file = (
            "id_number,name,phone,cell_id,address,residence\n"
            f"{ALICE},张三丰,+86 138 1234 5678,cell-1,中山路街道 人民大道 100号,registered\n"  # = the API's
            f"{BOB.lower()},李四,13987654321,cell-2,,floating\n"  # lower-case x
            f'{CAROL},"王小明",,cell-1,"红旗路 8号, 2单元",\n'
            f"{DAVE[:-1]}{'0' if DAVE[-1] != '0' else '1'},欧阳娜娜,,cell-1,,\n"  # check character
            f"{DAVE},欧阳娜娜,,cell-9,,\n"  # no such cell
            f"{CAROL},王小明,,cell-2,,\n"  # the same resident again
            f"{DAVE},欧阳娜娜,,cell-1\n"  # a field short
            f"{DAVE},欧阳娜娜,12345,cell-1,,\n"  # phone
            "\n"
        )
        csv_headers = {**operator, "content-type": "text/csv; charset=utf-8"}
        first = await client.post(
            "/imports/residents", content=csv_file.encode(), headers=csv_headers
        )
        assert first.status_code == 200, first.text
        report = first.json()
        assert (report["received"], report["created"], report["updated"], report["unchanged"]) == (
            8,
            2,
            0,
            1,
        )
        assert report["rejected_rows"] == 5 and not report["rejected_truncated"]
        rejected = {(r["row"], r["field"]) for r in report["rejected"]}
        assert rejected == {
            (4, "id_number"),
            (5, "cell_id"),
            (6, "id_number"),
            (7, "row"),
            (8, "phone"),
        }
        assert any("row 3" in r["reason"] for r in report["rejected"] if r["row"] == 6)
        before = {
            r["id"]: r["updated_at"]
            for r in (await client.get("/residents", headers=operator)).json()["items"]
        }
        assert len(before) == 3

        again = (
            await client.post("/imports/residents", content=csv_file.encode(), headers=csv_headers)
        ).json()
        assert (again["received"], again["created"], again["updated"], again["unchanged"]) == (
            8,
            0,
            0,
            3,
        )
        assert again["rejected"] == report["rejected"]
        after = {
            r["id"]: r["updated_at"]
            for r in (await client.get("/residents", headers=operator)).json()["items"]
        }
        assert after == before, "a re-import touches no row"

        moved = csv_file.replace(
            f"{BOB.lower()},李四,13987654321,cell-2", f"{BOB},李四,13987654321,cell-1"
        )
        changed = (
            await client.post("/imports/residents", content=moved.encode(), headers=csv_headers)
        ).json()
        assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
        bob = (
            await client.post("/residents/lookup", json={"id_number": BOB}, headers=worker)
        ).json()
        assert (
            bob["cell_id"] == "cell-1"
            and bob["residence"] == "floating"
            and bob["name_masked"] == "李*"
        )
        assert bob["id_number_masked"].endswith("X")

        # --- NDJSON housing and organisations --------------------------------------------------
        nd_headers = {**operator, "content-type": "application/x-ndjson"}
        housing = (
            "\n".join(
                json.dumps(r, ensure_ascii=False)
                for r in (
                    {
                        "address": "中山路街道 人民大道 100号",
                        "cell_id": "cell-1",
                        "floors": 6,
                        "lon": 105.93,
                        "lat": 29.35,
                    },
                    {
                        "address": "红旗路 8号",
                        "cell_id": "cell-1",
                        "use": "mixed",
                        "area_m2": 820.5,
                    },
                    {
                        "address": "中山路街道　人民大道　１００号",
                        "cell_id": "cell-1",
                    },  # full-width: the same address
                    {"address": "胜利路 1号", "cell_id": "cell-2", "floors": "six"},
                    {"address": "胜利路 2号", "cell_id": "cell-2", "lon": 105.95},
                    {"address": "胜利路 3号", "cell_id": "cell-2", "colour": "red"},
                )
            )
            + "\nnot json\n[1, 2]\n"
        )
        hreport = (
            await client.post("/imports/housing", content=housing.encode(), headers=nd_headers)
        ).json()
        assert (hreport["received"], hreport["created"], hreport["rejected_rows"]) == (8, 2, 6)
        assert {(r["row"], r["field"]) for r in hreport["rejected"]} == {
            (3, "address"),
            (4, "floors"),
            (5, "lat"),
            (6, "colour"),
            (7, "row"),
            (8, "row"),
        }
        hagain = (
            await client.post("/imports/housing", content=housing.encode(), headers=nd_headers)
        ).json()
        assert (hagain["created"], hagain["updated"], hagain["unchanged"]) == (0, 0, 2)
        homes = (await client.get("/housing?cell_id=cell-1", headers=worker)).json()
        located = [h for h in homes["items"] if h["location"]]
        assert len(located) == 1 and located[0]["location"]["coordinates"] == [105.93, 29.35]

        orgs = [
            {"name": "永川区 茶叶 合作社", "cell_id": "cell-1", "kind": "social_organisation"},
            {"name": "Yongchuan Tea Co.", "uscc": "91500118MA5U7XXX1A", "cell_id": "cell-2"},
            {"name": "Bad Code Co.", "uscc": "91500118MA5U7IOZ1A", "cell_id": "cell-2"},
        ]
        org_file = "\n".join(json.dumps(o, ensure_ascii=False) for o in orgs)
        oreport = (
            await client.post(
                "/imports/organisations", content=org_file.encode(), headers=nd_headers
            )
        ).json()
        assert (oreport["created"], oreport["rejected_rows"]) == (2, 1)
        assert oreport["rejected"][0]["field"] == "uscc"
        # The co-operative later brings its credit code: the same organisation, updated.
        coded = [{**orgs[0], "uscc": "93500118MA5U8YYY2B"}, orgs[1]]
        oagain = (
            await client.post(
                "/imports/organisations",
                content="\n".join(json.dumps(o, ensure_ascii=False) for o in coded).encode(),
                headers=nd_headers,
            )
        ).json()
        assert (oagain["created"], oagain["updated"], oagain["unchanged"]) == (0, 1, 1)
        assert (await client.get("/organisations", headers=worker)).json()["total"] == 2

        # --- whole-file problems ------------------------------------------------------------------
        assert_problem(
            await client.post(
                "/imports/residents",
                content=b"x",
                headers={**operator, "content-type": "application/json"},
            ),
            415,
        )
        unknown_column = await client.post(
            "/imports/residents", content=b"id_number,name,cell_id,ethnicity\n", headers=csv_headers
        )
        assert_problem(unknown_column, 422, "body")
        assert "ethnicity" in unknown_column.text
        assert_problem(
            await client.post("/imports/residents", content=b"\xff\xfe", headers=csv_headers), 400
        )
        assert_problem(await client.post("/imports/people", content=b"", headers=csv_headers), 422)
        assert_problem(
            await client.post(
                "/imports/residents",
                content=csv_file.encode(),
                headers={**worker, "content-type": "text/csv"},
            ),
            403,
        )
        assert problem_fields(unknown_column) == ["body"]

        # --- the command-line import, with its progress display ---------------------------------
        big = "id_number,name,cell_id\n" + "".join(
            f"{resident_id(date(1950, 1, 1 + i % 28), i % 1000)},居民{i},cell-{1 + i % 2}\n"
            for i in range(2500)
        )
        progress, rejections = io.StringIO(), io.StringIO()
        cli_report = await run_import(
            io.BytesIO(big.encode()),
            BaseDataKind.RESIDENTS,
            ImportFormat.CSV,
            settings=settings,
            size=len(big.encode()),
            chunk=1000,
            rejections=rejections,
            progress_out=progress,
        )
        assert (cli_report.received, cli_report.created, cli_report.rejected_rows) == (
            2500,
            2500,
            0,
        )
        assert "residents: 100.0%  2,500 rows" in progress.getvalue()
        total = (await client.get("/residents?limit=1", headers=operator)).json()["total"]
        assert total == 2503

        assert scanner.scanned > 40
        assert scanner.allowed == [f"/residents/{alice_id}/identity"]
        # The scanner itself catches a leak, also of a number nobody listed.
        for leaked in (ALICE, resident_id(date(1960, 5, 5), 321)):
            fake = httpx.Response(
                200, text=f'{{"n": "{leaked}"}}', request=httpx.Request("GET", "http://t/residents")
            )
            with pytest.raises(AssertionError):
                await scanner(fake)

    # Nothing in the database holds a personal value in the clear.
    db = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD, database=db
    )
    try:
        dump = "\n".join(
            r[0] for r in await conn.fetch("SELECT row_to_json(r)::text FROM residents r")
        )
    finally:
        await conn.close()
    for secret in SECRETS:
        assert secret not in dump
        assert secret.encode().hex() not in dump


def test_the_import_command_line(tmp_path, monkeypatch, capsys) -> None:
    """`python -m grid_events.entrypoints.import_cli FILE --kind residents`, exit codes and all."""
    import asyncio

    from grid_events.adapters.orm import grid_cells
    from grid_events.entrypoints.import_cli import main

    url = asyncio.run(migrated_database("grid_events", f"test_grid_cli_{uuid.uuid4().hex[:8]}"))

    async def add_cell() -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(
                grid_cells.insert().values(
                    id="cell-1",
                    name="cell-1",
                    level="cell",
                    geom=text("ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)))', 4326)"),
                )
            )
        await engine.dispose()

    asyncio.run(add_cell())
    monkeypatch.setenv("CITY_DATABASE_URL", url)
    good = resident_id(date(1988, 8, 8), 88)
    data = tmp_path / "people.csv"
    data.write_text(
        f"id_number,name,cell_id\n{good},赵六,cell-1\n{good[:-1]}Z,钱七,cell-1\n", encoding="utf-8"
    )
    rejections = tmp_path / "rejected.ndjson"
    assert main([str(data), "--kind", "residents", "--rejections", str(rejections), "--quiet"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert (report["received"], report["created"], report["rejected_rows"]) == (2, 1, 1)
    assert [json.loads(x)["row"] for x in rejections.read_text().splitlines()] == [2]
    assert good not in rejections.read_text()
    # Again: nothing changes.
    assert main([str(data), "--kind", "residents", "--quiet"]) == 3
    assert json.loads(capsys.readouterr().out)["unchanged"] == 1
    nd = tmp_path / "people.ndjson"
    nd.write_text(
        json.dumps({"id_number": good, "name": "赵六", "cell_id": "cell-1"}) + "\n",
        encoding="utf-8",
    )
    assert main([str(nd), "--kind", "residents"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["unchanged"] == 1 and "residents: 100.0%" in out.err
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("who,what\n", encoding="utf-8")
    assert main([str(bad_header), "--kind", "residents", "--quiet"]) == 2
    assert "unknown columns" in capsys.readouterr().err
    with pytest.raises(SystemExit) as missing:
        main([str(tmp_path / "nope.csv"), "--kind", "residents"])
    assert missing.value.code == 2
