"""ASGI middleware: trace context, request metrics and logs, body size limit.

Pure ASGI rather than ``BaseHTTPMiddleware`` so streaming responses (the
gateway's live event stream) pass through untouched.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from city_common.observability.metrics import Metrics
from city_common.observability.tracing import current_traceparent, new_trace, parse_traceparent

log = logging.getLogger("city.http")

_QUIET = {"/healthz", "/readyz", "/metrics"}


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode(errors="replace") for k, v in scope["headers"]}
        incoming = parse_traceparent(headers.get("traceparent"))
        trace = incoming.child() if incoming else new_trace()
        token = current_traceparent.set(trace.traceparent)
        scope.setdefault("state", {})["trace_id"] = trace.trace_id
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500}

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                extra = [
                    (b"traceparent", trace.traceparent.encode()),
                    (b"x-trace-id", trace.trace_id.encode()),
                ]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await _too_large(send_with_trace, self.max_body_bytes, scope["path"])
                return
            await self.app(scope, _limited(receive, self.max_body_bytes), send_with_trace)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            status = status_holder["status"]
            self.metrics.http_request_seconds.labels(
                method=scope["method"], route=template, status=str(status)
            ).observe(elapsed)
            if scope["path"] not in _QUIET:
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            current_traceparent.reset(token)


def _limited(receive: Receive, limit: int) -> Receive:
    """A body without Content-Length (chunked) is counted as it arrives.

    Over the limit, reading it raises a 413 that the problem handlers answer, so a
    client cannot stream an unbounded body into memory.
    """
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"the request body exceeds {limit} bytes")
        return message

    return counted


async def _too_large(send: Send, limit: int, path: str) -> None:
    body = json.dumps(
        {
            "type": "https://yongchuan.city/problems/payload-too-large",
            "title": "Payload Too Large",
            "status": 413,
            "detail": f"the request body exceeds {limit} bytes",
            "instance": path,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/problem+json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
