"""RFC 9457 problem details for every error a service returns."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://yongchuan.city/problems/"


class Problem(Exception):  # noqa: N818 - it is the RFC's name
    """Raise from a route or service function to answer a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str | None = None,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_ or PROBLEM_BASE + title.lower().replace(" ", "-")
        self.errors = list(errors) if errors else None
        self.headers = headers
        self.extra = extra


def not_found(what: str, ident: object) -> Problem:
    return Problem(404, "Not found", f"{what} {ident!r} does not exist")


def conflict(detail: str) -> Problem:
    return Problem(409, "Conflict", detail)


def validation_failed(field: str, reason: str, *, code: str = "invalid") -> Problem:
    """A 422 found past pydantic (e.g. an unknown referenced id), shaped like pydantic's."""
    return Problem(
        422,
        "Validation failed",
        f"invalid input: {field}",
        type_=PROBLEM_BASE + "validation-failed",
        errors=[{"field": field, "reason": reason, "code": code}],
    )


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = list(errors)
    trace_id = getattr(request.state, "trace_id", None)
    if trace_id:
        body["trace_id"] = trace_id
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        errors.append(
            {
                # "body.location.coordinates.0" names the field a client must fix.
                "field": ".".join(loc),
                "reason": err.get("msg", "invalid"),
                "code": err.get("type", "invalid"),
            }
        )
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)  # noqa: S101 - registered for Problem only
        return problem_response(
            request,
            exc.status,
            exc.title,
            exc.detail,
            type_=exc.type,
            errors=exc.errors,
            headers=exc.headers,
            **exc.extra,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        errors = _field_errors(exc)
        # Malformed JSON is a syntax error of the request (400), not a semantic one.
        if any(e["code"] == "json_invalid" for e in errors):
            return problem_response(
                request,
                400,
                "Malformed request body",
                "the body is not valid JSON",
                type_=PROBLEM_BASE + "malformed-body",
                errors=errors,
            )
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(
            request,
            422,
            "Validation failed",
            f"invalid input: {fields}",
            type_=PROBLEM_BASE + "validation-failed",
            errors=errors,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        title = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        return problem_response(
            request, exc.status_code, title, detail, headers=dict(exc.headers or {})
        )

    async def on_database_lost(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DBAPIError)  # noqa: S101
        if not exc.connection_invalidated:
            return await on_unexpected(request, exc)
        # The database went away under this request (a restart, a failover); the pool
        # has been invalidated and the next request reconnects.
        log.warning("database connection lost", extra={"path": request.url.path})
        return problem_response(
            request,
            503,
            "Service Unavailable",
            "the database connection was lost; retry the request",
            type_=PROBLEM_BASE + "database-unavailable",
            headers={"Retry-After": "1"},
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A 500 is a bug of ours; log it with the trace id and tell the client little.
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(request, 500, "Internal Server Error")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DBAPIError, on_database_lost)
    app.add_exception_handler(Exception, on_unexpected)
