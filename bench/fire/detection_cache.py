"""Per-frame detections of development sets and soak streams, computed once and kept,
so that the sequence rule (``SequenceTracker``, ``AlarmPolicy``) can be judged over
many camera-hours in seconds instead of re-rendering and re-analysing every frame.

The per-frame detector is deterministic and the tracker sees nothing but its
detections: eval_detection.py runs a sequence as ``track(detect(sequence))``, and
this keeps what ``detect`` gave, so a run over the kept detections gives exactly the
alarms of a full run while they are fresh (``check`` compares the two on a set's
first sequences, and finds kept detections made by an older detector).
Only for development seeds: the evaluation split (seed 2026, soak 2027) is run by
eval_detection.py alone, to report.

    uv run python bench/fire/detection_cache.py soak --seeds 71 73 --kinds fog_low_cloud red_vehicle
    uv run python bench/fire/detection_cache.py sets --seeds 41 42 43 44 45
    uv run python bench/fire/detection_cache.py run --soak 71 73 --sets 41 42 --levels 1 3 5
    uv run python bench/fire/detection_cache.py check --set 41 --first 60
    uv run python bench/fire/detection_cache.py firsts --sets 41 42 43 44 45 --save before.json
    uv run python bench/fire/detection_cache.py firsts --sets 41 42 43 44 45 --against before.json

Cached under ``.local/bench/fire/detections/`` (a few MB per seed, never committed).
A file is remade when make_eval_set.VERSION changes; after a change to the per-frame
detector, delete the folder.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_detection import (  # noqa: E402
    TEST_SEED,
    DetectedSequence,
    detect,
    run_sequence,
    track,
)
from make_eval_set import (  # noqa: E402
    CACHE_DIR,
    NEGATIVE,
    VERSION,
    evaluation_set,
    soak_stream,
)

DETECTIONS_DIR: Path = Path(CACHE_DIR) / "detections"
SOAK_MINUTES = 10.0


def _refuse_evaluation(seeds: Iterable[int]) -> None:
    if TEST_SEED in seeds or TEST_SEED + 1 in seeds:
        raise SystemExit("the evaluation split is run by eval_detection.py only")


def _soak_one(args: tuple[int, int]) -> DetectedSequence:
    seed, k = args
    return detect(soak_stream(seed, k, SOAK_MINUTES))


def soak_path(seed: int, kind: str, hours: float) -> Path:
    return DETECTIONS_DIR / f"v{VERSION}-soak{seed}-{kind}-{hours:g}h.pkl"


def set_path(seed: int) -> Path:
    return DETECTIONS_DIR / f"v{VERSION}-set{seed}.pkl"


def cache_soak(seed: int, kinds: Sequence[str], hours: float, jobs: int) -> None:
    """The streams of ``kinds`` among ``hours`` camera-hours of soak seed ``seed`` (the
    same streams eval_detection.py runs with ``--seed seed-1 --soak-hours hours``)."""
    streams = round(hours * 60 / SOAK_MINUTES)
    for kind in kinds:
        path = soak_path(seed, kind, hours)
        if path.exists():
            continue
        started = time.perf_counter()
        chosen = [k for k in range(streams) if NEGATIVE[k % len(NEGATIVE)] == kind]
        with Pool(jobs) as pool:
            detected = pool.map(_soak_one, [(seed, k) for k in chosen])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(detected))
        print(
            f"soak {seed} {kind}: {len(detected)} streams in {time.perf_counter() - started:.0f} s"
        )


def cache_set(seed: int, jobs: int) -> None:
    path = set_path(seed)
    if path.exists():
        return
    started = time.perf_counter()
    sequences = evaluation_set(seed, 27, cache=False)
    with Pool(jobs) as pool:
        detected = pool.map(detect, sequences, chunksize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(detected))
    print(f"set {seed}: {len(detected)} sequences in {time.perf_counter() - started:.0f} s")


def load(path: Path) -> list[DetectedSequence]:
    loaded: list[DetectedSequence] = pickle.loads(path.read_bytes())  # noqa: S301 - our own cache
    return loaded


def run(soak: Sequence[Path], sets: Sequence[Path], levels: Sequence[int], show: bool) -> None:
    for level in levels:
        print(f"danger level {level}")
        for path in soak:
            streams = load(path)
            soak_alarms = [(s.id, i, a) for s in streams for i, a, _ in track(s, level)]
            hours = sum(len(s.frames) for s in streams) / 3600
            print(f"  {path.stem}: {len(soak_alarms)} false alarms in {hours:.0f} camera-hours")
            if show:
                for sid, i, a in soak_alarms:
                    print(f"      {sid} frame {i}: {a.kind} {a.box.as_tuple()} {a.confidence}")
        for path in sets:
            sequences = load(path)
            found = missed = false = 0
            kinds: Counter[str] = Counter()
            for s in sequences:
                alarms = track(s, level)
                false += sum(1 for _, _, hit in alarms if not hit)
                if s.fire_box is not None:
                    if any(hit for _, _, hit in alarms):
                        found += 1
                    else:
                        missed += 1
                        kinds[s.category] += 1
            print(
                f"  {path.stem}: {found} of {found + missed} fires found "
                f"(missed {dict(kinds)}), {false} false alarms"
            )


def first_alarms(sets: Sequence[Path], levels: Sequence[int]) -> dict[str, int | None]:
    """The frame of the first true alarm of every fire sequence of ``sets`` at each
    level (None: missed), keyed ``id@level``."""
    found: dict[str, int | None] = {}
    for path in sets:
        for s in load(path):
            if s.fire_box is None:
                continue
            for level in levels:
                hits = [i for i, _, hit in track(s, level) if hit]
                found[f"{s.id}@{level}"] = hits[0] if hits else None
    return found


def compare_first_alarms(before: dict[str, int | None], now: dict[str, int | None]) -> None:
    """What a change of the sequence rule did to the development fires: which are
    lost, found, alarmed later or sooner."""
    lost = [k for k, f in before.items() if f is not None and now.get(k) is None]
    gained = [k for k, f in before.items() if f is None and now.get(k) is not None]
    moved: list[tuple[str, int, int]] = []
    for k, f in before.items():
        n = now.get(k)
        if f is not None and n is not None and n != f:
            moved.append((k, f, n))
    print(f"lost {len(lost)}: {lost}")
    print(f"found {len(gained)}: {gained}")
    later = [m for m in moved if m[2] > m[1]]
    sooner = [m for m in moved if m[2] < m[1]]
    print(f"later {len(later)}: {later}")
    print(f"sooner {len(sooner)}: {sooner}")
    print(f"the same: {len(before) - len(lost) - len(gained) - len(moved)} of {len(before)}")


def check(seed: int, first: int, levels: Sequence[int]) -> int:
    """How many of a set's first sequences alarm otherwise over the cached detections
    than in a full run of eval_detection.py (0 when the cache is true: made by this
    detector from the same frames)."""
    sequences = evaluation_set(seed, 27, cache=False)[:first]
    cached = load(set_path(seed))[:first]
    differ = 0
    for level in levels:
        for full, fast in zip(sequences, cached, strict=True):
            a = [(i, x.kind, x.box) for i, x in run_sequence(full, level).alerts]
            b = [(i, x.kind, x.box) for i, x, _ in track(fast, level)]
            if a != b:
                differ += 1
                print(f"level {level} {full.id}: full run {a}, cached {b}")
    print(f"{differ} of {len(sequences) * len(levels)} runs differ")
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_soak = sub.add_parser("soak", help="cache the detections of soak streams")
    p_soak.add_argument("--seeds", type=int, nargs="+", required=True)
    p_soak.add_argument("--kinds", nargs="+", choices=NEGATIVE, default=list(NEGATIVE))
    p_soak.add_argument("--hours", type=float, default=48.0)
    p_soak.add_argument("--jobs", type=int, default=2)
    p_set = sub.add_parser("sets", help="cache the detections of labelled sets")
    p_set.add_argument("--seeds", type=int, nargs="+", required=True)
    p_set.add_argument("--jobs", type=int, default=2)
    p_run = sub.add_parser("run", help="run the sequence rule over cached detections")
    p_run.add_argument("--soak", type=int, nargs="*", default=[])
    p_run.add_argument("--kinds", nargs="+", choices=NEGATIVE, default=list(NEGATIVE))
    p_run.add_argument("--hours", type=float, default=48.0)
    p_run.add_argument("--sets", type=int, nargs="*", default=[])
    p_run.add_argument("--levels", type=int, nargs="+", default=[3])
    p_run.add_argument("--show", action="store_true", help="print each false soak alarm")
    p_firsts = sub.add_parser(
        "firsts", help="first true alarms of the sets' fires: save them, or compare"
    )
    p_firsts.add_argument("--sets", type=int, nargs="+", required=True)
    p_firsts.add_argument("--levels", type=int, nargs="+", default=[1, 3, 5])
    p_firsts.add_argument("--save", type=Path, help="write them to this JSON file")
    p_firsts.add_argument("--against", type=Path, help="compare with a saved JSON file")
    p_check = sub.add_parser("check", help="compare cached and full runs on a set")
    p_check.add_argument("--set", type=int, required=True)
    p_check.add_argument("--first", type=int, default=60)
    p_check.add_argument("--levels", type=int, nargs="+", default=[1, 3, 5])
    args = parser.parse_args()
    if args.command == "check":
        _refuse_evaluation([args.set])
        raise SystemExit(1 if check(args.set, args.first, args.levels) else 0)
    if args.command == "firsts":
        _refuse_evaluation(args.sets)
        now = first_alarms([set_path(s) for s in args.sets], args.levels)
        if args.save:
            args.save.write_text(json.dumps(now, indent=0))
        if args.against:
            compare_first_alarms(json.loads(args.against.read_text()), now)
        if not args.save and not args.against:
            print(f"{sum(f is not None for f in now.values())} of {len(now)} found")
        return
    if args.command == "soak":
        _refuse_evaluation(args.seeds)
        for seed in args.seeds:
            cache_soak(seed, args.kinds, args.hours, args.jobs)
    elif args.command == "sets":
        _refuse_evaluation(args.seeds)
        for seed in args.seeds:
            cache_set(seed, args.jobs)
    else:
        _refuse_evaluation([*args.soak, *args.sets])
        soak = [soak_path(s, k, args.hours) for s in args.soak for k in args.kinds]
        run(
            [p for p in soak if p.exists()],
            [set_path(s) for s in args.sets],
            args.levels,
            args.show,
        )


if __name__ == "__main__":
    main()
