"""Use cases of enterprise-hub: each takes a unit of work and commits or not at all."""

from __future__ import annotations

import uuid
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.events import schemas as s
from city_common.events.registry import spec_for_type
from city_common.geo import GeoPoint
from city_common.messaging.consumer import Delivery
from city_common.web.problems import conflict, not_found
from enterprise_hub.adapters import repository as repo
from enterprise_hub.domain.model import COMPLIANCE_RADIUS_M, EnterpriseSize

Listing = tuple[list[dict[str, Any]], int]


async def register_enterprise(
    uow: UnitOfWork,
    *,
    name: str,
    credit_code: str,
    industry: str,
    size: EnterpriseSize,
    location: GeoPoint,
) -> dict[str, Any]:
    """Register an enterprise under its (already validated) unified social credit code."""
    enterprise_id = f"ent-{uuid.uuid4().hex[:16]}"
    added = await repo.add_enterprise(
        uow.session,
        enterprise_id=enterprise_id,
        name=name,
        credit_code=credit_code,
        industry=industry,
        size=size.value,
        location=location,
    )
    if not added:
        raise conflict(f"an enterprise with credit code {credit_code} is registered already")
    enterprise = await repo.get_enterprise(uow.session, enterprise_id)
    assert enterprise is not None  # noqa: S101 - inserted just above
    await uow.commit()
    return enterprise


async def get_enterprise(uow: UnitOfWork, enterprise_id: str) -> dict[str, Any]:
    enterprise = await repo.get_enterprise(uow.session, enterprise_id)
    if enterprise is None:
        raise not_found("enterprise", enterprise_id)
    return enterprise


async def publish_policy(
    uow: UnitOfWork,
    *,
    title: str,
    department: str,
    industries: list[str],
    summary: str,
) -> dict[str, Any]:
    """Store a policy and announce it to the enterprises' channels."""
    policy = await repo.add_policy(
        uow.session,
        id=f"pol-{uuid.uuid4().hex[:16]}",
        title=title,
        department=department,
        industries=industries,
        summary=summary,
    )
    uow.emit(
        spec_for_type("city.enterprise.policy.published.v1"),
        s.PolicyPublished(
            policy_id=policy["id"],
            title=title,
            department=department,
            published_at=policy["published_at"],
            industries=industries,
        ),
    )
    await uow.commit()
    return policy


async def policies_for_enterprise(
    uow: UnitOfWork, enterprise_id: str, *, limit: int, offset: int
) -> Listing:
    """The policies that apply to an enterprise's industry."""
    enterprise = await get_enterprise(uow, enterprise_id)
    return await repo.list_policies(
        uow.session,
        applying_to=enterprise["industry"],
        department=None,
        limit=limit,
        offset=offset,
    )


async def on_exceedance(delivery: Delivery, uow: UnitOfWork) -> None:
    """Ask every enterprise near an exceedance to check its own emissions or discharges."""
    payload = delivery.payload
    if not isinstance(payload, s.ExceedanceDetected):
        return
    nearby = await repo.enterprises_within(uow.session, payload.location, COMPLIANCE_RADIUS_M)
    await repo.add_compliance_notices(
        uow.session,
        [
            {
                "id": f"cn-{uuid.uuid4().hex[:16]}",
                "enterprise_id": enterprise_id,
                "exceedance_id": payload.exceedance_id,
                "cell_id": payload.cell_id,
                "medium": payload.medium.value,
                "pollutant": payload.pollutant,
                "concentration": payload.concentration,
                "limit": payload.limit,
                "unit": payload.unit,
                "observed_hour": payload.observed_hour,
                "distance_m": distance_m,
            }
            for enterprise_id, distance_m in nearby
        ],
    )
