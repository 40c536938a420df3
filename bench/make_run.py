"""Time `make run` cold and warm, and measure the idle memory of the whole stack.

cold: the stack's state (.local/: PostgreSQL cluster, Kafka log dirs) is deleted
      first, so initdb, KRaft format, database creation and every migration run;
      package caches (apt, uv, Maven jars) are kept, as the target says
      "once dependencies are cached".
warm: the same command again with the state from the cold run.

For each: seconds from `make run` to the "platform ready" line (the target is
120 s), then, after 10 s idle, the proportional set size (PSS, shared pages split
fairly) of every process of the stack, then Ctrl-C and a check that no process
is left behind.

Run: uv run python bench/make_run.py   (nothing of the stack may be running)
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STATE = REPO / ".local"
TARGET_S = 120.0
PACKAGES = (
    "gateway",
    "traffic_signal",
    "video_ingest",
    "fire_detect",
    "air_water",
    "health_record",
    "enterprise_hub",
    "grid_events",
)


def pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else 0


def stack_processes() -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        if "kafka.Kafka" in cmd and str(STATE) in cmd:
            groups.setdefault("kafka", []).append(pid)
        elif "postgres" in cmd and (str(STATE) in cmd or cmd.startswith("postgres:")):
            groups.setdefault("postgresql", []).append(pid)
        else:
            for pkg in PACKAGES:
                if f"-m {pkg} " in cmd + " ":
                    groups.setdefault(pkg, []).append(pid)
    return groups


def one_run(label: str) -> tuple[float, dict[str, int]]:
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603
        ["make", "--no-print-directory", "run"],  # noqa: S607
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    ready_s = None
    for line in proc.stdout:
        if "platform ready in" in line:
            ready_s = time.monotonic() - started
            break
        if "[run] failed" in line:
            print(line, end="")
            break
    if ready_s is None:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        raise SystemExit(f"{label}: make run did not become ready")
    time.sleep(10)  # idle
    memory = {name: sum(pss_kib(p) for p in pids) for name, pids in stack_processes().items()}
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise SystemExit(f"{label}: make run did not stop within 90 s after Ctrl-C") from None
    left = stack_processes()
    if left:
        raise SystemExit(f"{label}: processes left after Ctrl-C: {left}")
    return ready_s, memory


def main() -> None:
    if stack_processes():
        sys.exit("stop the running stack first (make stack-down)")
    shutil.rmtree(STATE, ignore_errors=True)
    results = {"cold": one_run("cold"), "warm": one_run("warm")}
    print(f"target: platform ready in under {TARGET_S:.0f} s with dependencies cached")
    for label, (seconds, _) in results.items():
        print(
            f"make run {label:4}  ready in {seconds:6.1f} s   ({seconds / TARGET_S:.0%} of target)"
        )
    _, memory = results["warm"]
    total = sum(memory.values())
    print("idle memory (PSS) after warm start:")
    for name, kib in sorted(memory.items(), key=lambda kv: -kv[1]):
        print(f"  {name:16} {kib / 1024:8.1f} MiB")
    infra = memory.get("kafka", 0) + memory.get("postgresql", 0)
    print(f"  {'infrastructure':16} {infra / 1024:8.1f} MiB  (Kafka + PostgreSQL: the baseline)")
    print(f"  {'services':16} {(total - infra) / 1024:8.1f} MiB  (eight Python services)")
    print(f"  {'whole stack':16} {total / 1024:8.1f} MiB")
    print("after Ctrl-C: no process of the stack left running")


if __name__ == "__main__":
    main()
