"""The platform as `make run` starts it: one session-wide supervisor for the e2e tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
GATEWAY = "http://127.0.0.1:8000"


def poll(fetch: Callable[[], Any], until: Callable[[Any], bool], timeout_s: float = 45) -> Any:
    """``fetch()`` again and again until ``until`` holds of its value; that value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = fetch()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout_s} s; last value: {value}")
        time.sleep(0.25)


@dataclass
class Platform:
    gateway: str
    token: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    logs: Path = REPO / ".local" / "logs"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    # --keep-stack: Kafka and PostgreSQL belong to `make test`, which stops them.
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "deploy" / "local" / "run.py"), "--keep-stack"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    output: list[str] = []
    token = None
    deadline = time.monotonic() + 240
    lines = iter(proc.stdout.readline, "")
    for line in lines:
        output.append(line)
        if line.strip().startswith("eyJ"):
            token = line.strip()
        if "Ctrl-C stops everything" in line or "[run] failed" in line:
            break
        if time.monotonic() > deadline:
            break
    if token is None:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        pytest.fail("make run did not become ready:\n" + "".join(output[-40:]))
    # Keep draining the supervisor's output so it never blocks on a full pipe.
    drain = threading.Thread(target=lambda: output.extend(lines), daemon=True)
    drain.start()
    platform = Platform(GATEWAY, token, proc, output)
    yield platform
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=90)
