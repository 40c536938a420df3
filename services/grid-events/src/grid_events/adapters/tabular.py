"""Rows of a bulk import from CSV (RFC 4180, with a header) or NDJSON (one JSON object a line)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum

from grid_events.domain.base_data import BaseDataKind, RowRejection, header_defect

Row = tuple[int, Mapping[str, object] | RowRejection]


class ImportFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


MEDIA_TYPES: dict[str, ImportFormat] = {
    "text/csv": ImportFormat.CSV,
    "application/x-ndjson": ImportFormat.NDJSON,
    "application/ndjson": ImportFormat.NDJSON,
}


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (a bad header, broken quoting)."""


def rows(fmt: ImportFormat, kind: BaseDataKind, lines: Iterable[str]) -> Iterator[Row]:
    return csv_rows(kind, lines) if fmt is ImportFormat.CSV else ndjson_rows(lines)


def csv_rows(kind: BaseDataKind, lines: Iterable[str]) -> Iterator[Row]:
    """(row number, column -> text) for each record; blank lines are skipped."""
    reader = csv.reader(lines, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise ImportFormatError("the CSV file is empty; it needs a header row") from None
    except csv.Error as exc:
        raise ImportFormatError(f"the CSV header cannot be read: {exc}") from None
    defect = header_defect(kind, header)
    if defect:
        raise ImportFormatError(f"CSV header: {defect}")
    number = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # Broken quoting desynchronises every following record: stop here.
            raise ImportFormatError(
                f"CSV line {reader.line_num} cannot be read ({exc}); "
                f"{number} records before it were read"
            ) from None
        if not fields or all(not f.strip() for f in fields):
            continue
        number += 1
        if len(fields) != len(header):
            yield (
                number,
                RowRejection(
                    number, "row", f"{len(fields)} fields where the header has {len(header)}"
                ),
            )
        else:
            yield number, dict(zip(header, fields, strict=True))


def ndjson_rows(lines: Iterable[str]) -> Iterator[Row]:
    """(row number, object) for each non-blank line."""
    number = 0
    for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, RowRejection(number, "row", f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(value, dict):
            yield number, RowRejection(number, "row", "each line must be one JSON object")
        else:
            yield number, value
