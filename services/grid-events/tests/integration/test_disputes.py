"""Disputes against the real PostgreSQL: the lifecycle, masking, filters, bad input."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from city_common.testing import (
    assert_problem,
    bearer,
    execute_sql,
    migrated_database,
    running_app,
    settings_for_test,
)
from grid_events.bootstrap import create_app
from grid_events.config import Settings
from grid_events.entrypoints.deps import local_today

pytestmark = pytest.mark.integration

CELL = [[[105.92, 29.34], [105.94, 29.34], [105.94, 29.36], [105.92, 29.36], [105.92, 29.34]]]


async def test_dispute_lifecycle_and_masking() -> None:
    url = await migrated_database("grid_events", f"test_disputes_{uuid.uuid4().hex[:8]}")
    settings = settings_for_test(Settings, url)
    admin = bearer(settings, "admin")
    worker = bearer(settings, "grid_worker", subject="worker-12")
    today = local_today()
    async with running_app(create_app(settings)) as client:
        cell = {
            "id": "cell-1",
            "name": "cell-1",
            "level": "cell",
            "boundary": {"type": "Polygon", "coordinates": CELL},
        }
        assert (await client.post("/cells", json=cell, headers=admin)).status_code == 201

        body = {
            "kind": "neighbour",
            "cell_id": "cell-1",
            "summary": "Water leaking through the ceiling from the flat above",
            "parties": [
                {"role": "applicant", "name": "张伟明", "phone": "13812345678"},
                {"role": "respondent", "name": "李娜", "phone": "023-45678912"},
            ],
        }
        made = await client.post("/disputes", json=body, headers=worker)
        assert made.status_code == 201, made.text
        dispute = made.json()
        dispute_id = dispute["id"]
        assert dispute["status"] == "registered" and dispute["registered_by"] == "worker-12"
        assert [p["name_masked"] for p in dispute["parties"]] == ["张**", "李*"]
        assert [p["phone_masked"] for p in dispute["parties"]] == ["138****5678", "023-******12"]
        # No response, and no stored column, holds a name or number in the clear.
        assert "张伟明" not in made.text and "13812345678" not in made.text
        detail = await client.get(f"/disputes/{dispute_id}", headers=worker)
        assert "张伟明" not in detail.text and "45678912" not in detail.text

        # Agreement before any mediation is refused, with the allowed statuses named.
        early = await client.post(
            f"/disputes/{dispute_id}/agreement",
            json={"text": "x", "agreed_on": today.isoformat()},
            headers=worker,
        )
        assert_problem(early, 409)
        assert "mediating" in early.json()["detail"]
        # A session needs a mediator: none was assigned yet.
        session = {
            "held_on": today.isoformat(),
            "notes": "Both sides heard",
            "outcome": "continued",
        }
        no_mediator = await client.post(
            f"/disputes/{dispute_id}/sessions", json=session, headers=worker
        )
        assert_problem(no_mediator, 422, field="body.mediator_id")
        assigned = await client.patch(
            f"/disputes/{dispute_id}", json={"mediator_id": "mediator-3"}, headers=worker
        )
        assert assigned.json()["mediator_id"] == "mediator-3"

        future = {**session, "held_on": (today + timedelta(days=1)).isoformat()}
        refused = await client.post(f"/disputes/{dispute_id}/sessions", json=future, headers=worker)
        assert_problem(refused, 422, field="body.held_on")

        first = await client.post(f"/disputes/{dispute_id}/sessions", json=session, headers=worker)
        assert first.status_code == 201 and first.json()["status"] == "mediating"
        not_yet = await client.post(
            f"/disputes/{dispute_id}/agreement",
            json={"text": "x", "agreed_on": today.isoformat()},
            headers=worker,
        )
        assert_problem(not_yet, 409)  # no session ended in agreement
        agreed_session = {**session, "outcome": "agreed", "notes": "Upstairs pays the repair"}
        await client.post(f"/disputes/{dispute_id}/sessions", json=agreed_session, headers=worker)
        agreement = await client.post(
            f"/disputes/{dispute_id}/agreement",
            json={
                "text": "李 repairs the pipe and pays 1,200 yuan",
                "agreed_on": today.isoformat(),
            },
            headers=worker,
        )
        assert agreement.status_code == 200, agreement.text
        assert agreement.json()["status"] == "agreed"
        assert agreement.json()["outcome"] == "agreement"
        assert len(agreement.json()["sessions"]) == 2

        closing_early = await client.post(f"/disputes/{dispute_id}/close", headers=worker)
        assert_problem(closing_early, 409)
        follow = await client.post(
            f"/disputes/{dispute_id}/follow-ups",
            json={"followed_up_on": today.isoformat(), "note": "Pipe repaired, paid"},
            headers=worker,
        )
        assert follow.status_code == 201 and follow.json()["status"] == "followed_up"
        closed = await client.post(f"/disputes/{dispute_id}/close", headers=worker)
        assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
        frozen = await client.patch(
            f"/disputes/{dispute_id}", json={"summary": "changed"}, headers=worker
        )
        assert_problem(frozen, 409)

        # A second dispute goes straight to court; a third is deleted as a mistake.
        land = {**body, "kind": "land", "mediator_id": "mediator-9"}
        other = (await client.post("/disputes", json=land, headers=worker)).json()
        referral = {
            "to": "court",
            "body": "永川区人民法院",
            "reason": "The respondent refuses mediation",
            "referred_on": today.isoformat(),
        }
        referred = await client.post(
            f"/disputes/{other['id']}/referral", json=referral, headers=worker
        )
        assert referred.json()["status"] == "referred"
        assert referred.json()["referred_to"] == "court"
        before = {"followed_up_on": (today - timedelta(days=1)).isoformat(), "note": "n"}
        too_early = await client.post(
            f"/disputes/{other['id']}/follow-ups", json=before, headers=worker
        )
        assert_problem(too_early, 422, field="body.followed_up_on")
        mistake = (await client.post("/disputes", json=body, headers=worker)).json()
        deleted = await client.delete(f"/disputes/{mistake['id']}", headers=worker)
        assert deleted.status_code == 204
        assert (await client.get(f"/disputes/{mistake['id']}", headers=worker)).status_code == 404
        cannot = await client.delete(f"/disputes/{dispute_id}", headers=worker)
        assert_problem(cannot, 409)

        # Filters and pagination.
        listed = (
            await client.get("/disputes?status=closed&status=referred", headers=worker)
        ).json()
        assert listed["total"] == 2
        lands = (await client.get("/disputes?kind=land", headers=worker)).json()
        assert [d["id"] for d in lands["items"]] == [other["id"]]
        by_mediator = (await client.get("/disputes?mediator_id=mediator-3", headers=worker)).json()
        assert [d["id"] for d in by_mediator["items"]] == [dispute_id]
        paged = (await client.get("/disputes?limit=1&offset=1", headers=worker)).json()
        assert paged["total"] == 2 and len(paged["items"]) == 1

        # The summary counts an agreement as resolved, a referral not.
        summary = (await client.get("/stats/summary", headers=worker)).json()
        assert summary["disputes_registered"] == 2
        assert (summary["disputes_resolved"], summary["disputes_referred"]) == (1, 1)
        assert summary["dispute_resolution_rate"] == 0.5

        # Bad input names its field.
        bad_phone = {**body, "parties": [{"role": "applicant", "name": "王五", "phone": "12345"}]}
        assert_problem(
            await client.post("/disputes", json=bad_phone, headers=worker),
            422,
            field="body.parties.0.phone",
        )
        unknown_cell = {**body, "cell_id": "nowhere"}
        assert_problem(
            await client.post("/disputes", json=unknown_cell, headers=worker),
            422,
            field="body.cell_id",
        )
        no_parties = {**body, "parties": []}
        assert_problem(
            await client.post("/disputes", json=no_parties, headers=worker),
            422,
            field="body.parties",
        )
        assert_problem(
            await client.get("/disputes?status=settled", headers=worker),
            422,
            field="query.status.0",
        )
        citizen = bearer(settings, "citizen")
        assert (await client.get("/disputes", headers=citizen)).status_code == 403

    # The parties' names are stored sealed: the masked form is the only readable one.
    await execute_sql(
        url,
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM dispute_parties "
        "WHERE position(convert_to('张伟明', 'UTF8') in name_ciphertext) > 0) "
        "THEN RAISE EXCEPTION 'name stored in the clear'; END IF; END $$",
    )
