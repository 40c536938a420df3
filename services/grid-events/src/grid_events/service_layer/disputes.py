"""Use cases of disputes: register, mediate, agree or refer, follow up, close.

Each takes a unit of work and commits or not at all. The parties' names and phone
numbers are sealed (AES-GCM, bound to the dispute and party) and only their masked
forms are ever read back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.web.problems import conflict, not_found, validation_failed
from grid_events.adapters import disputes_repo as repo
from grid_events.adapters import repository as cells
from grid_events.adapters.crypto import PiiCipher
from grid_events.domain.disputes import (
    DisputeAction,
    DisputeKind,
    DisputeStatus,
    DisputeTransitionError,
    Outcome,
    PartyRole,
    ReferralTarget,
    SessionOutcome,
    check_after,
    check_agreement,
    check_not_future,
    next_status,
)
from grid_events.domain.identity import (
    InvalidPhone,
    mask_name,
    mask_phone,
    normalise_name,
    normalise_phone,
)
from grid_events.domain.model import CHINA_STANDARD_TIME


@dataclass(frozen=True, slots=True)
class PartyInput:
    role: PartyRole
    name: str
    phone: str | None


def _context(dispute_id: str, index: int, field: str) -> bytes:
    # Binds a ciphertext to its row: one party's sealed name cannot be pasted on another.
    return f"dispute:{dispute_id}:{index}:{field}".encode()


async def _existing(uow: UnitOfWork, dispute_id: str) -> dict[str, Any]:
    dispute = await repo.get_dispute(uow.session, dispute_id, for_update=True)
    if dispute is None:
        raise not_found("dispute", dispute_id)
    return dispute


def _advance(dispute: dict[str, Any], action: DisputeAction) -> DisputeStatus:
    try:
        return next_status(DisputeStatus(dispute["status"]), action)
    except DisputeTransitionError as exc:
        raise conflict(str(exc)) from None


def _registered_on(dispute: dict[str, Any]) -> date:
    # The district's date: a dispute registered at 07:00 in Yongchuan is still
    # "yesterday" in UTC.
    registered: datetime = dispute["registered_at"]
    return registered.astimezone(CHINA_STANDARD_TIME).date()


def _not_future(day: date, today: date, field: str) -> None:
    defect = check_not_future(day, today, field.rsplit(".", 1)[-1])
    if defect:
        raise validation_failed(field, defect)


async def register(
    uow: UnitOfWork,
    cipher: PiiCipher,
    *,
    kind: DisputeKind,
    cell_id: str,
    summary: str,
    mediator_id: str | None,
    parties: Sequence[PartyInput],
    registered_by: str,
) -> dict[str, Any]:
    """Register a dispute in a cell with its parties."""
    if not await cells.cell_exists(uow.session, cell_id):
        raise validation_failed(
            "body.cell_id", f"grid cell {cell_id!r} does not exist", code="unknown_reference"
        )
    dispute_id = f"dsp-{uuid.uuid4().hex[:16]}"
    sealed = []
    for index, party in enumerate(parties):
        name = normalise_name(party.name)
        if not name:
            raise validation_failed(f"body.parties.{index}.name", "must not be blank")
        phone = None
        if party.phone is not None:
            try:
                phone = normalise_phone(party.phone)
            except InvalidPhone as exc:
                raise validation_failed(f"body.parties.{index}.phone", str(exc)) from None
        sealed.append(
            {
                "dispute_id": dispute_id,
                "role": party.role.value,
                "name_ciphertext": cipher.encrypt(
                    name, context=_context(dispute_id, index, "name")
                ),
                "name_masked": mask_name(name),
                "phone_ciphertext": (
                    cipher.encrypt(phone, context=_context(dispute_id, index, "phone"))
                    if phone
                    else None
                ),
                "phone_masked": mask_phone(phone) if phone else None,
            }
        )
    await repo.add_dispute(
        uow.session,
        id=dispute_id,
        kind=kind.value,
        status=DisputeStatus.REGISTERED.value,
        cell_id=cell_id,
        summary=summary,
        mediator_id=mediator_id,
        registered_by=registered_by[:128],
    )
    for row in sealed:
        await repo.add_party(uow.session, **row)
    detail = await _detail(uow, dispute_id)
    await uow.commit()
    return detail


async def _detail(uow: UnitOfWork, dispute_id: str) -> dict[str, Any]:
    dispute = await repo.get_dispute(uow.session, dispute_id)
    if dispute is None:
        raise not_found("dispute", dispute_id)
    dispute["parties"] = await repo.parties_of(uow.session, dispute_id)
    dispute["sessions"] = await repo.sessions_of(uow.session, dispute_id)
    dispute["follow_ups"] = await repo.follow_ups_of(uow.session, dispute_id)
    return dispute


async def get(uow: UnitOfWork, dispute_id: str) -> dict[str, Any]:
    """A dispute with its (masked) parties, sessions and follow-ups."""
    return await _detail(uow, dispute_id)


async def edit(uow: UnitOfWork, dispute_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Correct the summary or kind, or (re)assign the mediator, of an unclosed dispute."""
    dispute = await _existing(uow, dispute_id)
    _advance(dispute, DisputeAction.EDIT)
    values = {k: (v.value if isinstance(v, DisputeKind) else v) for k, v in changes.items()}
    if values:
        await repo.update_dispute(uow.session, dispute_id, **values)
    detail = await _detail(uow, dispute_id)
    await uow.commit()
    return detail


