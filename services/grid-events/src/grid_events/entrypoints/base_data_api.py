"""REST API of the base data: residents, housing, organisations, bulk imports.

Every response shows personal values masked; the one exception is
``GET /residents/{id}/identity``, for admins only, and audited.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from city_common.geo import GeoPoint
from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep
from city_common.web.problems import Problem
from grid_events.adapters import base_data as repo
from grid_events.adapters.tabular import MEDIA_TYPES, ImportFormat, ImportFormatError, rows
from grid_events.domain.base_data import (
    BaseDataKind,
    HousingRow,
    HousingUse,
    OrganisationKind,
    OrganisationRow,
    Residence,
    ResidentRow,
)
from grid_events.domain.identity import Sex
from grid_events.entrypoints.deps import (
    Admin,
    CipherDep,
    Collector,
    Importer,
    Reader,
    TodayDep,
    accessor,
)
from grid_events.service_layer import base_data as handlers

router = APIRouter(prefix="", tags=["base data"])

CellFilter = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class ResidentRead(BaseModel):
    id: str
    cell_id: str
    id_number_masked: str = Field(validation_alias="id_masked")
    name_masked: str
    phone_masked: str | None
    sex: Sex
    birth_year: int
    residence: Residence
    address: str | None
    created_at: datetime
    updated_at: datetime


class ResidentIdentity(BaseModel):
    """The clear personal values of one resident (admin only, audited)."""

    id: str
    id_number: str
    name: str
    phone: str | None


class ResidentLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(strict=True, min_length=1, max_length=32)


class HousingRead(BaseModel):
    id: str
    cell_id: str
    address: str
    use: HousingUse
    floors: int | None
    area_m2: float | None
    location: GeoPoint | None
    created_at: datetime
    updated_at: datetime


class OrganisationRead(BaseModel):
    id: str
    cell_id: str
    name: str
    uscc: str | None
    kind: OrganisationKind
    address: str | None
    employees: int | None
    created_at: datetime
    updated_at: datetime


class RowRejectionRead(BaseModel):
    row: int = Field(description="1-based number of the record; a CSV header is not counted")
    field: str
    reason: str


class ImportReportRead(BaseModel):
    kind: BaseDataKind
    received: int
    created: int
    updated: int
    unchanged: int
    rejected_rows: int
    rejected: list[RowRejectionRead] = Field(description="At most 1,000 are listed")
    rejected_truncated: bool


class PiiAccessRead(BaseModel):
    id: int
    at: datetime
    subject: str
    roles: str
    action: str
    resident_id: str | None
    trace_id: str | None


# --- residents ----------------------------------------------------------------------


@router.post("/residents", status_code=status.HTTP_201_CREATED, response_model=ResidentRead)
async def register_resident(
    body: ResidentRow, uow: UowDep, cipher: CipherDep, today: TodayDep, _: Collector
) -> ResidentRead:
    """Register a resident; the identity number is validated (GB 11643-1999) and sealed."""
    resident = await handlers.register_resident(uow, cipher, body, today=today)
    return ResidentRead.model_validate(resident)


@router.get("/residents", response_model=Page[ResidentRead])
async def list_residents(
    uow: UowDep, page: PageDep, _: Reader, cell_id: CellFilter = None
) -> Page[ResidentRead]:
    items, total = await repo.list_residents(
        uow.session, cell_id=cell_id, limit=page.limit, offset=page.offset
    )
    return Page.of(ResidentRead, items, total=total, page=page)


@router.post("/residents/lookup", response_model=ResidentRead)
async def lookup_resident(
    body: ResidentLookup, uow: UowDep, cipher: CipherDep, today: TodayDep, principal: Reader
) -> ResidentRead:
    """Find a resident by identity number (sent in the body, never in a URL); audited."""
    found = await handlers.lookup_resident(
        uow, cipher, accessor(principal), body.id_number, today=today
    )
    return ResidentRead.model_validate(found)


@router.get("/residents/{resident_id}", response_model=ResidentRead)
async def get_resident(resident_id: str, uow: UowDep, _: Reader) -> ResidentRead:
    return ResidentRead.model_validate(await handlers.get_resident(uow, resident_id))


@router.get("/residents/{resident_id}/identity", response_model=ResidentIdentity)
async def resident_identity(
    resident_id: str, uow: UowDep, cipher: CipherDep, principal: Admin
) -> ResidentIdentity:
    """The decrypted identity number, name and phone; admins only, every read audited."""
    identity = await handlers.recover_identity(uow, cipher, accessor(principal), resident_id)
    return ResidentIdentity.model_validate(identity)


@router.get("/pii-audit", response_model=Page[PiiAccessRead])
async def pii_audit(
    uow: UowDep,
    page: PageDep,
    principal: Admin,
    resident_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[PiiAccessRead]:
    """Who looked up or recovered whose identity, newest first."""
    items, total = await handlers.list_pii_access(
        uow, accessor(principal), resident_id=resident_id, limit=page.limit, offset=page.offset
    )
    return Page.of(PiiAccessRead, items, total=total, page=page)


# --- housing and organisations ------------------------------------------------------


@router.post("/housing", status_code=status.HTTP_201_CREATED, response_model=HousingRead)
async def register_housing(
    body: HousingRow, uow: UowDep, cipher: CipherDep, _: Collector
) -> HousingRead:
    return HousingRead.model_validate(await handlers.register_housing(uow, cipher, body))


@router.get("/housing", response_model=Page[HousingRead])
async def list_housing(
    uow: UowDep, page: PageDep, _: Reader, cell_id: CellFilter = None
) -> Page[HousingRead]:
    items, total = await repo.list_housing(
        uow.session, cell_id=cell_id, limit=page.limit, offset=page.offset
    )
    return Page.of(HousingRead, items, total=total, page=page)


@router.get("/housing/{housing_id}", response_model=HousingRead)
async def get_housing(housing_id: str, uow: UowDep, _: Reader) -> HousingRead:
    return HousingRead.model_validate(await handlers.get_housing(uow, housing_id))


@router.post("/organisations", status_code=status.HTTP_201_CREATED, response_model=OrganisationRead)
async def register_organisation(
    body: OrganisationRow, uow: UowDep, cipher: CipherDep, _: Collector
) -> OrganisationRead:
    return OrganisationRead.model_validate(await handlers.register_organisation(uow, cipher, body))


@router.get("/organisations", response_model=Page[OrganisationRead])
async def list_organisations(
    uow: UowDep, page: PageDep, _: Reader, cell_id: CellFilter = None
) -> Page[OrganisationRead]:
    items, total = await repo.list_organisations(
        uow.session, cell_id=cell_id, limit=page.limit, offset=page.offset
    )
    return Page.of(OrganisationRead, items, total=total, page=page)


@router.get("/organisations/{organisation_id}", response_model=OrganisationRead)
async def get_organisation(organisation_id: str, uow: UowDep, _: Reader) -> OrganisationRead:
    return OrganisationRead.model_validate(await handlers.get_organisation(uow, organisation_id))


# --- bulk import ----------------------------------------------------------------------

_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "CSV with a header row, or NDJSON (one JSON object a line), UTF-8. Columns: "
            "residents id_number, name, phone, cell_id, address, residence; housing "
            "address, cell_id, use, floors, area_m2, lon, lat; organisations name, uscc, "
            "kind, cell_id, address, employees. Files larger than the request limit go "
            "through `python -m grid_events.entrypoints.import_cli`."
        ),
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


def _import_format(request: Request) -> ImportFormat:
    media_type, _, params = request.headers.get("content-type", "").partition(";")
    fmt = MEDIA_TYPES.get(media_type.strip().lower())
    if fmt is None:
        raise Problem(
            415,
            "Unsupported Media Type",
            "send text/csv or application/x-ndjson",
            type_="https://yongchuan.city/problems/unsupported-media-type",
        )
    charset = next(
        (
            p.split("=", 1)[1].strip().strip('"').lower()
            for p in params.split(";")
            if p.strip().lower().startswith("charset=")
        ),
        "utf-8",
    )
    if charset not in ("utf-8", "utf8"):
        raise Problem(415, "Unsupported Media Type", "the body must be UTF-8")
    return fmt


@router.post("/imports/{kind}", response_model=ImportReportRead, openapi_extra=_IMPORT_BODY)
async def import_base_data(
    kind: BaseDataKind,
    request: Request,
    uow: UowDep,
    cipher: CipherDep,
    today: TodayDep,
    _: Importer,
) -> ImportReportRead:
    """Import a file of residents, housing or organisations; idempotent, with a report per row.

    Rows are upserted on their natural key (identity number, address, credit code
    or name within the cell): importing the same file twice changes nothing. The
    whole upload is one transaction; rejected rows are reported, not stored.
    """
    fmt = _import_format(request)
    try:
        body = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(400, "Bad Request", "the body is not valid UTF-8") from None
    try:
        report = await handlers.import_base_data(
            uow,
            cipher,
            kind,
            rows(fmt, kind, io.StringIO(body, newline="")),
            today=today,
            text=fmt is ImportFormat.CSV,
        )
    except ImportFormatError as exc:
        raise Problem(
            422,
            "Validation failed",
            str(exc),
            type_="https://yongchuan.city/problems/validation-failed",
            errors=[{"field": "body", "reason": str(exc), "code": "unreadable_file"}],
        ) from None
    return ImportReportRead.model_validate(report.as_dict())
