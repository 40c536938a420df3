"""Use cases of the Open311 interface: keys, posting a request, reading requests back."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.geo import GeoPoint
from city_common.web.problems import not_found
from grid_events.adapters import open311 as repo
from grid_events.adapters import repository as cases_repo
from grid_events.adapters.crypto import PiiCipher
from grid_events.domain.base_data import normalise_text
from grid_events.domain.model import CHINA_STANDARD_TIME, DedupRule
from grid_events.domain.open311 import (
    CATALOGUE,
    MAX_RESULTS,
    CitizenReport,
    Open311Error,
    PostedForm,
    bad_request,
    closed_case_statuses,
    query_window,
    request_status,
    split_list,
    status_notes,
    statuses,
    validate_report,
)
from grid_events.service_layer.handlers import take_report

API_KEY_PREFIX = "o311_"


def _key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def w3c(moment: datetime) -> str:
    """W3C date-time with the offset, in China Standard Time: 2026-11-24T09:30:00+08:00."""
    return moment.astimezone(CHINA_STANDARD_TIME).replace(microsecond=0).isoformat()


# --- keys ------------------------------------------------------------------------------


async def issue_api_key(uow: UnitOfWork, *, name: str) -> dict[str, Any]:
    """A new key for a partner system; the key itself is shown this once."""
    key_id = f"key-{uuid.uuid4().hex[:12]}"
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    await repo.add_api_key(uow.session, key_id=key_id, name=name, key_hash=_key_hash(api_key))
    await uow.commit()
    return {"id": key_id, "name": name, "api_key": api_key}


async def revoke_api_key(uow: UnitOfWork, key_id: str) -> None:
    if not await repo.api_key_exists(uow.session, key_id):
        raise not_found("api key", key_id)
    await repo.revoke_api_key(uow.session, key_id)
    await uow.commit()


# --- posting ---------------------------------------------------------------------------


def check_jurisdiction(given: str | None, served: str) -> None:
    if given is not None and given != served:
        raise Open311Error(404, f"jurisdiction_id {given!r} was not found")


async def _place(uow: UnitOfWork, report: CitizenReport) -> GeoPoint:
    """Where the request is: its coordinates, or the registered building it names."""
    if report.lat is not None and report.long is not None:
        return GeoPoint.of(report.long, report.lat)
    # "Collect once, share everywhere": an address is located through the housing
    # register (address_id is a housing id), not through a geocoder.
    if report.address_id is not None:
        place = await repo.housing_place(uow.session, housing_id=report.address_id)
        if place is not None:
            return place
    if report.address_string is not None:
        place = await repo.housing_place(uow.session, address=normalise_text(report.address_string))
        if place is not None:
            return place
    raise bad_request(
        "the address is not in the housing register; send lat and long (WGS 84) instead"
    )


async def submit_request(
    uow: UnitOfWork,
    cipher: PiiCipher,
    form: PostedForm,
    *,
    jurisdiction_id: str,
    request_type: str,
    rule: DedupRule,
) -> dict[str, Any]:
    """POST requests: a citizen's report becomes a case in its cell, or joins one nearby."""
    api_key = form.fields.get("api_key")
    if api_key is None:
        raise Open311Error(403, "api_key was not provided")
    key_id = await repo.active_api_key(uow.session, _key_hash(api_key))
    if key_id is None:
        raise Open311Error(403, "invalid api_key received -- can't proceed with create_request")
    check_jurisdiction(form.fields.get("jurisdiction_id"), jurisdiction_id)
    report = validate_report(form)
    location = await _place(uow, report)
    cell_id = await cases_repo.cell_at(uow.session, location)
    if cell_id is None:
        raise bad_request("the location lies outside every grid cell of this jurisdiction")
    request_id = f"sr-{uuid.uuid4().hex[:16]}"
    service = report.service
    summary = report.description or service.name
    case, _ = await take_report(
        uow,
        rule,
        category=service.category,
        description=f"{service.name}: {summary}",
        location=location,
        source_kind="citizen",
        source_ref=request_id,
        cell_id=cell_id,
    )
    contact = report.contact.present()
    token = secrets.token_urlsafe(16)
    await repo.add_service_request(
        uow.session,
        id=request_id,
        token=token,
        case_id=case["id"],
        service_code=service.code,
        api_key_id=key_id,
        description=report.description,
        address=report.address_string,
        address_id=report.address_id,
        media_url=report.media_url,
        attributes=report.attributes,
        location=location,
        contact_ciphertext=(
            cipher.encrypt(
                json.dumps(contact, ensure_ascii=False),
                context=b"service_request:" + request_id.encode(),
            )
            if contact
            else None
        ),
    )
    await uow.commit()
    # A batch service hands out the token, a realtime one the id (never both: the spec).
    answer: dict[str, Any] = (
        {"token": token} if request_type == "batch" else {"service_request_id": request_id}
    )
    answer["service_notice"] = service.notice
    answer["account_id"] = report.contact.account_id
    return answer


# --- reading ----------------------------------------------------------------------------


def _as_open311(row: dict[str, Any]) -> dict[str, Any]:
    service = CATALOGUE.get(row["service_code"])
    return {
        "service_request_id": row["id"],
        "status": request_status(row["case_status"]),
        "status_notes": status_notes(row["case_status"]),
        "service_name": service.name if service else None,
        "service_code": row["service_code"],
        "description": row["description"],
        "agency_responsible": row["department"],
        "service_notice": service.notice if service else None,
        "requested_datetime": w3c(row["requested_at"]),
        "updated_datetime": w3c(max(row["updated_at"], row["requested_at"])),
        "expected_datetime": None,
        "address": row["address"],
        "address_id": row["address_id"],
        "zipcode": None,
        "lat": row["lat"],
        "long": row["long"],
        "media_url": row["media_url"],
    }


async def find_requests(
    uow: UnitOfWork, query: dict[str, str | None], *, now: datetime
) -> list[dict[str, Any]]:
    """GET requests: by id (which overrides all else), or by code, dates and status."""
    ids = split_list(query.get("service_request_id"))
    codes = split_list(query.get("service_code"))
    since, until = query_window(query.get("start_date"), query.get("end_date"), now=now)
    wanted = statuses(query.get("status"))
    rows = await repo.find_service_requests(
        uow.session,
        ids=ids,
        codes=codes,
        since=since,
        until=until,
        closed_statuses=closed_case_statuses(),
        wanted=wanted,
        limit=MAX_RESULTS,
    )
    return [_as_open311(r) for r in rows]


async def get_request(uow: UnitOfWork, request_id: str) -> dict[str, Any]:
    row = await repo.service_request(uow.session, request_id)
    if row is None:
        raise Open311Error(404, f"service_request_id {request_id!r} was not found")
    return _as_open311(row)


async def resolve_token(uow: UnitOfWork, token: str) -> dict[str, Any]:
    row = await repo.service_request_for_token(uow.session, token)
    if row is None:
        raise Open311Error(404, f"token {token!r} was not found")
    return {"service_request_id": row["id"], "token": token}