async def delete(uow: UnitOfWork, dispute_id: str) -> None:
    """Remove a dispute registered by mistake, before any session."""
    dispute = await _existing(uow, dispute_id)
    _advance(dispute, DisputeAction.DELETE)
    await repo.delete_dispute(uow.session, dispute_id)
    await uow.commit()


async def record_session(
    uow: UnitOfWork,
    dispute_id: str,
    *,
    held_on: date,
    notes: str,
    outcome: SessionOutcome,
    mediator_id: str | None,
    today: date,
    actor: str,
) -> dict[str, Any]:
    """A mediation session held; the first one starts the mediation."""
    dispute = await _existing(uow, dispute_id)
    status = _advance(dispute, DisputeAction.SESSION)
    _not_future(held_on, today, "body.held_on")
    mediator = mediator_id or dispute["mediator_id"]
    if mediator is None:
        raise validation_failed("body.mediator_id", "the dispute has no mediator: name one")
    defect = check_after(held_on, _registered_on(dispute), "held_on", "registration")
    if defect:
        raise validation_failed("body.held_on", defect)
    await repo.add_session(
        uow.session,
        dispute_id=dispute_id,
        held_on=held_on,
        mediator_id=mediator,
        notes=notes,
        outcome=outcome.value,
        recorded_by=actor[:128],
    )
    await repo.update_dispute(
        uow.session, dispute_id, status=status.value, mediator_id=dispute["mediator_id"] or mediator
    )
    detail = await _detail(uow, dispute_id)
    await uow.commit()
    return detail


async def record_agreement(
    uow: UnitOfWork, dispute_id: str, *, text: str, agreed_on: date, today: date
) -> dict[str, Any]:
    """The parties' agreement: the dispute is resolved."""
    dispute = await _existing(uow, dispute_id)
    status = _advance(dispute, DisputeAction.AGREEMENT)
    _not_future(agreed_on, today, "body.agreed_on")
    sessions = await repo.sessions_of(uow.session, dispute_id)
    defect = check_agreement([SessionOutcome(s["outcome"]) for s in sessions])
    if defect:
        raise conflict(defect)
    first = min(s["held_on"] for s in sessions)
    defect = check_after(agreed_on, first, "agreed_on", "first session")
    if defect:
        raise validation_failed("body.agreed_on", defect)
    await repo.update_dispute(
        uow.session,
        dispute_id,
        status=status.value,
        outcome=Outcome.AGREEMENT.value,
        outcome_on=agreed_on,
        agreement_text=text,
    )
    detail = await _detail(uow, dispute_id)
    await uow.commit()
    return detail


async def record_referral(
    uow: UnitOfWork,
    dispute_id: str,
    *,
    to: ReferralTarget,
    body: str,
    reason: str,
    referred_on: date,
    today: date,
) -> dict[str, Any]:
    """The dispute goes to a court, an arbitration committee or a department."""
    dispute = await _existing(uow, dispute_id)
    status = _advance(dispute, DisputeAction.REFERRAL)
    _not_future(referred_on, today, "body.referred_on")
    defect = check_after(referred_on, _registered_on(dispute), "referred_on", "registration")
    if defect:
        raise validation_failed("body.referred_on", defect)
    await repo.update_dispute(
        uow.session,
        dispute_id,
        status=status.value,
        outcome=Outcome.REFERRAL.value,
        outcome_on=referred_on,
        referred_to=to.value,
        referred_body=body,
        referral_reason=reason,
    )
    detail = await _detail(uow, dispute_id)
    await uow.commit()
    return detail


async def record_follow_up(
    uow: UnitOfWork, dispute_id: str, *, on: date, note: str, today: date, actor: str
) -> dict[str, Any]:
    """A visit after the outcome: is the agreement kept, did the referral go ahead?"""
    dispute = await _existing(uow, dispute_id)
    status = _advance(dispute, DisputeAction.FOLLOW_UP)
    _not_future(on, today, "body.followed_up_on")
    defect = check_after(on, dispute["outcome_on"], "followed_up_on", "outcome")
    if defect:
        raise validation_failed("body.followed_up_on", defect)
    await repo.add_follow_up(
        uow.session, dispute_id=dispute_id, followed_up_on=on, note=note, recorded_by=actor[:128]
    )
    await repo.update_dispute(uow.session, dispute_id, status=status.value)
    detail = await _detail(uow, dispute_id)
    await uow.commit()
    return detail


async def close(uow: UnitOfWork, dispute_id: str) -> dict[str, Any]:
    dispute = await _existing(uow, dispute_id)
    status = _advance(dispute, DisputeAction.CLOSE)
    await repo.close_dispute(uow.session, dispute_id, status=status.value)
    detail = await _detail(uow, dispute_id)
    await uow.commit()
    return detail
