"""Import a large base-data file straight into grid-events' database, with progress.

    python -m grid_events.entrypoints.import_cli FILE --kind residents
        [--format csv|ndjson] [--chunk 1000] [--rejections OUT.ndjson] [--quiet]

The database and the PII keys come from the service's own settings (CITY_DATABASE_URL,
CITY_PII_HMAC_KEY, CITY_PII_ENCRYPTION_KEYS...). Every ``--chunk`` valid rows are
committed, so an interrupted import keeps what it did and a re-run (idempotent)
completes it. The report is printed as JSON on stdout, progress goes to stderr.

Exit status: 0 every row imported or unchanged; 3 some rows rejected (see the
report, or all of them with --rejections); 2 the file cannot be read at all.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TextIO

from city_common.db.database import Database
from city_common.db.uow import UnitOfWork
from grid_events.adapters.crypto import PiiCipher
from grid_events.adapters.tabular import ImportFormat, ImportFormatError, Row, rows
from grid_events.config import Settings
from grid_events.domain.base_data import BaseDataKind, ImportReport, RowRejection
from grid_events.entrypoints.deps import local_today
from grid_events.service_layer.base_data import import_base_data

EXIT_OK, EXIT_UNREADABLE, EXIT_REJECTED = 0, 2, 3


class Progress:
    """One line of progress: redrawn live on a terminal, else printed every few seconds."""

    def __init__(self, out: TextIO, total_bytes: int, *, quiet: bool = False) -> None:
        self.out = out
        self.total = max(total_bytes, 1)
        self.quiet = quiet
        self.live = out.isatty()
        self.started = time.monotonic()
        self._last = 0.0
        self.position = 0

    def line(self, report: ImportReport) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        share = min(self.position / self.total, 1.0)
        rate = report.received / elapsed
        eta = elapsed * (1 - share) / share if share > 0 else 0.0
        return (
            f"{report.kind.value}: {share:6.1%}  {report.received:,} rows  {rate:,.0f} rows/s  "
            f"created {report.created:,}  updated {report.updated:,}  "
            f"unchanged {report.unchanged:,}  rejected {report.rejected_rows:,}  "
            f"eta {eta:,.0f} s"
        )

    def show(self, report: ImportReport, *, final: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if not final and now - self._last < (0.2 if self.live else 5.0):
            return
        self._last = now
        if self.live:
            self.out.write("\r\x1b[K" + self.line(report) + ("\n" if final else ""))
        else:
            self.out.write(self.line(report) + "\n")
        self.out.flush()


def _records(
    fmt: ImportFormat, kind: BaseDataKind, raw: IO[bytes], progress: Progress
) -> Iterator[Row]:
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    for row in rows(fmt, kind, text):
        progress.position = raw.tell()
        yield row


def format_of(path: Path) -> ImportFormat:
    """NDJSON for .ndjson and .jsonl files, CSV otherwise."""
    ndjson = path.suffix.lower() in (".ndjson", ".jsonl")
    return ImportFormat.NDJSON if ndjson else ImportFormat.CSV


async def run_import(
    raw: IO[bytes],
    kind: BaseDataKind,
    fmt: ImportFormat,
    *,
    settings: Settings,
    size: int,
    chunk: int = 1000,
    rejections: IO[str] | None = None,
    progress_out: TextIO | None = None,
    quiet: bool = False,
) -> ImportReport:
    """Import the open file ``raw`` of ``size`` bytes.

    Raises :class:`ImportFormatError` or ``UnicodeDecodeError`` when the file cannot be
    read; the chunks committed before that stay.
    """
    progress = Progress(progress_out or sys.stderr, size, quiet=quiet)
    cipher = PiiCipher.from_settings(settings)
    db = Database(settings.database_url, pool_size=1)

    def write_rejection(rejection: RowRejection) -> None:
        if rejections is not None:
            line = {"row": rejection.row, "field": rejection.field, "reason": rejection.reason}
            rejections.write(json.dumps(line, ensure_ascii=False) + "\n")

    try:
        async with UnitOfWork(db.sessions, source="/city/grid-events/import") as uow:
            report = await import_base_data(
                uow,
                cipher,
                kind,
                _records(fmt, kind, raw, progress),
                today=local_today(),
                text=fmt is ImportFormat.CSV,
                chunk_size=chunk,
                commit_each_chunk=True,
                on_chunk=progress.show,
                on_reject=write_rejection,
            )
        progress.show(report, final=True)
        return report
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grid_events.entrypoints.import_cli",
        description="Import residents, housing or organisations from CSV or NDJSON.",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--kind", required=True, choices=[k.value for k in BaseDataKind])
    parser.add_argument(
        "--format",
        choices=[f.value for f in ImportFormat],
        help="default: from the file name (.ndjson/.jsonl, else csv)",
    )
    parser.add_argument("--chunk", type=int, default=1000, help="rows per transaction")
    parser.add_argument("--rejections", type=Path, help="write every rejection here (NDJSON)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        parser.error(f"{args.file} is not a file")
    if not 1 <= args.chunk <= 5000:
        parser.error("--chunk must be between 1 and 5000")
    fmt = ImportFormat(args.format) if args.format else format_of(args.file)
    sink = args.rejections.open("w", encoding="utf-8") if args.rejections else None
    try:
        with args.file.open("rb") as raw:
            report = asyncio.run(
                run_import(
                    raw,
                    BaseDataKind(args.kind),
                    fmt,
                    settings=Settings(),
                    size=args.file.stat().st_size,
                    chunk=args.chunk,
                    rejections=sink,
                    quiet=args.quiet,
                )
            )
    except (ImportFormatError, UnicodeDecodeError) as exc:
        print(f"\nimport stopped: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    finally:
        if sink is not None:
            sink.close()
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return EXIT_REJECTED if report.rejected_rows else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
