"""The public API: routing to the services, status, live events, audit trail."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import func, insert, select

from city_common.auth import Principal, Role, TokenVerifier, current_principal, require_roles
from city_common.observability.tracing import current_trace
from city_common.runtime import Runtime, RuntimeDep, UowDep
from city_common.web.pagination import Page, PageDep
from city_common.web.problems import Problem, not_found
from gateway.adapters.live_feed import LiveFeed
from gateway.adapters.orm import api_audit
from gateway.adapters.proxy import ServiceProxy, ServiceUnavailable
from gateway.domain.openapi import merge_openapi
from gateway.domain.ratelimit import RateLimiter

API = "/api/v1"
# Paths of a service anyone may GET through the gateway: probes and API documents.
PUBLIC_PATHS = {"healthz", "readyz", "openapi.json"}
# Interfaces with an authentication of their own, which the service checks: Open311
# GeoReport v2 clients send an api_key, not a JWT. The per-IP rate limit applies.
PUBLIC_PREFIXES = {"grid-events": ("open311/v2/",)}
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

router = APIRouter()

Operator = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.DISPATCHER))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


def _proxy(runtime: Runtime) -> ServiceProxy:
    proxy: ServiceProxy = runtime.state["proxy"]
    return proxy


def _feed(runtime: Runtime) -> LiveFeed:
    feed: LiveFeed | None = runtime.state.get("feed")
    if feed is None:
        raise Problem(503, "Service Unavailable", "the live feed is disabled")
    return feed


class AuditEntry(BaseModel):
    at: Any
    subject: str
    roles: str
    method: str
    service: str
    path: str
    status: int
    trace_id: str | None


@router.get(f"{API}/status", tags=["gateway"], summary="Readiness of every service")
async def status(runtime: RuntimeDep, _: Operator) -> dict[str, Any]:
    services = await _proxy(runtime).readiness(current_trace().child().traceparent)
    return {
        "ready": all(s["ready"] for s in services.values()),
        "services": services,
    }


@router.get(f"{API}/openapi.json", tags=["gateway"], summary="The whole public API")
async def public_openapi(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    proxy = _proxy(runtime)
    traceparent = current_trace().child().traceparent
    docs: dict[str, dict[str, Any]] = {}
    for name in proxy.urls:
        try:
            upstream = await proxy.forward(
                name,
                "GET",
                "openapi.json",
                query="",
                headers=[],
                body=b"",
                traceparent=traceparent,
                client_ip=None,
            )
        except ServiceUnavailable:
            continue  # a service that is down is left out rather than failing the whole
        if upstream.status == 200:
            docs[name] = json.loads(upstream.body)
    return merge_openapi(request.app.openapi(), docs, api_prefix=API)


@router.get(f"{API}/events/recent", tags=["live"], summary="The latest events on the bus")
async def recent_events(
    runtime: RuntimeDep,
    _: Operator,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    type_prefix: Annotated[str | None, Query(max_length=128)] = None,
) -> list[dict[str, Any]]:
    events = [e for e in _feed(runtime).recent if not type_prefix or e.type.startswith(type_prefix)]
    return [e.to_json() for e in events[-limit:]][::-1]


async def _stream_principal(
    request: Request,
    access_token: Annotated[str | None, Query(description="For EventSource clients")] = None,
) -> Principal:
    # Browsers' EventSource cannot send headers, so the token may come as a query value.
    verifier: TokenVerifier | None = request.app.state.token_verifier
    if access_token and verifier is not None and "authorization" not in request.headers:
        principal = verifier.verify(access_token)
    else:
        principal = await current_principal(request)
    if not principal.has_any(Role.OPERATOR, Role.DISPATCHER):
        raise Problem(403, "Forbidden", "the live stream needs the operator or dispatcher role")
    return principal


@router.get(
    f"{API}/events/stream",
    tags=["live"],
    summary="Server-sent events of alarms, incidents, cases and exceedances",
    response_class=StreamingResponse,
)
async def stream_events(
    request: Request,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(_stream_principal)],
    type_prefix: Annotated[str | None, Query(max_length=128)] = None,
    heartbeat_s: Annotated[float, Query(gt=0.05, le=60)] = 15.0,
) -> StreamingResponse:
    feed = _feed(runtime)
    queue = feed.subscribe()

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 3000\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=heartbeat_s)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                if type_prefix and not event.type.startswith(type_prefix):
                    continue
                data = json.dumps(event.to_json(), ensure_ascii=False)
                yield f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n".encode()
        finally:
            feed.unsubscribe(queue)

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


@router.get(f"{API}/audit", tags=["gateway"], response_model=Page[AuditEntry])
async def audit_trail(
    uow: UowDep,
    page: PageDep,
    _: Admin,
    subject: Annotated[str | None, Query(max_length=128)] = None,
) -> Page[AuditEntry]:
    """Changes made through the public API: who, what, when, with which outcome."""
    where = [api_audit.c.subject == subject] if subject else []
    total = await uow.session.scalar(select(func.count()).select_from(api_audit).where(*where))
    rows = await uow.session.execute(
        select(api_audit)
        .where(*where)
        .order_by(api_audit.c.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    return Page.of(AuditEntry, (r._mapping for r in rows), total=int(total or 0), page=page)


@router.api_route(
    f"{API}/{{service}}/{{path:path}}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    # The merged document at /api/v1/openapi.json describes each service's paths.
    include_in_schema=False,
)
async def route_to_service(
    service: str, path: str, request: Request, runtime: RuntimeDep
) -> Response:
    proxy = _proxy(runtime)
    if service not in proxy.urls:
        raise not_found("service", service)
    public = (path in PUBLIC_PATHS and request.method == "GET") or path.startswith(
        PUBLIC_PREFIXES.get(service, ())
    )
    principal = None if public else await current_principal(request)
    client_ip = request.client.host if request.client else None
    caller = principal.subject if principal else f"ip:{client_ip}"
    limiter: RateLimiter = runtime.state["limiter"]
    wait = limiter.check(caller, time.monotonic())
    if wait > 0:
        raise Problem(
            429,
            "Too Many Requests",
            f"rate limit exceeded; retry in {wait:.1f} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    try:
        upstream = await proxy.forward(
            service,
            request.method,
            path,
            query=request.url.query,
            headers=list(request.headers.items()),
            body=await request.body(),
            traceparent=current_trace().child().traceparent,
            client_ip=client_ip,
        )
    except ServiceUnavailable as exc:
        raise Problem(
            503,
            "Service Unavailable",
            f"{exc.service} is {exc.reason}",
            headers={"Retry-After": "5"},
        ) from exc
    if principal is not None and request.method not in _SAFE_METHODS:
        await _audit(runtime, principal, request.method, service, path, upstream.status)
    return Response(
        content=upstream.body, status_code=upstream.status, headers=dict(upstream.headers)
    )


async def _audit(
    runtime: Runtime, principal: Principal, method: str, service: str, path: str, status: int
) -> None:
    async with runtime.uow() as uow:
        await uow.session.execute(
            insert(api_audit).values(
                subject=principal.subject[:128],
                roles=",".join(sorted(principal.roles))[:256],
                method=method,
                service=service,
                path=path[:1024],
                status=status,
                trace_id=current_trace().trace_id,
            )
        )
        await uow.commit()
