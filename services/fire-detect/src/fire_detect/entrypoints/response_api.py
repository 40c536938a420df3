"""REST API of the response to a fire: resources as GeoJSON, evidence frames, KPIs, CAP.

Mounted before the main router: ``/alarms/kpis`` must be matched before
``/alarms/{alarm_id}`` takes "kpis" for an alarm id.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import AwareDatetime

from city_common.runtime import RuntimeDep, UowDep
from city_common.web.problems import validation_failed
from fire_detect.adapters import resources as res
from fire_detect.config import Settings
from fire_detect.domain.cap import CAP_CONTENT_TYPE
from fire_detect.domain.model import ForestResourceKind
from fire_detect.domain.resource_import import feature_collection
from fire_detect.entrypoints.api import Admin, Reader
from fire_detect.entrypoints.response_schemas import ImportReport, KpiReport
from fire_detect.service_layer import response

router = APIRouter(prefix="")

GEOJSON = "application/geo+json"


def _settings(runtime: Any) -> Settings:
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError("fire-detect runs with fire_detect.config.Settings")
    return settings


@router.post("/resources/import", response_model=ImportReport, tags=["resources"])
async def import_resources(
    uow: UowDep,
    _: Admin,
    document: Annotated[
        dict[str, Any],
        Body(
            description=(
                "A GeoJSON FeatureCollection; each feature's properties carry id, kind, "
                "name, a subtype for hazards, and any other properties to keep"
            )
        ),
    ],
) -> ImportReport:
    """Add or update forest resources from GeoJSON, by id; the features that could not be
    taken are listed with the field at fault and why, and the others are stored."""
    return ImportReport.model_validate(await response.import_resources(uow, document))


@router.get(
    "/resources.geojson",
    tags=["resources"],
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "A FeatureCollection"}},
)
async def export_resources(
    uow: UowDep, _: Reader, kind: ForestResourceKind | None = None
) -> Response:
    """Every forest resource (of a kind) as a GeoJSON FeatureCollection, which
    ``POST /resources/import`` takes back."""
    rows = await res.export_resources(uow.session, kind=kind)
    body = json.dumps(feature_collection(rows), separators=(",", ":"))
    return Response(content=body, media_type=GEOJSON)


@router.get("/alarms/kpis", response_model=KpiReport, tags=["alarms"], response_model_by_alias=True)
async def alarm_kpis(
    uow: UowDep,
    _: Reader,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="Alarms raised at or after")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="Alarms raised before")] = None,
) -> KpiReport:
    """Alarm to verification, to arrival on scene and to extinguished: count, median and
    90th percentile in seconds, over the alarms raised in the period; and the share of
    decided alarms that were verified or dismissed."""
    if from_ is not None and to is not None and to <= from_:
        raise validation_failed("to", "must be after 'from'")
    return KpiReport.model_validate(await response.kpis(uow, raised_from=from_, raised_to=to))


@router.get(
    "/alarms/{alarm_id}/evidence",
    tags=["alarms"],
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The frame"},
        404: {"description": "No such alarm, or it has no frame (a ranger's report)"},
    },
)
async def evidence_frame(alarm_id: str, uow: UowDep, _: Reader) -> Response:
    """The camera frame that raised the alarm, as the camera sent it."""
    content_type, image = await response.evidence_frame(uow, alarm_id)
    return Response(
        content=image,
        media_type=content_type,
        # The frame of an alarm never changes.
        headers={"Cache-Control": "private, max-age=86400, immutable"},
    )


@router.get(
    "/alarms/{alarm_id}/cap",
    tags=["alarms"],
    response_class=Response,
    responses={200: {"content": {CAP_CONTENT_TYPE: {}}, "description": "An OASIS CAP 1.2 alert"}},
)
async def cap_alert(alarm_id: str, uow: UowDep, runtime: RuntimeDep, _: Reader) -> Response:
    """The alarm's current step as an OASIS CAP 1.2 alert: Alert when raised, Update as it
    moves on, Cancel when dismissed."""
    settings = _settings(runtime)
    xml = await response.cap_export(
        uow,
        alarm_id,
        sender=settings.fire_cap_sender,
        sender_name=settings.fire_cap_sender_name,
    )
    return Response(content=xml, media_type=CAP_CONTENT_TYPE)
