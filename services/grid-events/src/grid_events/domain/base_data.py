"""The grid's base data: residents, housing and organisations. Pure logic, no I/O.

"Collect once, share everywhere": grid workers register each record once, linked
to its grid cell, and every department reads the same record. Bulk imports are
idempotent because every kind has a natural key:

- a resident: the identity number (stored only as its keyed pseudonym);
- housing: the address, compared after Unicode NFKC and blank normalisation;
- an organisation: its unified social credit code, or, for the many small ones
  without a code (a village committee, a street stall), its name within its cell.

A record whose natural key is already stored is updated when anything differs
and left untouched otherwise, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from city_common.geo import GeoPoint
from grid_events.domain.identity import (
    InvalidPhone,
    InvalidResidentId,
    ResidentId,
    mask_name,
    mask_phone,
    normalise_name,
    normalise_phone,
    parse_resident_id,
)


class BaseDataKind(StrEnum):
    RESIDENTS = "residents"
    HOUSING = "housing"
    ORGANISATIONS = "organisations"


class Residence(StrEnum):
    REGISTERED = "registered"  # 户籍人口: household registration in the district
    FLOATING = "floating"  # 流动人口: living here, registered elsewhere


class HousingUse(StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    INDUSTRIAL = "industrial"
    PUBLIC = "public"
    MIXED = "mixed"
    OTHER = "other"


class OrganisationKind(StrEnum):
    ENTERPRISE = "enterprise"
    INDIVIDUAL_BUSINESS = "individual_business"
    SOCIAL_ORGANISATION = "social_organisation"
    PUBLIC_INSTITUTION = "public_institution"
    GOVERNMENT = "government"
    COMMUNITY = "community"
    OTHER = "other"


CellId = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]
Text256 = Annotated[str, Field(strict=True, min_length=1, max_length=256)]

# GB 32100-2015: digits and capitals other than I, O, Z, S, V. Only the shape is
# checked here; the check character lives in enterprise-hub's credit_code module,
# which belongs in city_common so that both services use the one implementation.
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{18}")


def normalise_text(raw: str) -> str:
    """NFKC (full-width letters and digits to ASCII) and single blanks."""
    return " ".join(unicodedata.normalize("NFKC", raw).split())


# --- what a client sends -----------------------------------------------------


class ResidentRow(BaseModel):
    """A resident as a grid worker registers one, or as one row of an import."""

    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(
        strict=True, min_length=1, max_length=32, description="GB 11643-1999, 18 characters"
    )
    name: str = Field(strict=True, min_length=1, max_length=64)
    phone: str | None = Field(default=None, strict=True, max_length=32)
    cell_id: CellId
    address: Text256 | None = None
    residence: Residence = Residence.REGISTERED


class HousingRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: Text256
    cell_id: CellId
    use: HousingUse = HousingUse.RESIDENTIAL
    floors: int | None = Field(default=None, strict=True, ge=1, le=200)
    area_m2: float | None = Field(default=None, strict=True, gt=0, le=10_000_000)
    location: GeoPoint | None = None


class OrganisationRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text256
    uscc: str | None = Field(
        default=None,
        strict=True,
        description="Unified social credit code (GB 32100-2015), 18 characters",
    )
    kind: OrganisationKind = OrganisationKind.ENTERPRISE
    cell_id: CellId
    address: Text256 | None = None
    employees: int | None = Field(default=None, strict=True, ge=0, le=10_000_000)

    @field_validator("uscc")
    @classmethod
    def _credit_code_shape(cls, code: str | None) -> str | None:
        if code is None:
            return None
        code = code.strip().upper()
        if not _CREDIT_CODE.fullmatch(code):
            raise ValueError(
                "a unified social credit code is 18 digits and capitals other than I, O, Z, S, V"
            )
        return code


# --- validated records ---------------------------------------------------------


class RowInvalid(ValueError):  # noqa: N818 - reads as what the row is
    """A row that cannot be stored; ``errors`` are (field, reason) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Resident:
    identity: ResidentId
    name: str
    phone: str | None
    cell_id: str
    address: str | None
    residence: Residence

    @property
    def natural_key(self) -> Hashable:
        return self.identity.number

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)

    @property
    def phone_masked(self) -> str | None:
        return mask_phone(self.phone) if self.phone else None

    def fingerprint_fields(self) -> dict[str, object]:
        return {
            "id_number": self.identity.number,
            "name": self.name,
            "phone": self.phone,
            "cell_id": self.cell_id,
            "address": self.address,
            "residence": self.residence.value,
        }


