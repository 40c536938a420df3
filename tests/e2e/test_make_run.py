"""`make run` brings every service to ready behind the gateway, and Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import subprocess

import httpx

from .conftest import Platform

SERVICES = (
    "traffic-signal",
    "video-ingest",
    "fire-detect",
    "air-water",
    "health-record",
    "enterprise-hub",
    "grid-events",
)


def test_every_service_is_ready_behind_the_gateway(platform: Platform) -> None:
    with httpx.Client(base_url=platform.gateway, timeout=10) as client:
        assert client.get("/readyz").status_code == 200
        for service in SERVICES:
            ready = client.get(f"/api/v1/{service}/readyz")
            assert ready.status_code == 200, (service, ready.text)
            checks = ready.json()["checks"]
            assert checks["kafka"] == checks["database"] == "ok"
            assert set(checks.values()) == {"ok"}
        status = client.get("/api/v1/status", headers=platform.headers()).json()
        assert status["ready"] is True and set(status["services"]) == set(SERVICES)
        merged = client.get("/api/v1/openapi.json").json()
        for service in SERVICES:
            assert any(p.startswith(f"/api/v1/{service}/") for p in merged["paths"]), service
        dashboard = client.get("/")
        assert dashboard.status_code == 200 and "Yongchuan" in dashboard.text


def test_demo_city_is_loaded(platform: Platform) -> None:
    with httpx.Client(base_url=platform.gateway, timeout=10, headers=platform.headers()) as client:
        centre = client.get("/api/v1/grid-events/cells/lookup?lon=105.927&lat=29.356").json()
        assert centre["cell_id"] is not None
        for path in (
            "/api/v1/video-ingest/cameras",
            "/api/v1/fire-detect/resources",
            "/api/v1/traffic-signal/intersections",
            "/api/v1/air-water/stations",
            "/api/v1/health-record/facilities",
            "/api/v1/enterprise-hub/enterprises",
        ):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text)
            assert page.json()["total"] > 0, path


def test_zz_ctrl_c_stops_every_service(platform: Platform) -> None:
    """Runs last (zz): stopping the session's platform is part of what is tested."""
    os.killpg(platform.process.pid, signal.SIGINT)
    assert platform.process.wait(timeout=90) == 0
    left = subprocess.run(
        [
            "pgrep",
            "-f",
            "--",
            " -m (gateway|traffic_signal|video_ingest|fire_detect|air_water|health_record|enterprise_hub|grid_events)$",
        ],
        capture_output=True,
        text=True,
    )
    assert left.stdout == "", f"services left running: {left.stdout}"
    assert any("[run] stopped" in line for line in platform.output)
