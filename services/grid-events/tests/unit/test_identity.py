"""GB 11643-1999 identity numbers and the masks of personal data, without I/O."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from grid_events.domain.identity import (
    CHECK_CHARACTERS,
    WEIGHTS,
    InvalidPhone,
    InvalidResidentId,
    Sex,
    check_character,
    mask_name,
    mask_phone,
    mask_resident_id,
    normalise_phone,
    parse_resident_id,
    resident_id_defect,
)

TODAY = date(2026, 11, 23)
YONGCHUAN = "500118"


def make_id(area: str, born: date, sequence: int) -> str:
    """A number built with the standard's algorithm, independently of the module."""
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def with_check(first17: str, check: str) -> str:
    """A number whose first 17 digits give ``check``, found by varying the sequence."""
    for seq in range(1000):
        candidate = make_id(first17[:6], date(1985, 6, 15), seq)
        if candidate[-1] == check:
            return candidate
    raise AssertionError("no sequence gives that check character")


def test_the_standards_own_examples() -> None:
    # The two examples printed in GB 11643-1999, one of them ending in X.
    assert parse_resident_id("11010519491231002X", today=TODAY).sex is Sex.FEMALE
    parsed = parse_resident_id("440524188001010014", today=TODAY)
    assert parsed.birth_date == date(1880, 1, 1) and parsed.sex is Sex.MALE


def test_weights_and_check_table() -> None:
    assert WEIGHTS == tuple(2 ** (17 - i) % 11 for i in range(17)), "weights are 2^(i-1) mod 11"
    assert CHECK_CHARACTERS == "10X98765432"
    # MOD 11-2: the 18 characters, the check counted as 10 for X, sum to 1 mod 11.
    for seq in range(0, 1000, 37):
        number = make_id(YONGCHUAN, date(1990, 2, 28), seq)
        check = 10 if number[-1] == "X" else int(number[-1])
        assert (sum(int(d) * w for d, w in zip(number, WEIGHTS, strict=False)) + check) % 11 == 1


@pytest.mark.parametrize("check", list("0123456789X"))
def test_every_check_character_including_x(check: str) -> None:
    number = with_check(YONGCHUAN, check)
    assert number[-1] == check
    assert check_character(number[:17]) == check
    assert parse_resident_id(number, today=TODAY).number == number


def test_a_lower_case_x_and_blanks_are_normalised() -> None:
    number = with_check(YONGCHUAN, "X")
    parsed = parse_resident_id(f"  {number[:-1]}x ", today=TODAY)
    assert parsed.number == number


def test_what_the_number_says() -> None:
    number = make_id(YONGCHUAN, date(1972, 3, 9), 457)
    parsed = parse_resident_id(number, today=TODAY)
    assert parsed.area_code == YONGCHUAN
    assert parsed.birth_date == date(1972, 3, 9)
    assert parsed.sequence == "457" and parsed.sex is Sex.MALE
    assert parse_resident_id(make_id(YONGCHUAN, date(1972, 3, 9), 458), today=TODAY).sex is (
        Sex.FEMALE
    )


@pytest.mark.parametrize("wrong", [d for d in "0123456789X"])
def test_every_wrong_check_character_is_refused(wrong: str) -> None:
    number = make_id(YONGCHUAN, date(2001, 12, 31), 12)
    if wrong == number[-1]:
        return
    with pytest.raises(InvalidResidentId, match="check character"):
        parse_resident_id(number[:-1] + wrong, today=TODAY)


def test_a_swapped_pair_of_digits_is_caught() -> None:
    number = make_id(YONGCHUAN, date(1985, 6, 15), 123)
    swapped = number[:14] + number[15] + number[14] + number[16:]
    assert swapped != number
    assert resident_id_defect(swapped, today=TODAY) is not None


@pytest.mark.parametrize(
    ("first17", "reason"),
    [
        (f"{YONGCHUAN}19850230123", "not a date"),  # 30 February
        (f"{YONGCHUAN}19851301123", "not a date"),  # month 13
        (f"{YONGCHUAN}19850000123", "not a date"),
        (f"{YONGCHUAN}20261124123", "future"),  # the day after TODAY
        (f"{YONGCHUAN}08850615123", "before"),  # 0885: a typo for 1985
    ],
)
def test_the_birth_date_must_be_a_real_past_date(first17: str, reason: str) -> None:
    # Give each a correct check character, so that only the date is wrong.
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    number = first17 + CHECK_CHARACTERS[total % 11]
    with pytest.raises(InvalidResidentId, match=reason):
        parse_resident_id(number, today=TODAY)


def test_born_today_and_on_29_february_are_fine() -> None:
    assert parse_resident_id(make_id(YONGCHUAN, TODAY, 1), today=TODAY)
    assert parse_resident_id(make_id(YONGCHUAN, date(2000, 2, 29), 1), today=TODAY)
    tomorrow = TODAY + timedelta(days=1)
    assert "future" in (resident_id_defect(make_id(YONGCHUAN, tomorrow, 1), today=TODAY) or "")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "5001181985061512",  # 16 characters
        "5001181985061512345",  # 19
        "50011819850615123A",  # A is no check character
        "5001181985O615123X",  # a letter O among the digits
        "0" + make_id(YONGCHUAN, date(1985, 6, 15), 1)[1:],  # area code 0…
        "５００１１８１９８５０６１５１２３X",  # full-width digits are not ASCII digits
    ],
)
def test_malformed_numbers(raw: str) -> None:
    assert resident_id_defect(raw, today=TODAY) is not None


def test_the_reason_never_repeats_the_number_or_the_expected_check() -> None:
    number = make_id(YONGCHUAN, date(1985, 6, 15), 123)
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    reason = resident_id_defect(wrong, today=TODAY) or ""
    assert number[:17] not in reason and number not in reason
    assert not re.search(r"'[0-9X]'", reason)


def test_the_mask_keeps_three_and_two_and_never_the_birth_date() -> None:
    number = make_id(YONGCHUAN, date(1985, 6, 15), 123)
    masked = mask_resident_id(number)
    assert masked == number[:3] + "*" * 13 + number[-2:]
    assert len(masked) == 18 and "19850615" not in masked
    assert parse_resident_id(number, today=TODAY).masked == masked
    assert mask_resident_id(number.lower()) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧***"),
        ("李", "李*"),
        ("  王  小明 ", "王***"),
    ],
)
def test_names_keep_their_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("raw", "normal", "masked"),
    [
        ("13812345678", "13812345678", "138****5678"),
        ("+86 138 1234 5678", "13812345678", "138****5678"),
        ("138-1234-5678", "13812345678", "138****5678"),
        ("023-49876543", "023-49876543", "023-******43"),
        ("(023) 4987 6543", "023-49876543", "023-******43"),
    ],
)
def test_phone_numbers(raw: str, normal: str, masked: str) -> None:
    assert normalise_phone(raw) == normal
    assert mask_phone(raw) == masked


@pytest.mark.parametrize("raw", ["12345678901", "1381234567", "call me", "4987654", ""])
def test_not_phone_numbers(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(raw)