@dataclass(frozen=True, slots=True)
class Housing:
    address: str
    cell_id: str
    use: HousingUse
    floors: int | None
    area_m2: float | None
    location: GeoPoint | None

    @property
    def natural_key(self) -> Hashable:
        return self.address

    def fingerprint_fields(self) -> dict[str, object]:
        return {
            "address": self.address,
            "cell_id": self.cell_id,
            "use": self.use.value,
            "floors": self.floors,
            "area_m2": self.area_m2,
            "location": list(self.location.coordinates) if self.location else None,
        }


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    uscc: str | None
    kind: OrganisationKind
    cell_id: str
    address: str | None
    employees: int | None

    @property
    def natural_key(self) -> Hashable:
        return ("uscc", self.uscc) if self.uscc else ("name", self.name, self.cell_id)

    def fingerprint_fields(self) -> dict[str, object]:
        return {
            "name": self.name,
            "uscc": self.uscc,
            "kind": self.kind.value,
            "cell_id": self.cell_id,
            "address": self.address,
            "employees": self.employees,
        }


BaseRecord = Resident | Housing | Organisation


def resident_from(row: ResidentRow, *, today: date) -> Resident:
    errors: list[tuple[str, str]] = []
    identity: ResidentId | None = None
    phone: str | None = None
    try:
        identity = parse_resident_id(row.id_number, today=today)
    except InvalidResidentId as exc:
        errors.append(("id_number", str(exc)))
    name = normalise_name(unicodedata.normalize("NFKC", row.name))
    if not name:
        errors.append(("name", "the name is blank"))
    if row.phone is not None and row.phone.strip():
        try:
            phone = normalise_phone(row.phone)
        except InvalidPhone as exc:
            errors.append(("phone", str(exc)))
    if errors or identity is None:
        raise RowInvalid(errors)
    return Resident(
        identity=identity,
        name=name,
        phone=phone,
        cell_id=row.cell_id,
        address=normalise_text(row.address) if row.address else None,
        residence=row.residence,
    )


def housing_from(row: HousingRow) -> Housing:
    address = normalise_text(row.address)
    if not address:
        raise RowInvalid([("address", "the address is blank")])
    return Housing(
        address=address,
        cell_id=row.cell_id,
        use=row.use,
        floors=row.floors,
        area_m2=row.area_m2,
        location=row.location,
    )


def organisation_from(row: OrganisationRow) -> Organisation:
    name = normalise_text(row.name)
    if not name:
        raise RowInvalid([("name", "the name is blank")])
    return Organisation(
        name=name,
        uscc=row.uscc,
        kind=row.kind,
        cell_id=row.cell_id,
        address=normalise_text(row.address) if row.address else None,
        employees=row.employees,
    )


# --- import rows ---------------------------------------------------------------

# The columns of each kind, the same in CSV and NDJSON; housing takes its place as
# two columns, lon and lat (WGS 84).
IMPORT_COLUMNS: dict[BaseDataKind, tuple[str, ...]] = {
    BaseDataKind.RESIDENTS: ("id_number", "name", "phone", "cell_id", "address", "residence"),
    BaseDataKind.HOUSING: ("address", "cell_id", "use", "floors", "area_m2", "lon", "lat"),
    BaseDataKind.ORGANISATIONS: ("name", "uscc", "kind", "cell_id", "address", "employees"),
}
REQUIRED_COLUMNS: dict[BaseDataKind, tuple[str, ...]] = {
    BaseDataKind.RESIDENTS: ("id_number", "name", "cell_id"),
    BaseDataKind.HOUSING: ("address", "cell_id"),
    BaseDataKind.ORGANISATIONS: ("name", "cell_id"),
}
# CSV has no types: these columns are read as numbers before validation.
_NUMBERS: dict[str, type[int] | type[float]] = {
    "floors": int,
    "area_m2": float,
    "employees": int,
    "lon": float,
    "lat": float,
}


def header_defect(kind: BaseDataKind, columns: list[str]) -> str | None:
    """Why a CSV header cannot be imported as ``kind``, or None."""
    known = IMPORT_COLUMNS[kind]
    unknown = [c for c in columns if c not in known]
    if unknown:
        return f"unknown columns {unknown}; {kind.value} has {list(known)}"
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in columns]
    if missing:
        return f"missing columns {missing}"
    if len(set(columns)) != len(columns):
        return "a column is named twice"
    return None


