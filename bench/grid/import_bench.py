"""Bulk import of the grid's base data at the seed's scale, against the real PostgreSQL.

Generates synthetic files (valid GB 11643 identity numbers, phone numbers, addresses,
credit codes) in the proportions of Yongchuan's shared base database, 1.608 million
records: residents 1,140,000, housing 400,000, organisations 68,000. Imports them
with the command-line importer's own code path (validation, HMAC pseudonyms,
AES-GCM sealing, upserts on natural keys, a commit per chunk) into a fresh database,
then imports the residents file a second time, where every row is unchanged.

Prints records/s per kind and overall (file generation not counted), and the rate
of the idempotent re-import.

Run: make stack-up && uv run python bench/grid/import_bench.py [--records 1608000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from city_common.db.database import Database
from city_common.db.uow import UnitOfWork
from city_common.geo import GeoPolygon
from city_common.testing import drop_created_databases, migrated_database, settings_for_test
from grid_events.adapters import repository
from grid_events.adapters.tabular import ImportFormat
from grid_events.config import Settings
from grid_events.domain.base_data import BaseDataKind, ImportReport
from grid_events.domain.identity import check_character
from grid_events.entrypoints.import_cli import run_import

SEED_TOTAL = 1_608_000
SHARE = {
    BaseDataKind.RESIDENTS: 1_140_000 / SEED_TOTAL,
    BaseDataKind.HOUSING: 400_000 / SEED_TOTAL,
    BaseDataKind.ORGANISATIONS: 68_000 / SEED_TOTAL,
}
CELLS = [f"yc-{row:02d}-{col:02d}" for row in range(10) for col in range(10)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅志强"
TOWNS = ["中山路", "胜利路", "茶山竹海", "卫星湖", "南大街", "青峰", "朱沱", "仙龙", "来苏", "宝峰"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def identity_number(i: int) -> str:
    """A distinct valid number per i: 96 years of birth dates × 1,000 sequence numbers."""
    born = date(1928, 1, 1) + timedelta(days=i % 35_000)
    first17 = f"500118{born:%Y%m%d}{i // 35_000:03d}"
    return first17 + check_character(first17)


def credit_code(i: int) -> str:
    body = f"91500118{i:09d}"
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def write_files(folder: Path, total: int, rng: random.Random) -> dict[BaseDataKind, Path]:
    counts = {kind: max(1, round(total * share)) for kind, share in SHARE.items()}
    paths = {
        BaseDataKind.RESIDENTS: folder / "residents.csv",
        BaseDataKind.HOUSING: folder / "housing.csv",
        BaseDataKind.ORGANISATIONS: folder / "organisations.csv",
    }
    with paths[BaseDataKind.RESIDENTS].open("w", encoding="utf-8") as out:
        out.write("id_number,name,phone,cell_id,address,residence\n")
        for i in range(counts[BaseDataKind.RESIDENTS]):
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            phone = (
                f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if rng.random() < 0.7 else ""
            )
            town = rng.choice(TOWNS)
            address = (
                f"{town}{rng.randrange(1, 400)}号{rng.randrange(1, 6)}单元"
                if rng.random() < 0.5
                else ""
            )
            residence = "floating" if rng.random() < 0.15 else "registered"
            out.write(
                f"{identity_number(i)},{name},{phone},{rng.choice(CELLS)},{address},{residence}\n"
            )
    with paths[BaseDataKind.HOUSING].open("w", encoding="utf-8") as out:
        out.write("address,cell_id,use,floors,area_m2,lon,lat\n")
        for i in range(counts[BaseDataKind.HOUSING]):
            row, col = divmod(rng.randrange(100), 10)
            lon = 105.80 + col * 0.03 + rng.random() * 0.03
            lat = 29.25 + row * 0.03 + rng.random() * 0.03
            use = rng.choice(("residential",) * 8 + ("commercial", "mixed"))
            out.write(
                f"{TOWNS[i % len(TOWNS)]}{i // len(TOWNS) + 1}号,yc-{row:02d}-{col:02d},{use},"
                f"{rng.randrange(1, 34)},{rng.randrange(40, 4000)}.5,{lon:.6f},{lat:.6f}\n"
            )
    with paths[BaseDataKind.ORGANISATIONS].open("w", encoding="utf-8") as out:
        out.write("name,uscc,kind,cell_id,address,employees\n")
        for i in range(counts[BaseDataKind.ORGANISATIONS]):
            coded = i % 2 == 0
            kind = "enterprise" if coded else "individual_business"
            out.write(
                f"永川{rng.choice(TOWNS)}商户{i},{credit_code(i) if coded else ''},{kind},"
                f"{rng.choice(CELLS)},,{rng.randrange(1, 500)}\n"
            )
    return paths


async def add_cells(settings: Settings) -> None:
    """A 10 × 10 grid of 0.03° cells over the district."""
    db = Database(settings.database_url, pool_size=1)
    try:
        async with UnitOfWork(db.sessions, source="/bench") as uow:
            for name in CELLS:
                row, col = int(name[3:5]), int(name[6:8])
                lon, lat = 105.80 + col * 0.03, 29.25 + row * 0.03
                ring = [
                    (lon, lat),
                    (lon + 0.03, lat),
                    (lon + 0.03, lat + 0.03),
                    (lon, lat + 0.03),
                    (lon, lat),
                ]
                await repository.add_cell(
                    uow.session,
                    cell_id=name,
                    name=name,
                    level="cell",
                    parent_id=None,
                    polygon=GeoPolygon(coordinates=[ring]),
                )
            await uow.commit()
    finally:
        await db.dispose()


async def timed_import(
    path: Path, kind: BaseDataKind, settings: Settings, chunk: int
) -> tuple[ImportReport, float]:
    started = time.perf_counter()
    with path.open("rb") as raw:  # noqa: ASYNC230 - a benchmark: nothing else runs on this loop
        size = raw.seek(0, os.SEEK_END)
        raw.seek(0)
        report = await run_import(
            raw, kind, ImportFormat.CSV, settings=settings, size=size, chunk=chunk
        )
    return report, time.perf_counter() - started


def line(label: str, report: ImportReport, seconds: float) -> str:
    return (
        f"{label:<24} {report.received:>10,} rows {seconds:>8.1f} s {report.received / seconds:>9,.0f} rows/s"
        f"   created {report.created:,} updated {report.updated:,} unchanged {report.unchanged:,}"
        f" rejected {report.rejected_rows:,}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--records", type=int, default=SEED_TOTAL, help="all kinds together")
    parser.add_argument("--chunk", type=int, default=1000, help="rows per transaction")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()

    url = await migrated_database("grid_events", f"test_bench_import_{uuid.uuid4().hex[:8]}")
    try:
        await run(settings_for_test(Settings, url), args)
    finally:
        await drop_created_databases()


async def run(settings: Settings, args: argparse.Namespace) -> None:
    await add_cells(settings)
    with tempfile.TemporaryDirectory(prefix="grid-import-") as folder:
        started = time.perf_counter()
        paths = write_files(Path(folder), args.records, random.Random(args.seed))
        size = sum(p.stat().st_size for p in paths.values())
        print(
            f"generated {args.records:,} records ({size / 1e6:,.0f} MB of CSV) in "
            f"{time.perf_counter() - started:.1f} s; {os.cpu_count()} CPUs; chunk {args.chunk}"
        )
        total_rows, total_s = 0, 0.0
        for kind, path in paths.items():
            report, seconds = await timed_import(path, kind, settings, args.chunk)
            assert report.rejected_rows == 0 and report.created == report.received, report.as_dict()
            total_rows += report.received
            total_s += seconds
            print(line(f"import {kind.value}", report, seconds))
        print(
            f"{'all kinds':<24} {total_rows:>10,} rows {total_s:>8.1f} s {total_rows / total_s:>9,.0f} rows/s"
        )
        report, seconds = await timed_import(
            paths[BaseDataKind.RESIDENTS], BaseDataKind.RESIDENTS, settings, args.chunk
        )
        assert report.unchanged == report.received, report.as_dict()
        print(line("re-import residents", report, seconds))


if __name__ == "__main__":
    asyncio.run(main())
