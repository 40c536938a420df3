"""Resident identity numbers (GB 11643-1999) and the masking of personal data. Pure, no I/O.

A resident identity number has 18 characters: a 6-digit area code, the birth date
as YYYYMMDD, a 3-digit sequence (odd for men, even for women) and a check
character computed with ISO 7064 MOD 11-2 over the first 17 digits.

Masking is what every response shows instead of the personal value:

- identity numbers keep the first 3 digits of the area code (the prefecture or
  municipality, 500 for Chongqing) and the last 2 characters, ``500*************1X``.
  The birth date is never shown. Keeping the usual "first 6 and last 4" would hide
  only the birth date: with the check character, a person's county and a rough
  age narrow it to a few hundred candidates, so the mask would barely protect;
- names keep the first character (the surname in most Chinese names), ``张**``;
- mobile numbers keep the network prefix and the last 4 digits, ``138****5678``;
  landline numbers keep the area code and the last 2 digits, ``023-******78``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

LENGTH = 18
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character for R = Σ(digit × weight) mod 11, R = 0..10.
CHECK_CHARACTERS = "10X98765432"
# The earliest birth date accepted: no living resident was born earlier, and it
# rules out typos such as 0985 for 1985 that would otherwise parse as a real date.
EARLIEST_BIRTH = date(1850, 1, 1)

MASK = "*"
_SHOWN_HEAD = 3
_SHOWN_TAIL = 2

_DIGITS17 = re.compile(r"[0-9]{17}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Mainland area codes: 010 and 020-029 have three digits, all others four.
_LANDLINE = re.compile(r"(0[12][0-9]|0[3-9][0-9]{2})-?([0-9]{7,8})")


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class InvalidResidentId(ValueError):  # noqa: N818 - reads as what the number is
    """Raised for a number that is not a valid GB 11643-1999 identity number."""


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A validated identity number and what can be read from it."""

    number: str
    area_code: str
    birth_date: date
    sequence: str
    sex: Sex

    @property
    def masked(self) -> str:
        return mask_resident_id(self.number)


def normalise_resident_id(raw: str) -> str:
    """The canonical spelling: no surrounding blanks, a lower-case x as X."""
    return raw.strip().upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    if not _DIGITS17.fullmatch(first17):
        raise ValueError("the check character is computed over exactly 17 digits")
    remainder = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11
    return CHECK_CHARACTERS[remainder]


def parse_resident_id(raw: str, *, today: date) -> ResidentId:
    """Validate ``raw`` (GB 11643-1999) and read it; raises :class:`InvalidResidentId`."""
    number = normalise_resident_id(raw)
    if len(number) != LENGTH:
        raise InvalidResidentId(f"an identity number has {LENGTH} characters, not {len(number)}")
    first17, last = number[:17], number[17]
    if not _DIGITS17.fullmatch(first17) or not (last.isdigit() or last == "X"):
        raise InvalidResidentId("an identity number is 17 digits and a digit or X")
    if number[0] == "0":
        raise InvalidResidentId("no area code starts with 0")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise InvalidResidentId("the birth date (characters 7 to 14) is not a date") from exc
    if born > today:
        raise InvalidResidentId("the birth date (characters 7 to 14) lies in the future")
    if born < EARLIEST_BIRTH:
        raise InvalidResidentId(
            f"the birth date (characters 7 to 14) is before {EARLIEST_BIRTH.year}"
        )
    if last != check_character(first17):
        # Never echo the number or the expected character: the message reaches logs
        # and clients, and the expected character would complete a guessed number.
        raise InvalidResidentId("the check character does not match the first 17 digits")
    sequence = number[14:17]
    return ResidentId(
        number=number,
        area_code=number[:6],
        birth_date=born,
        sequence=sequence,
        sex=Sex.MALE if int(sequence[-1]) % 2 else Sex.FEMALE,
    )


def resident_id_defect(raw: str, *, today: date) -> str | None:
    """Why ``raw`` is not a valid identity number, or None when it is."""
    try:
        parse_resident_id(raw, today=today)
    except InvalidResidentId as exc:
        return str(exc)
    return None


def mask_resident_id(number: str) -> str:
    """``500*************1X``: the first 3 and the last 2 characters, never the birth date."""
    number = normalise_resident_id(number)
    if len(number) <= _SHOWN_HEAD + _SHOWN_TAIL:
        return MASK * len(number)
    hidden = len(number) - _SHOWN_HEAD - _SHOWN_TAIL
    return number[:_SHOWN_HEAD] + MASK * hidden + number[-_SHOWN_TAIL:]


def normalise_name(raw: str) -> str:
    """Collapse runs of blanks; names are compared and fingerprinted in this form."""
    return " ".join(raw.split())


def mask_name(name: str) -> str:
    """``张**``: the first character, then one mask per further character (at least one)."""
    name = normalise_name(name)
    if not name:
        return ""
    return name[0] + MASK * max(1, len(name) - 1)


class InvalidPhone(ValueError):  # noqa: N818
    """Raised for a number that is neither a mainland mobile nor a landline number."""


def normalise_phone(raw: str) -> str:
    """Digits (and the area-code dash of a landline); blanks, dashes and +86 removed."""
    compact = re.sub(r"\s", "", raw)
    compact = re.sub(r"^\((0[0-9]{2,3})\)", r"\1-", compact)
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("0086"):
        compact = compact[4:]
    if _MOBILE.fullmatch(compact.replace("-", "")):
        return compact.replace("-", "")
    landline = _LANDLINE.fullmatch(compact)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    raise InvalidPhone("a phone number is an 11-digit mobile or a landline with its area code")


def mask_phone(phone: str) -> str:
    """``138****5678`` for a mobile, ``023-******78`` for a landline."""
    number = normalise_phone(phone)
    if "-" in number:
        area, local = number.split("-")
        return f"{area}-{MASK * (len(local) - 2)}{local[-2:]}"
    return number[:3] + MASK * 4 + number[-4:]
