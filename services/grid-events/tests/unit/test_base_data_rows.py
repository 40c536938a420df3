"""Import rows without I/O: CSV and NDJSON reading, validation, duplicates, the report."""

from __future__ import annotations

import io
from datetime import date

import pytest

from grid_events.adapters.tabular import ImportFormatError, csv_rows, ndjson_rows
from grid_events.domain.base_data import (
    MAX_REJECTIONS_LISTED,
    BaseDataKind,
    ImportScreen,
    Organisation,
    RowInvalid,
    RowRejection,
    record_from_import,
)
from grid_events.domain.identity import check_character

TODAY = date(2026, 11, 24)
R = BaseDataKind.RESIDENTS


def number(seq: int) -> str:
    first17 = f"500118198506{1 + seq % 28:02d}{seq % 1000:03d}"
    return first17 + check_character(first17)


def screen(kind: BaseDataKind = R, *, text: bool = True) -> ImportScreen:
    return ImportScreen(kind, TODAY, text, known_cells=frozenset({"c1", "c2"}))


def test_csv_rows_with_quotes_bom_blank_lines_and_short_rows() -> None:
    data = 'id_number,name,cell_id,address\r\nA,"Li, Wei",c1,"line\nbreak"\r\n\r\nB,Wang,c2\r\n'
    got = list(csv_rows(R, io.StringIO(data, newline="")))
    assert got[0] == (
        1,
        {"id_number": "A", "name": "Li, Wei", "cell_id": "c1", "address": "line\nbreak"},
    )
    assert got[1][0] == 2 and isinstance(got[1][1], RowRejection) and got[1][1].field == "row"


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("", "empty"),
        ("id_number,name,cell_id,ethnicity\n", "unknown columns"),
        ("id_number,name\n", "missing columns"),
        ("id_number,name,cell_id,name\n", "twice"),
    ],
)
def test_csv_headers_that_cannot_be_imported(header: str, fragment: str) -> None:
    with pytest.raises(ImportFormatError, match=fragment):
        list(csv_rows(R, io.StringIO(header)))


def test_broken_quoting_stops_the_file() -> None:
    with pytest.raises(ImportFormatError, match="line"):
        list(csv_rows(R, io.StringIO('id_number,name,cell_id\nA,"unclosed,c1\n', newline="")))


def test_ndjson_rows() -> None:
    got = list(ndjson_rows(io.StringIO('{"a": 1}\n\n[1]\n{oops\n')))
    assert got[0] == (1, {"a": 1})
    assert [n for n, _ in got] == [1, 2, 3]
    assert all(isinstance(r, RowRejection) for _, r in got[1:])


def test_csv_numbers_are_read_but_ndjson_types_are_strict() -> None:
    housing = BaseDataKind.HOUSING
    row = {"address": "红旗路 8号", "cell_id": "c1", "floors": "6", "lon": "105.93", "lat": "29.35"}
    record = record_from_import(housing, row, today=TODAY, text=True)
    assert record.floors == 6 and record.location is not None
    with pytest.raises(RowInvalid) as err:
        record_from_import(housing, row, today=TODAY, text=False)
    assert {f for f, _ in err.value.errors} >= {"floors", "lon", "lat"}
    with pytest.raises(RowInvalid) as nan:
        record_from_import(housing, {**row, "area_m2": "nan"}, today=TODAY, text=True)
    assert nan.value.errors[0][0] == "area_m2"


def test_organisation_keys() -> None:
    coded = record_from_import(
        BaseDataKind.ORGANISATIONS,
        {"name": "茶厂", "uscc": "91500118ma5u7xxx1a", "cell_id": "c1"},
        today=TODAY,
        text=True,
    )
    assert isinstance(coded, Organisation) and coded.uscc == "91500118MA5U7XXX1A"
    assert coded.natural_key == ("uscc", "91500118MA5U7XXX1A")
    named = record_from_import(
        BaseDataKind.ORGANISATIONS, {"name": "  茶  厂 ", "cell_id": "c1"}, today=TODAY, text=True
    )
    assert named.natural_key == ("name", "茶 厂", "c1")


def test_the_screen_counts_every_row_once() -> None:
    s = screen()
    assert s.admit(1, {"id_number": number(1), "name": "李四", "cell_id": "c1"}) is not None
    assert s.admit(2, {"id_number": number(1).lower(), "name": "李四", "cell_id": "c2"}) is None
    assert s.admit(3, {"id_number": number(2), "name": "王五", "cell_id": "c9"}) is None
    assert s.admit(4, RowRejection(4, "row", "not valid JSON")) is None
    assert s.admit(5, {"id_number": number(2), "name": "王五", "cell_id": "c1"}) is not None
    report = s.report
    assert (report.received, report.rejected_rows) == (5, 3)
    assert [(r.row, r.field) for r in report.rejected] == [
        (2, "id_number"),
        (3, "cell_id"),
        (4, "row"),
    ]
    assert "row 1" in report.rejected[0].reason


def test_the_report_lists_a_bounded_number_of_rejections() -> None:
    s = screen()
    seen: list[RowRejection] = []
    s.report.sink = seen.append
    for row in range(1, MAX_REJECTIONS_LISTED + 11):
        s.admit(row, {"id_number": "bad", "name": "x", "cell_id": "c1"})
    assert s.report.rejected_rows == MAX_REJECTIONS_LISTED + 10
    assert len(s.report.rejected) == MAX_REJECTIONS_LISTED and s.report.truncated
    assert len(seen) == MAX_REJECTIONS_LISTED + 10
    assert s.report.as_dict()["rejected_truncated"] is True