def _as_number(value: str, kind: type[int] | type[float]) -> object:
    try:
        number = kind(value.strip())
    except ValueError:
        return value  # validation then names the column and the expected type
    return number if not isinstance(number, float) or math.isfinite(number) else value


def record_from_import(
    kind: BaseDataKind, data: Mapping[str, object], *, today: date, text: bool
) -> BaseRecord:
    """Validate one import row; ``text`` rows (CSV) have every value as a string."""
    values: dict[str, Any] = {k: v for k, v in data.items() if v is not None and v != ""}
    if text:
        for name, number in _NUMBERS.items():
            if isinstance(values.get(name), str):
                values[name] = _as_number(values[name], number)
    if kind is BaseDataKind.HOUSING and ("lon" in values or "lat" in values):
        lon, lat = values.pop("lon", None), values.pop("lat", None)
        if lon is None or lat is None:
            raise RowInvalid([("lon" if lon is None else "lat", "lon and lat come together")])
        values["location"] = {"type": "Point", "coordinates": [lon, lat]}
    try:
        if kind is BaseDataKind.RESIDENTS:
            return resident_from(ResidentRow.model_validate(values), today=today)
        if kind is BaseDataKind.HOUSING:
            return housing_from(HousingRow.model_validate(values))
        return organisation_from(OrganisationRow.model_validate(values))
    except ValidationError as exc:
        raise RowInvalid(pydantic_errors(exc)) from None


def pydantic_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, reason) pairs; an import's location errors name its lon/lat columns."""
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if loc[:2] == ["location", "coordinates"] and len(loc) > 2:
            name = {"0": "lon", "1": "lat"}.get(loc[2], "location")
        else:
            name = ".".join(loc) or "row"
        out.append((name, str(err.get("msg", "invalid")).removeprefix("Value error, ")))
    return out


# --- the import report -----------------------------------------------------------

# The report lists this many rejections; the counts cover them all.
MAX_REJECTIONS_LISTED = 1000


@dataclass(frozen=True, slots=True)
class RowRejection:
    row: int  # 1-based number of the record in the file (a CSV header is not counted)
    field: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    kind: BaseDataKind
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    rejected: list[RowRejection] = field(default_factory=list)
    # Receives every rejection, also those past the listed maximum (a CLI writes them out).
    sink: Callable[[RowRejection], None] | None = field(default=None, repr=False)

    def reject(self, row: int, errors: list[tuple[str, str]]) -> None:
        self.rejected_rows += 1
        for name, reason in errors:
            rejection = RowRejection(row, name, reason)
            if len(self.rejected) < MAX_REJECTIONS_LISTED:
                self.rejected.append(rejection)
            if self.sink is not None:
                self.sink(rejection)

    @property
    def truncated(self) -> bool:
        return self.rejected_rows > len({r.row for r in self.rejected})

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "received": self.received,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected_rows": self.rejected_rows,
            "rejected": [
                {"row": r.row, "field": r.field, "reason": r.reason} for r in self.rejected
            ],
            "rejected_truncated": self.truncated,
        }


@dataclass(slots=True)
class ImportScreen:
    """Validates the rows of one import in order and keeps the report.

    A natural key seen earlier in the same file is rejected rather than applied
    twice: with "last one wins", a file holding two versions of one record would
    flip between them on every re-import and never be unchanged.
    """

    kind: BaseDataKind
    today: date
    text: bool
    known_cells: frozenset[str]
    report: ImportReport = field(init=False)
    _seen: dict[Hashable, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.report = ImportReport(self.kind)

    def admit(self, row: int, data: Mapping[str, object] | RowRejection) -> BaseRecord | None:
        """The valid record of ``row``, or None with the row rejected in the report."""
        self.report.received += 1
        if isinstance(data, RowRejection):
            self.report.reject(row, [(data.field, data.reason)])
            return None
        try:
            record = record_from_import(self.kind, data, today=self.today, text=self.text)
        except RowInvalid as exc:
            self.report.reject(row, exc.errors)
            return None
        if record.cell_id not in self.known_cells:
            self.report.reject(row, [("cell_id", "no grid cell has this id")])
            return None
        first = self._seen.setdefault(record.natural_key, row)
        if first != row:
            self.report.reject(row, [(key_field(record), f"the same record as row {first}")])
            return None
        return record


def key_field(record: BaseRecord) -> str:
    """The field that holds ``record``'s natural key, for messages."""
    if isinstance(record, Resident):
        return "id_number"
    if isinstance(record, Housing):
        return "address"
    return "uscc" if record.uscc else "name"
