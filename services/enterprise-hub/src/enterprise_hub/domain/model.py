"""Enterprises, the policies that apply to them, and who hears of a nearby exceedance.

Pure logic, no I/O.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum


class EnterpriseSize(StrEnum):
    """The National Bureau of Statistics size classes of enterprises."""

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


# Enterprises this close to a monitoring station that recorded an exceedance are
# asked to check their own emissions and discharges.
COMPLIANCE_RADIUS_M = 1_000.0


def policy_applies(policy_industries: Collection[str], industry: str) -> bool:
    """A policy applies to the industries it names; one that names none applies to all."""
    return not policy_industries or industry in policy_industries
