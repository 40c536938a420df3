"""`make run`: the whole platform on this machine, under one supervisor.

Starts PostgreSQL+PostGIS and Kafka (deploy/local/stack.sh), migrates every
service's database, starts the eight services, waits until each is ready behind
the gateway, loads the demo city and prints where everything is. Ctrl-C (or
SIGTERM) stops the services, then the stack; nothing is left running.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "deploy" / "local" / "stack.sh"
STATE = Path(os.environ.get("CITY_STATE_DIR", REPO / ".local"))
PG = (
    f"{os.environ.get('CITY_PG_USER', 'city')}:{os.environ.get('CITY_PG_PASSWORD', 'city')}"
    f"@{os.environ.get('CITY_PG_HOST', '127.0.0.1')}:{os.environ.get('CITY_PG_PORT', '15432')}"
)
KAFKA = f"127.0.0.1:{os.environ.get('CITY_KAFKA_PORT', '19092')}"


@dataclass
class Service:
    name: str
    package: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    restarts: int = 0

    @property
    def database(self) -> str:
        return self.package

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = [
    Service("traffic-signal", "traffic_signal", 8001),
    Service("video-ingest", "video_ingest", 8002),
    Service("fire-detect", "fire_detect", 8003),
    Service("air-water", "air_water", 8004),
    Service("health-record", "health_record", 8005),
    Service("enterprise-hub", "enterprise_hub", 8006),
    Service("grid-events", "grid_events", 8007),
    Service("gateway", "gateway", 8000),
]
GATEWAY = SERVICES[-1]
MAX_RESTARTS = 3


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def stack(action: str) -> None:
    subprocess.run(["bash", str(STACK), action], check=True)  # noqa: S603, S607


def migrate() -> None:
    # In one process: importing Alembic and SQLAlchemy once is much faster than eight times.
    from city_common.db.migrations import upgrade

    for service in SERVICES:
        started = time.monotonic()
        upgrade(service.package, f"postgresql+asyncpg://{PG}/{service.database}")
        say(f"migrated {service.database} ({time.monotonic() - started:.1f} s)")


def service_env(service: Service) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CITY_SERVICE_NAME": service.name,
            "CITY_HTTP_PORT": str(service.port),
            "CITY_HTTP_HOST": os.environ.get("CITY_HTTP_HOST", "127.0.0.1"),
            "CITY_DATABASE_URL": f"postgresql+asyncpg://{PG}/{service.database}",
            "CITY_KAFKA_BOOTSTRAP": KAFKA,
            "CITY_ENVIRONMENT": "dev",
        }
    )
    if service is GATEWAY:
        env["CITY_SERVICE_URLS"] = json.dumps({s.name: s.url for s in SERVICES if s is not GATEWAY})
    return env


def start(service: Service) -> None:
    logs = STATE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    service.log = open(logs / f"{service.name}.log", "ab")  # noqa: SIM115 - held while running
    # A session of its own: the terminal's Ctrl-C reaches only the supervisor,
    # which then stops the services in order.
    service.process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", service.package],
        env=service_env(service),
        stdout=service.log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=REPO,
    )


def stop(service: Service, timeout_s: float = 15.0) -> None:
    proc = service.process
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if service.log is not None:
        service.log.close()
        service.log = None


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_ready(timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    pending = {s.name for s in SERVICES}
    while pending and time.monotonic() < deadline:
        for service in SERVICES:
            if service.name not in pending:
                continue
            if service.process is not None and service.process.poll() is not None:
                raise RuntimeError(
                    f"{service.name} exited during start-up; see {STATE}/logs/{service.name}.log"
                )
            url = (
                f"{GATEWAY.url}/readyz"
                if service is GATEWAY
                else f"{GATEWAY.url}/api/v1/{service.name}/readyz"
            )
            if ready(url):
                pending.discard(service.name)
                say(f"{service.name} ready")
        time.sleep(0.3)
    if pending:
        raise RuntimeError(f"not ready after {timeout_s:.0f} s: {', '.join(sorted(pending))}")


def operator_token() -> str:
    from city_common.auth import issue_token
    from city_common.settings import ServiceSettings

    return issue_token(ServiceSettings(), "demo-operator", ["admin", "operator"], ttl_s=12 * 3600)


def load_demo_city(token: str) -> None:
    from demo_city import load  # deploy/local/demo_city.py

    counts = load(GATEWAY.url, token)
    say("demo city loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


class Stop(Exception):  # noqa: N818 - a signal, not an error
    pass


def on_signal(signum: int, _frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def supervise() -> None:
    """Restart a service that dies, a few times, then give up on it loudly."""
    while True:
        time.sleep(1.0)
        for service in SERVICES:
            proc = service.process
            if proc is None or proc.poll() is None:
                continue
            if service.restarts >= MAX_RESTARTS:
                say(f"{service.name} keeps failing (exit {proc.returncode}); stopping")
                raise Stop("service failure")
            service.restarts += 1
            say(f"{service.name} exited with {proc.returncode}; restart {service.restarts}")
            stop(service)
            start(service)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--migrate-only", action="store_true", help="migrate and exit")
    parser.add_argument("--no-demo", action="store_true", help="skip loading the demo city")
    parser.add_argument(
        "--keep-stack", action="store_true", help="leave PostgreSQL and Kafka running on exit"
    )
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))

    began = time.monotonic()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    stack_started = False
    try:
        stack("up")
        stack_started = True
        migrate()
        if args.migrate_only:
            return 0
        for service in SERVICES:
            start(service)
        wait_ready(args.ready_timeout)
        token = operator_token()
        if not args.no_demo:
            load_demo_city(token)
        elapsed = time.monotonic() - began
        say(f"platform ready in {elapsed:.1f} s")
        print(
            "\n  dashboard        http://127.0.0.1:8000/\n"
            "  public API docs  http://127.0.0.1:8000/docs  (merged: /api/v1/openapi.json)\n"
            "  services         "
            + "  ".join(f"{s.name} {s.url}/docs" for s in SERVICES if s is not GATEWAY)
            + f"\n  logs             {STATE}/logs/<service>.log\n"
            f"  PostgreSQL       postgresql://{PG}/<service database>\n"
            f"  Kafka            {KAFKA}\n"
            f"\n  operator token (12 h):\n  {token}\n\n  Ctrl-C stops everything.\n",
            flush=True,
        )
        supervise()
    except Stop as reason:
        say(f"stopping ({reason})")
    except Exception as exc:  # noqa: BLE001 - report, then clean up below
        say(f"failed: {exc}")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for service in reversed(SERVICES):
            stop(service)
        if stack_started and not args.keep_stack and not args.migrate_only:
            stack("down")
        say("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
