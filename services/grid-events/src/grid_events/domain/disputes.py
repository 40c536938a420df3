"""Disputes: mediated by the grid, recorded as their own kind of case. Pure logic, no I/O.

A dispute is registered with its parties, mediated in one or more sessions, and
ends in an agreement or a referral (to a court or a department); the grid then
follows up on it before closing it::

    registered ──> mediating ──> agreed ───┐
        │              │                    ├──> followed_up ──> closed
        └──────────────┴───────> referred ─┘

A dispute counts as *resolved* (the seed's "1,188 disputes resolved") when the
parties reached an agreement, whatever happened after.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class DisputeKind(StrEnum):
    NEIGHBOUR = "neighbour"
    FAMILY = "family"
    MARRIAGE = "marriage"
    INHERITANCE = "inheritance"
    LAND = "land"
    HOUSING = "housing"
    LABOUR = "labour"
    CONSUMER = "consumer"
    PROPERTY_MANAGEMENT = "property_management"
    TRAFFIC = "traffic"
    OTHER = "other"


class DisputeStatus(StrEnum):
    REGISTERED = "registered"
    MEDIATING = "mediating"
    AGREED = "agreed"
    REFERRED = "referred"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"


class PartyRole(StrEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    THIRD_PARTY = "third_party"


class SessionOutcome(StrEnum):
    CONTINUED = "continued"  # another session is needed
    AGREED = "agreed"  # the parties agreed; the agreement is recorded next
    FAILED = "failed"  # mediation failed; a referral is recorded next


class ReferralTarget(StrEnum):
    COURT = "court"
    DEPARTMENT = "department"
    ARBITRATION = "arbitration"


class Outcome(StrEnum):
    AGREEMENT = "agreement"
    REFERRAL = "referral"


class DisputeAction(StrEnum):
    SESSION = "session"
    AGREEMENT = "agreement"
    REFERRAL = "referral"
    FOLLOW_UP = "follow_up"
    CLOSE = "close"
    EDIT = "edit"
    DELETE = "delete"


# Which statuses each action may be taken in, and where it leads (None: stays).
_RULES: dict[DisputeAction, tuple[frozenset[DisputeStatus], DisputeStatus | None]] = {
    DisputeAction.SESSION: (
        frozenset({DisputeStatus.REGISTERED, DisputeStatus.MEDIATING}),
        DisputeStatus.MEDIATING,
    ),
    DisputeAction.AGREEMENT: (frozenset({DisputeStatus.MEDIATING}), DisputeStatus.AGREED),
    # A dispute may go to court without mediation (a party refuses it).
    DisputeAction.REFERRAL: (
        frozenset({DisputeStatus.REGISTERED, DisputeStatus.MEDIATING}),
        DisputeStatus.REFERRED,
    ),
    # A second follow-up visit is recorded too; the status stays followed_up.
    DisputeAction.FOLLOW_UP: (
        frozenset({DisputeStatus.AGREED, DisputeStatus.REFERRED, DisputeStatus.FOLLOWED_UP}),
        DisputeStatus.FOLLOWED_UP,
    ),
    DisputeAction.CLOSE: (frozenset({DisputeStatus.FOLLOWED_UP}), DisputeStatus.CLOSED),
    DisputeAction.EDIT: (frozenset(DisputeStatus) - {DisputeStatus.CLOSED}, None),
    # Only a dispute registered by mistake, before anything happened on it.
    DisputeAction.DELETE: (frozenset({DisputeStatus.REGISTERED}), None),
}


class DisputeTransitionError(ValueError):
    """The action is not allowed in the dispute's current status."""


def next_status(current: DisputeStatus, action: DisputeAction) -> DisputeStatus:
    """The status after ``action``, or DisputeTransitionError naming what is allowed."""
    allowed, target = _RULES[action]
    if current not in allowed:
        raise DisputeTransitionError(
            f"cannot record {action.value.replace('_', ' ')} on a {current.value} dispute "
            f"(allowed when {', '.join(sorted(s.value for s in allowed))})"
        )
    return target or current


def check_not_future(day: date, today: date, field: str) -> str | None:
    """Sessions, agreements and referrals are recorded after they happen."""
    if day > today:
        return f"{field} {day.isoformat()} is in the future"
    return None


def check_agreement(session_outcomes: list[SessionOutcome]) -> str | None:
    """An agreement needs a session in which the parties agreed."""
    if SessionOutcome.AGREED not in session_outcomes:
        return "record the mediation session in which the parties agreed first"
    return None


def is_resolved(outcome: Outcome | None) -> bool:
    return outcome is Outcome.AGREEMENT


def check_after(day: date, earlier: date | None, field: str, what: str) -> str | None:
    """A step cannot predate the one it follows (a follow-up before the agreement)."""
    if earlier is not None and day < earlier:
        return f"{field} {day.isoformat()} is before the {what} ({earlier.isoformat()})"
    return None
