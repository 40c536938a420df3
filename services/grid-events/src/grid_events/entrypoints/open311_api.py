"""Open311 GeoReport v2 at ``/open311/v2/``, so that existing Open311 clients work unchanged.

Formats: ``.json`` and ``.xml`` on every resource. Requests are posted form-encoded
with an ``api_key``; reading needs no key. Errors use the specification's shape,
``[{"code": 400, "description": "..."}]`` (``<errors><error>`` in XML), not RFC 9457:
that is what Open311 clients parse. The keys are managed by admins under
``/open311-keys``, an ordinary part of this service's API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from city_common.runtime import UowDep
from grid_events.adapters import open311 as repo
from grid_events.domain.open311 import CATALOGUE, Open311Error, PostedForm, bad_request
from grid_events.entrypoints.deps import Admin, CipherDep, SettingsDep
from grid_events.service_layer import open311 as handlers

Format = Literal["json", "xml"]
_FORMAT_IN_PATH = re.compile(r"\.(json|xml)$")
_XML_CHILD = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


def _xml(root: str, payload: object) -> bytes:
    """The specification's XML: schemaless, no namespace, one element per field."""

    def fill(element: Element, value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                fill(SubElement(element, key), item)
        elif isinstance(value, list):
            for item in value:
                fill(SubElement(element, _XML_CHILD[element.tag]), item)
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        elif value is not None:
            element.text = str(value)

    top = Element(root)
    fill(top, payload)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(top, encoding="unicode").encode()


def respond(fmt: Format, root: str, payload: object, *, status_code: int = 200) -> Response:
    if fmt == "xml":
        return Response(_xml(root, payload), status_code=status_code, media_type=XML_TYPE)
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(body, status_code=status_code, media_type=JSON_TYPE)


def _format_of_path(path: str) -> Format:
    match = _FORMAT_IN_PATH.search(path)
    return "xml" if match and match.group(1) == "xml" else "json"


def error_response(path: str, exc: Open311Error) -> Response:
    errors = [{"code": code, "description": text} for code, text in exc.errors]
    return respond(_format_of_path(path), "errors", errors, status_code=exc.status)


class Open311Route(APIRoute):
    """Answers this router's errors in the specification's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except Open311Error as exc:
                return error_response(request.url.path, exc)
            except RequestValidationError as exc:
                described = [
                    f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
                    for e in exc.errors()
                ]
                return error_response(request.url.path, bad_request(*described))

        return answer


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def _fmt(fmt: str) -> Format:
    if fmt == "json":
        return "json"
    if fmt == "xml":
        return "xml"
    raise bad_request(f"format {fmt!r} is not supported: use json or xml")


JurisdictionQuery = Annotated[
    str | None, Query(description="Optional: this endpoint serves one jurisdiction")
]


@router.get("/services.{fmt}", summary="GET Service List")
async def service_list(
    fmt: str, settings: SettingsDep, jurisdiction_id: JurisdictionQuery = None
) -> Response:
    out = _fmt(fmt)
    handlers.check_jurisdiction(jurisdiction_id, settings.open311_jurisdiction_id)
    services = [s.listing(settings.open311_request_type) for s in CATALOGUE.values()]
    return respond(out, "services", services)


@router.get("/services/{service_code}.{fmt}", summary="GET Service Definition")
async def service_definition(
    service_code: str, fmt: str, settings: SettingsDep, jurisdiction_id: JurisdictionQuery = None
) -> Response:
    out = _fmt(fmt)
    handlers.check_jurisdiction(jurisdiction_id, settings.open311_jurisdiction_id)
    service = CATALOGUE.get(service_code)
    if service is None:
        raise Open311Error(404, f"service_code {service_code!r} was not found")
    return respond(out, "service_definition", service.definition())


_POST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code"],
                    "properties": {
                        name: {"type": "string"}
                        for name in (
                            "api_key",
                            "jurisdiction_id",
                            "service_code",
                            "lat",
                            "long",
                            "address_string",
                            "address_id",
                            "email",
                            "device_id",
                            "account_id",
                            "first_name",
                            "last_name",
                            "phone",
                            "description",
                            "media_url",
                        )
                    },
                    "additionalProperties": {
                        "description": "attribute[code]=value, attribute[code][]=value"
                    },
                }
            }
        },
    }
}


@router.post("/requests.{fmt}", summary="POST Service Request", openapi_extra=_POST_BODY)
async def post_service_request(
    fmt: str, request: Request, uow: UowDep, cipher: CipherDep, settings: SettingsDep
) -> Response:
    """Report an issue; it becomes a case in its grid cell. Needs an ``api_key``."""
    out = _fmt(fmt)
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise bad_request("send the request as application/x-www-form-urlencoded")
    try:
        text = (await request.body()).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=200, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise bad_request("the form is not UTF-8 form encoding of at most 200 fields") from None
    answer = await handlers.submit_request(
        uow,
        cipher,
        PostedForm.of(pairs),
        jurisdiction_id=settings.open311_jurisdiction_id,
        request_type=settings.open311_request_type,
        rule=settings.dedup_rule,
    )
    return respond(out, "service_requests", [answer])


@router.get("/requests.{fmt}", summary="GET Service Requests")
async def service_requests(
    fmt: str,
    uow: UowDep,
    settings: SettingsDep,
    jurisdiction_id: JurisdictionQuery = None,
    service_request_id: Annotated[
        str | None, Query(description="Comma delimited; overrides all other arguments")
    ] = None,
    service_code: Annotated[str | None, Query(description="Comma delimited")] = None,
    start_date: Annotated[
        str | None, Query(description="W3C date-time, e.g. 2010-01-01T00:00:00Z")
    ] = None,
    end_date: Annotated[str | None, Query(description="At most 90 days after start_date")] = None,
    status_: Annotated[str | None, Query(alias="status", description="open, closed")] = None,
) -> Response:
    """Requests newest first: by default those of the latest 90 days, at most 1,000."""
    out = _fmt(fmt)
    handlers.check_jurisdiction(jurisdiction_id, settings.open311_jurisdiction_id)
    found = await handlers.find_requests(
        uow,
        {
            "service_request_id": service_request_id,
            "service_code": service_code,
            "start_date": start_date,
            "end_date": end_date,
            "status": status_,
        },
        now=datetime.now(UTC),
    )
    return respond(out, "service_requests", found)


@router.get("/requests/{service_request_id}.{fmt}", summary="GET Service Request")
async def service_request(
    service_request_id: str,
    fmt: str,
    uow: UowDep,
    settings: SettingsDep,
    jurisdiction_id: JurisdictionQuery = None,
) -> Response:
    out = _fmt(fmt)
    handlers.check_jurisdiction(jurisdiction_id, settings.open311_jurisdiction_id)
    return respond(out, "service_requests", [await handlers.get_request(uow, service_request_id)])


@router.get("/tokens/{token}.{fmt}", summary="GET service_request_id from a token")
async def token(
    token: str,
    fmt: str,
    uow: UowDep,
    settings: SettingsDep,
    jurisdiction_id: JurisdictionQuery = None,
) -> Response:
    out = _fmt(fmt)
    handlers.check_jurisdiction(jurisdiction_id, settings.open311_jurisdiction_id)
    return respond(out, "service_requests", [await handlers.resolve_token(uow, token)])


# --- API keys, for admins (RFC 9457 problems like the rest of the service) ------------------

keys_router = APIRouter(prefix="/open311-keys", tags=["open311"])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(strict=True, min_length=1, max_length=128, description="Who holds the key")


class ApiKeyIssued(BaseModel):
    id: str
    name: str
    api_key: str = Field(description="Shown this once; only its SHA-256 is stored")


class ApiKeyRead(BaseModel):
    id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


@keys_router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyIssued)
async def issue_api_key(body: ApiKeyCreate, uow: UowDep, _: Admin) -> ApiKeyIssued:
    """A key for a partner system's Open311 client."""
    return ApiKeyIssued.model_validate(await handlers.issue_api_key(uow, name=body.name))


@keys_router.get("", response_model=list[ApiKeyRead])
async def list_api_keys(uow: UowDep, _: Admin) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(k) for k in await repo.list_api_keys(uow.session)]


@keys_router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: str, uow: UowDep, _: Admin) -> Response:
    await handlers.revoke_api_key(uow, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
