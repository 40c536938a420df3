"""Which policies apply to an enterprise."""

from __future__ import annotations

from enterprise_hub.domain.model import COMPLIANCE_RADIUS_M, policy_applies


def test_a_policy_applies_to_the_industries_it_names() -> None:
    assert policy_applies(["manufacturing", "chemicals"], "chemicals")
    assert not policy_applies(["manufacturing", "chemicals"], "tea_processing")


def test_a_policy_naming_no_industry_applies_to_all() -> None:
    assert policy_applies([], "tea_processing")
    assert policy_applies((), "chemicals")


def test_industries_match_exactly() -> None:
    assert not policy_applies(["chemicals"], "chemical")
    assert not policy_applies(["chemicals"], "Chemicals")


def test_compliance_radius_is_one_kilometre() -> None:
    assert COMPLIANCE_RADIUS_M == 1_000
