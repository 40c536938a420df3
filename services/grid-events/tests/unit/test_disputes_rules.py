"""The dispute lifecycle: which step is allowed when."""

from __future__ import annotations

from datetime import date

import pytest

from grid_events.domain.disputes import (
    DisputeAction,
    DisputeStatus,
    DisputeTransitionError,
    Outcome,
    SessionOutcome,
    check_after,
    check_agreement,
    check_not_future,
    is_resolved,
    next_status,
)

S, A = DisputeStatus, DisputeAction


@pytest.mark.parametrize(
    ("current", "action", "after"),
    [
        (S.REGISTERED, A.SESSION, S.MEDIATING),
        (S.MEDIATING, A.SESSION, S.MEDIATING),
        (S.MEDIATING, A.AGREEMENT, S.AGREED),
        (S.MEDIATING, A.REFERRAL, S.REFERRED),
        (S.REGISTERED, A.REFERRAL, S.REFERRED),
        (S.AGREED, A.FOLLOW_UP, S.FOLLOWED_UP),
        (S.REFERRED, A.FOLLOW_UP, S.FOLLOWED_UP),
        (S.FOLLOWED_UP, A.FOLLOW_UP, S.FOLLOWED_UP),
        (S.FOLLOWED_UP, A.CLOSE, S.CLOSED),
        (S.AGREED, A.EDIT, S.AGREED),
    ],
)
def test_allowed_steps(current: DisputeStatus, action: DisputeAction, after: DisputeStatus) -> None:
    assert next_status(current, action) is after


@pytest.mark.parametrize(
    ("current", "action"),
    [
        (S.REGISTERED, A.AGREEMENT),  # no mediation yet
        (S.AGREED, A.SESSION),
        (S.AGREED, A.REFERRAL),
        (S.REGISTERED, A.FOLLOW_UP),
        (S.AGREED, A.CLOSE),  # not followed up yet
        (S.CLOSED, A.EDIT),
        (S.CLOSED, A.FOLLOW_UP),
        (S.MEDIATING, A.DELETE),
    ],
)
def test_refused_steps_say_what_is_allowed(current: DisputeStatus, action: DisputeAction) -> None:
    with pytest.raises(DisputeTransitionError, match="allowed when"):
        next_status(current, action)


def test_an_agreement_needs_an_agreed_session() -> None:
    assert check_agreement([SessionOutcome.CONTINUED, SessionOutcome.FAILED]) is not None
    assert check_agreement([SessionOutcome.CONTINUED, SessionOutcome.AGREED]) is None


def test_dates() -> None:
    today = date(2026, 11, 24)
    assert check_not_future(date(2026, 11, 25), today, "held_on") is not None
    assert check_not_future(today, today, "held_on") is None
    assert check_after(date(2026, 11, 1), date(2026, 11, 2), "x", "outcome") is not None
    assert check_after(date(2026, 11, 2), None, "x", "outcome") is None


def test_only_agreements_count_as_resolved() -> None:
    assert is_resolved(Outcome.AGREEMENT)
    assert not is_resolved(Outcome.REFERRAL) and not is_resolved(None)
