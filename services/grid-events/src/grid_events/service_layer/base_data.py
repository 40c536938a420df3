"""Use cases of the base data: register, read, look up, recover and import.

Personal values are sealed here, between the domain (which validates and masks)
and the repository (which only ever sees pseudonyms, ciphertexts and masks).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.web.problems import Problem, conflict, not_found, validation_failed
from grid_events.adapters import base_data as repo
from grid_events.adapters.crypto import PiiCipher, PiiCiphertextInvalid, PiiKeyUnavailable
from grid_events.adapters.tabular import Row
from grid_events.domain.base_data import (
    BaseDataKind,
    BaseRecord,
    Housing,
    HousingRow,
    ImportReport,
    ImportScreen,
    Organisation,
    OrganisationRow,
    Resident,
    ResidentRow,
    RowInvalid,
    RowRejection,
    housing_from,
    organisation_from,
    resident_from,
)
from grid_events.domain.identity import InvalidResidentId, mask_resident_id, parse_resident_id
from grid_events.domain.model import Accessor

# Purposes keep the pseudonyms and envelopes of different values apart.
ID_PURPOSE = "resident.id_number"
DEFAULT_CHUNK = 1000


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _context(id_hmac: bytes, what: str) -> bytes:
    # Binds each envelope to its resident and its column: a ciphertext copied to
    # another row or field does not open.
    return b"resident:" + id_hmac + b":" + what.encode()


def _row_invalid(exc: RowInvalid) -> Problem:
    return Problem(
        422,
        "Validation failed",
        "invalid input: " + ", ".join(f"body.{f}" for f, _ in exc.errors),
        type_="https://yongchuan.city/problems/validation-failed",
        errors=[{"field": f"body.{f}", "reason": r, "code": "invalid"} for f, r in exc.errors],
    )


# --- sealing ----------------------------------------------------------------------


def _seal_resident(
    cipher: PiiCipher, resident: Resident, id_hmac: bytes, fingerprint: bytes
) -> dict[str, Any]:
    phone = resident.phone
    return {
        "id": _new_id("res"),
        "cell_id": resident.cell_id,
        "id_hmac": id_hmac,
        "id_ciphertext": cipher.encrypt(
            resident.identity.number, context=_context(id_hmac, "id_number")
        ),
        "id_masked": resident.identity.masked,
        "name_ciphertext": cipher.encrypt(resident.name, context=_context(id_hmac, "name")),
        "name_masked": resident.name_masked,
        "phone_ciphertext": (
            cipher.encrypt(phone, context=_context(id_hmac, "phone")) if phone else None
        ),
        "phone_masked": resident.phone_masked,
        "sex": resident.identity.sex.value,
        "birth_year": resident.identity.birth_date.year,
        "residence": resident.residence.value,
        "address": resident.address,
        "fingerprint": fingerprint,
    }


def _housing_values(record: Housing, fingerprint: bytes) -> dict[str, Any]:
    return {
        "id": _new_id("hou"),
        "cell_id": record.cell_id,
        "address": record.address,
        "use": record.use.value,
        "floors": record.floors,
        "area_m2": record.area_m2,
        "location": record.location.to_wkt() if record.location else None,
        "fingerprint": fingerprint,
    }


def _organisation_values(record: Organisation, fingerprint: bytes) -> dict[str, Any]:
    return {
        "id": _new_id("org"),
        "cell_id": record.cell_id,
        "name": record.name,
        "uscc": record.uscc,
        "kind": record.kind.value,
        "address": record.address,
        "employees": record.employees,
        "fingerprint": fingerprint,
    }


# --- writing batches --------------------------------------------------------------


async def _write_residents(
    uow: UnitOfWork, cipher: PiiCipher, records: list[Resident], report: ImportReport
) -> None:
    keyed = [
        (
            r,
            cipher.pseudonym(ID_PURPOSE, r.identity.number),
            cipher.fingerprint("resident", r.fingerprint_fields()),
        )
        for r in records
    ]
    pseudonyms = [k for _, k, _ in keyed]
    stored = await repo.resident_fingerprints(uow.session, pseudonyms)
    # Only new and changed residents are sealed: encryption is the costly part.
    rows = [_seal_resident(cipher, r, k, fp) for r, k, fp in keyed if stored.get(k) != fp]
    created, updated = await repo.upsert_residents(uow.session, rows)
    report.created += created
    report.updated += updated
    report.unchanged += len(records) - created - updated


async def _write_housing(
    uow: UnitOfWork, cipher: PiiCipher, records: list[Housing], report: ImportReport
) -> None:
    keyed = [(r, cipher.fingerprint("housing", r.fingerprint_fields())) for r in records]
    stored = await repo.housing_fingerprints(uow.session, [r.address for r in records])
    rows = [_housing_values(r, fp) for r, fp in keyed if stored.get(r.address) != fp]
    created, updated = await repo.upsert_housing(uow.session, rows)
    report.created += created
    report.updated += updated
    report.unchanged += len(records) - created - updated


async def _write_organisations(
    uow: UnitOfWork, cipher: PiiCipher, records: list[Organisation], report: ImportReport
) -> None:
    await repo.attach_credit_codes(
        uow.session, [(r.name, r.cell_id, r.uscc) for r in records if r.uscc]
    )
    keyed = [(r, cipher.fingerprint("organisation", r.fingerprint_fields())) for r in records]
    by_code = await repo.organisation_fingerprints_by_code(
        uow.session, [r.uscc for r in records if r.uscc]
    )
    by_name = await repo.organisation_fingerprints_by_name(
        uow.session, [(r.name, r.cell_id) for r in records if not r.uscc]
    )

    def stored(r: Organisation) -> bytes | None:
        return by_code.get(r.uscc) if r.uscc else by_name.get((r.name, r.cell_id))

    rows = [_organisation_values(r, fp) for r, fp in keyed if stored(r) != fp]
    created, updated = await repo.upsert_organisations(uow.session, rows)
    report.created += created
    report.updated += updated
    report.unchanged += len(records) - created - updated


async def _write(
    uow: UnitOfWork, cipher: PiiCipher, records: list[BaseRecord], report: ImportReport
) -> None:
    if report.kind is BaseDataKind.RESIDENTS:
        await _write_residents(uow, cipher, [r for r in records if isinstance(r, Resident)], report)
    elif report.kind is BaseDataKind.HOUSING:
        await _write_housing(uow, cipher, [r for r in records if isinstance(r, Housing)], report)
    else:
        await _write_organisations(
            uow, cipher, [r for r in records if isinstance(r, Organisation)], report
        )


async def import_base_data(
    uow: UnitOfWork,
    cipher: PiiCipher,
    kind: BaseDataKind,
    rows: Iterable[Row],
    *,
    today: date,
    text: bool,
    chunk_size: int = DEFAULT_CHUNK,
    commit_each_chunk: bool = False,
    on_chunk: Callable[[ImportReport], None] | None = None,
    on_reject: Callable[[RowRejection], None] | None = None,
) -> ImportReport:
    """Validate and upsert every row; the report counts each row exactly once.

    ``commit_each_chunk`` (the command-line import of large files) commits every
    ``chunk_size`` valid rows, so an interrupted import keeps its progress and a
    re-run completes it; otherwise (an HTTP upload) the import is all or nothing.
    """
    screen = ImportScreen(kind, today, text, known_cells=await repo.cell_ids(uow.session))
    screen.report.sink = on_reject
    batch: list[BaseRecord] = []

    async def flush() -> None:
        await _write(uow, cipher, batch, screen.report)
        batch.clear()
        if commit_each_chunk:
            await uow.commit()
        if on_chunk is not None:
            on_chunk(screen.report)

    for number, data in rows:
        record = screen.admit(number, data)
        if record is not None:
            batch.append(record)
            if len(batch) >= chunk_size:
                await flush()
    await flush()
    await uow.commit()
    return screen.report


# --- one record at a time ---------------------------------------------------------


async def _known_cell(uow: UnitOfWork, cell_id: str) -> None:
    if cell_id not in await repo.cell_ids(uow.session):
        raise validation_failed(
            "body.cell_id", f"grid cell {cell_id!r} does not exist", code="unknown_reference"
        )


async def register_resident(
    uow: UnitOfWork, cipher: PiiCipher, body: ResidentRow, *, today: date
) -> dict[str, Any]:
    try:
        resident = resident_from(body, today=today)
    except RowInvalid as exc:
        raise _row_invalid(exc) from None
    await _known_cell(uow, resident.cell_id)
    id_hmac = cipher.pseudonym(ID_PURPOSE, resident.identity.number)
    if await repo.resident_by_pseudonym(uow.session, id_hmac) is not None:
        raise conflict(f"resident {resident.identity.masked} is already registered")
    fingerprint = cipher.fingerprint("resident", resident.fingerprint_fields())
    row = _seal_resident(cipher, resident, id_hmac, fingerprint)
    created, _ = await repo.upsert_residents(uow.session, [row])
    if not created:  # registered concurrently since the check above
        raise conflict(f"resident {resident.identity.masked} is already registered")
    await uow.commit()
    return await get_resident(uow, row["id"])


async def get_resident(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    resident = await repo.get_resident(uow.session, resident_id)
    if resident is None:
        raise not_found("resident", resident_id)
    return resident


async def _audit(uow: UnitOfWork, accessor: Accessor, action: str, resident_id: str | None) -> None:
    await repo.record_pii_access(
        uow.session,
        subject=accessor.subject,
        roles=",".join(accessor.roles),
        action=action,
        resident_id=resident_id,
        trace_id=accessor.trace_id,
    )
    await uow.commit()


async def lookup_resident(
    uow: UnitOfWork, cipher: PiiCipher, accessor: Accessor, id_number: str, *, today: date
) -> dict[str, Any]:
    """Find a resident by identity number through its pseudonym; the lookup is audited."""
    try:
        identity = parse_resident_id(id_number, today=today)
    except InvalidResidentId as exc:
        raise validation_failed("body.id_number", str(exc)) from None
    id_hmac = cipher.pseudonym(ID_PURPOSE, identity.number)
    found = await repo.resident_by_pseudonym(uow.session, id_hmac)
    # A miss is recorded too: probing for who lives here is itself an access.
    await _audit(uow, accessor, "lookup", found["id"] if found else None)
    if found is None:
        raise not_found("resident", mask_resident_id(identity.number))
    return found


async def recover_identity(
    uow: UnitOfWork, cipher: PiiCipher, accessor: Accessor, resident_id: str
) -> dict[str, Any]:
    """The clear identity number, name and phone of one resident; audited."""
    sealed = await repo.resident_secrets(uow.session, resident_id)
    if sealed is None:
        raise not_found("resident", resident_id)
    id_hmac: bytes = sealed["id_hmac"]
    try:
        number = cipher.decrypt(sealed["id_ciphertext"], context=_context(id_hmac, "id_number"))
        name = cipher.decrypt(sealed["name_ciphertext"], context=_context(id_hmac, "name"))
        phone = (
            cipher.decrypt(sealed["phone_ciphertext"], context=_context(id_hmac, "phone"))
            if sealed["phone_ciphertext"] is not None
            else None
        )
    except PiiKeyUnavailable as exc:
        raise Problem(503, "Service Unavailable", str(exc)) from None
    except PiiCiphertextInvalid:
        raise Problem(
            500, "Internal Server Error", "the stored identity fails its integrity check"
        ) from None
    await _audit(uow, accessor, "identity_read", resident_id)
    return {"id": resident_id, "id_number": number, "name": name, "phone": phone}


async def list_pii_access(
    uow: UnitOfWork, accessor: Accessor, *, resident_id: str | None, limit: int, offset: int
) -> repo.Listing:
    """The audit of identity reads; reading it is itself recorded."""
    listing = await repo.list_pii_access(
        uow.session, resident_id=resident_id, limit=limit, offset=offset
    )
    await _audit(uow, accessor, "audit_read", resident_id)
    return listing


async def register_housing(uow: UnitOfWork, cipher: PiiCipher, body: HousingRow) -> dict[str, Any]:
    try:
        record = housing_from(body)
    except RowInvalid as exc:
        raise _row_invalid(exc) from None
    await _known_cell(uow, record.cell_id)
    if await repo.housing_by_address(uow.session, record.address) is not None:
        raise conflict(f"housing at {record.address!r} is already registered")
    row = _housing_values(record, cipher.fingerprint("housing", record.fingerprint_fields()))
    created, _ = await repo.upsert_housing(uow.session, [row])
    if not created:
        raise conflict(f"housing at {record.address!r} is already registered")
    await uow.commit()
    return await get_housing(uow, row["id"])


async def get_housing(uow: UnitOfWork, housing_id: str) -> dict[str, Any]:
    found = await repo.get_housing(uow.session, housing_id)
    if found is None:
        raise not_found("housing", housing_id)
    return found


async def register_organisation(
    uow: UnitOfWork, cipher: PiiCipher, body: OrganisationRow
) -> dict[str, Any]:
    try:
        record = organisation_from(body)
    except RowInvalid as exc:
        raise _row_invalid(exc) from None
    await _known_cell(uow, record.cell_id)
    existing = await repo.organisation_by_key(
        uow.session, uscc=record.uscc, name=record.name, cell_id=record.cell_id
    )
    if existing is not None:
        raise conflict(f"organisation {record.uscc or record.name!r} is already registered")
    row = _organisation_values(
        record, cipher.fingerprint("organisation", record.fingerprint_fields())
    )
    created, _ = await repo.upsert_organisations(uow.session, [row])
    if not created:
        raise conflict(f"organisation {record.uscc or record.name!r} is already registered")
    await uow.commit()
    return await get_organisation(uow, row["id"])


async def get_organisation(uow: UnitOfWork, organisation_id: str) -> dict[str, Any]:
    found = await repo.get_organisation(uow.session, organisation_id)
    if found is None:
        raise not_found("organisation", organisation_id)
    return found
