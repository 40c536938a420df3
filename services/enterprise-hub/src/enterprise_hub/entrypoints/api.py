"""REST API of enterprise-hub."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from city_common.auth import Principal, Role, require_roles
from city_common.geo import GeoPoint
from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep
from enterprise_hub.adapters import repository as repo
from enterprise_hub.domain.credit_code import defect
from enterprise_hub.domain.model import EnterpriseSize
from enterprise_hub.service_layer import handlers

router = APIRouter(prefix="", tags=["enterprise"])

# One vocabulary for an enterprise's industry and a policy's industries, e.g.
# "manufacturing", "chemicals", "tea_processing".
Industry = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
]

Reader = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.ENTERPRISE))]
# Registering enterprises and publishing policies is the departments' work.
Writer = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]


class EnterpriseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(strict=True, min_length=1, max_length=256)
    credit_code: str = Field(
        strict=True, description="Unified social credit code (GB 32100-2015), 18 characters"
    )
    industry: Industry
    size: EnterpriseSize
    location: GeoPoint

    @field_validator("credit_code")
    @classmethod
    def _valid_credit_code(cls, code: str) -> str:
        reason = defect(code)
        if reason is not None:
            raise ValueError(reason)
        return code


class EnterpriseRead(BaseModel):
    id: str
    name: str
    credit_code: str
    industry: str
    size: EnterpriseSize
    location: GeoPoint
    created_at: datetime


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(strict=True, min_length=1, max_length=256)
    department: str = Field(strict=True, min_length=1, max_length=128)
    industries: list[Industry] = Field(
        default_factory=list,
        max_length=50,
        description="Industries the policy applies to; empty applies to every industry",
    )
    summary: str = Field(strict=True, min_length=1, max_length=4000)

    @field_validator("industries")
    @classmethod
    def _each_industry_once(cls, industries: list[str]) -> list[str]:
        if len(set(industries)) != len(industries):
            raise ValueError("an industry is named more than once")
        return industries


class PolicyRead(BaseModel):
    id: str
    title: str
    department: str
    industries: list[str]
    summary: str
    published_at: datetime


class ComplianceNoticeRead(BaseModel):
    id: str
    enterprise_id: str
    enterprise_name: str
    exceedance_id: str
    cell_id: str
    medium: str
    pollutant: str
    concentration: float
    limit: float
    unit: str
    observed_hour: datetime
    distance_m: float
    issued_at: datetime


@router.post("/enterprises", status_code=status.HTTP_201_CREATED, response_model=EnterpriseRead)
async def register_enterprise(body: EnterpriseCreate, uow: UowDep, _: Writer) -> EnterpriseRead:
    """Register an enterprise; a credit code can be registered once."""
    enterprise = await handlers.register_enterprise(
        uow,
        name=body.name,
        credit_code=body.credit_code,
        industry=body.industry,
        size=body.size,
        location=body.location,
    )
    return EnterpriseRead.model_validate(enterprise)


@router.get("/enterprises", response_model=Page[EnterpriseRead])
async def list_enterprises(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    industry: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[EnterpriseRead]:
    items, total = await repo.list_enterprises(
        uow.session, industry=industry, limit=page.limit, offset=page.offset
    )
    return Page.of(EnterpriseRead, items, total=total, page=page)


@router.get("/enterprises/{enterprise_id}", response_model=EnterpriseRead)
async def get_enterprise(enterprise_id: str, uow: UowDep, _: Reader) -> EnterpriseRead:
    return EnterpriseRead.model_validate(await handlers.get_enterprise(uow, enterprise_id))


@router.get("/enterprises/{enterprise_id}/policies", response_model=Page[PolicyRead])
async def policies_for_enterprise(
    enterprise_id: str, uow: UowDep, page: PageDep, _: Reader
) -> Page[PolicyRead]:
    """The policies that apply to the enterprise's industry, newest first."""
    items, total = await handlers.policies_for_enterprise(
        uow, enterprise_id, limit=page.limit, offset=page.offset
    )
    return Page.of(PolicyRead, items, total=total, page=page)


@router.post("/policies", status_code=status.HTTP_201_CREATED, response_model=PolicyRead)
async def publish_policy(body: PolicyCreate, uow: UowDep, _: Writer) -> PolicyRead:
    """Publish a policy (tax relief, subsidy, ...) to the industries it names."""
    policy = await handlers.publish_policy(
        uow,
        title=body.title,
        department=body.department,
        industries=body.industries,
        summary=body.summary,
    )
    return PolicyRead.model_validate(policy)


@router.get("/policies", response_model=Page[PolicyRead])
async def list_policies(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    industry: Annotated[
        str | None, Query(max_length=64, description="Only policies that apply to it")
    ] = None,
    department: Annotated[str | None, Query(max_length=128)] = None,
) -> Page[PolicyRead]:
    items, total = await repo.list_policies(
        uow.session,
        applying_to=industry,
        department=department,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(PolicyRead, items, total=total, page=page)


@router.get("/compliance-notices", response_model=Page[ComplianceNoticeRead])
async def list_compliance_notices(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    enterprise_id: Annotated[str | None, Query(max_length=64)] = None,
    exceedance_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ComplianceNoticeRead]:
    """Enterprises asked to check their emissions after an exceedance nearby."""
    items, total = await repo.list_compliance_notices(
        uow.session,
        enterprise_id=enterprise_id,
        exceedance_id=exceedance_id,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(ComplianceNoticeRead, items, total=total, page=page)
