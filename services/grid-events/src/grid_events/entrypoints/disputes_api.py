"""REST API of disputes: registration, mediation sessions, outcome, follow-up.

Parties' names and phone numbers are answered masked (``张**``, ``138****5678``),
always; nothing in this API reads them back in the clear.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep
from city_common.web.problems import validation_failed
from grid_events.adapters import disputes_repo as repo
from grid_events.domain.disputes import (
    DisputeKind,
    DisputeStatus,
    Outcome,
    PartyRole,
    ReferralTarget,
    SessionOutcome,
)
from grid_events.entrypoints.deps import CipherDep, Collector, Reader, TodayDep
from grid_events.service_layer import disputes as handlers

router = APIRouter(prefix="", tags=["disputes"])

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
IdQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Text = Annotated[str, Field(strict=True, min_length=1, max_length=4000)]


class PartyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: PartyRole
    name: str = Field(strict=True, min_length=1, max_length=64)
    phone: str | None = Field(default=None, strict=True, min_length=1, max_length=32)


class DisputeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DisputeKind
    cell_id: Identifier
    summary: str = Field(strict=True, min_length=1, max_length=2000)
    mediator_id: Identifier | None = Field(
        default=None, description="The mediating grid worker or mediator (a person id)"
    )
    parties: list[PartyCreate] = Field(min_length=1, max_length=50)


class DisputeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DisputeKind | None = None
    summary: str | None = Field(default=None, strict=True, min_length=1, max_length=2000)
    mediator_id: Identifier | None = None


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: date
    notes: Text
    outcome: SessionOutcome
    mediator_id: Identifier | None = Field(
        default=None, description="Default: the dispute's mediator"
    )


class AgreementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    agreed_on: date


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: ReferralTarget
    body: str = Field(
        strict=True, min_length=1, max_length=128, description="e.g. 永川区人民法院, transport"
    )
    reason: str = Field(strict=True, min_length=1, max_length=2000)
    referred_on: date


class FollowUpCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    followed_up_on: date
    note: str = Field(strict=True, min_length=1, max_length=2000)


class PartyRead(BaseModel):
    id: int
    role: PartyRole
    name_masked: str
    phone_masked: str | None


class SessionRead(BaseModel):
    id: int
    held_on: date
    mediator_id: str
    notes: str
    outcome: SessionOutcome
    recorded_by: str
    recorded_at: datetime


class FollowUpRead(BaseModel):
    id: int
    followed_up_on: date
    note: str
    recorded_by: str
    recorded_at: datetime


class DisputeRead(BaseModel):
    id: str
    kind: DisputeKind
    status: DisputeStatus
    cell_id: str
    summary: str
    mediator_id: str | None
    registered_by: str
    registered_at: datetime
    updated_at: datetime
    outcome: Outcome | None
    outcome_on: date | None
    agreement_text: str | None
    referred_to: ReferralTarget | None
    referred_body: str | None
    referral_reason: str | None
    closed_at: datetime | None


class DisputeDetail(DisputeRead):
    parties: list[PartyRead]
    sessions: list[SessionRead]
    follow_ups: list[FollowUpRead]


@router.post("/disputes", status_code=status.HTTP_201_CREATED, response_model=DisputeDetail)
async def register_dispute(
    body: DisputeCreate, uow: UowDep, cipher: CipherDep, principal: Collector
) -> DisputeDetail:
    """Register a dispute brought to the grid, with its parties (stored sealed)."""
    dispute = await handlers.register(
        uow,
        cipher,
        kind=body.kind,
        cell_id=body.cell_id,
        summary=body.summary,
        mediator_id=body.mediator_id,
        parties=[handlers.PartyInput(p.role, p.name, p.phone) for p in body.parties],
        registered_by=principal.subject,
    )
    return DisputeDetail.model_validate(dispute)


@router.get("/disputes", response_model=Page[DisputeRead])
async def list_disputes(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    status_: Annotated[list[DisputeStatus] | None, Query(alias="status")] = None,
    kind: Annotated[list[DisputeKind] | None, Query()] = None,
    cell_id: IdQuery = None,
    mediator_id: IdQuery = None,
    registered_from: datetime | None = None,
    registered_to: datetime | None = None,
) -> Page[DisputeRead]:
    """Disputes, newest first; repeat ``status`` or ``kind`` for several."""
    if registered_from and registered_to and registered_from >= registered_to:
        raise validation_failed("query.registered_from", "must be before registered_to")
    items, total = await repo.list_disputes(
        uow.session,
        statuses=[s.value for s in status_ or ()],
        kinds=[k.value for k in kind or ()],
        cell_id=cell_id,
        mediator_id=mediator_id,
        registered_from=registered_from,
        registered_to=registered_to,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(DisputeRead, items, total=total, page=page)


@router.get("/disputes/{dispute_id}", response_model=DisputeDetail)
async def get_dispute(dispute_id: str, uow: UowDep, _: Reader) -> DisputeDetail:
    return DisputeDetail.model_validate(await handlers.get(uow, dispute_id))


@router.patch("/disputes/{dispute_id}", response_model=DisputeDetail)
async def edit_dispute(
    dispute_id: str, body: DisputeUpdate, uow: UowDep, _: Collector
) -> DisputeDetail:
    """Correct the kind or summary, or assign the mediator (not once closed)."""
    changes = body.model_dump(exclude_unset=True)
    for field in ("kind", "summary"):
        if field in changes and changes[field] is None:
            raise validation_failed(f"body.{field}", "cannot be removed")
    dispute = await handlers.edit(uow, dispute_id, changes)
    return DisputeDetail.model_validate(dispute)


@router.delete("/disputes/{dispute_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_dispute(dispute_id: str, uow: UowDep, _: Collector) -> Response:
    """Remove a dispute registered by mistake (only while nothing was recorded on it)."""
    await handlers.delete(uow, dispute_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/disputes/{dispute_id}/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputeDetail,
)
async def record_session(
    dispute_id: str, body: SessionCreate, uow: UowDep, today: TodayDep, principal: Collector
) -> DisputeDetail:
    """A mediation session held (the first moves the dispute to ``mediating``)."""
    dispute = await handlers.record_session(
        uow,
        dispute_id,
        held_on=body.held_on,
        notes=body.notes,
        outcome=body.outcome,
        mediator_id=body.mediator_id,
        today=today,
        actor=principal.subject,
    )
    return DisputeDetail.model_validate(dispute)


@router.post("/disputes/{dispute_id}/agreement", response_model=DisputeDetail)
async def record_agreement(
    dispute_id: str, body: AgreementCreate, uow: UowDep, today: TodayDep, _: Collector
) -> DisputeDetail:
    """The mediated agreement (needs a session whose outcome was ``agreed``)."""
    dispute = await handlers.record_agreement(
        uow, dispute_id, text=body.text, agreed_on=body.agreed_on, today=today
    )
    return DisputeDetail.model_validate(dispute)


@router.post("/disputes/{dispute_id}/referral", response_model=DisputeDetail)
async def record_referral(
    dispute_id: str, body: ReferralCreate, uow: UowDep, today: TodayDep, _: Collector
) -> DisputeDetail:
    """Refer the dispute to a court, an arbitration committee or a department."""
    dispute = await handlers.record_referral(
        uow,
        dispute_id,
        to=body.to,
        body=body.body,
        reason=body.reason,
        referred_on=body.referred_on,
        today=today,
    )
    return DisputeDetail.model_validate(dispute)


@router.post(
    "/disputes/{dispute_id}/follow-ups",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputeDetail,
)
async def record_follow_up(
    dispute_id: str, body: FollowUpCreate, uow: UowDep, today: TodayDep, principal: Collector
) -> DisputeDetail:
    """A follow-up visit after the agreement or referral."""
    dispute = await handlers.record_follow_up(
        uow,
        dispute_id,
        on=body.followed_up_on,
        note=body.note,
        today=today,
        actor=principal.subject,
    )
    return DisputeDetail.model_validate(dispute)


@router.post("/disputes/{dispute_id}/close", response_model=DisputeDetail)
async def close_dispute(dispute_id: str, uow: UowDep, _: Collector) -> DisputeDetail:
    """Close a dispute once it has been followed up."""
    return DisputeDetail.model_validate(await handlers.close(uow, dispute_id))
