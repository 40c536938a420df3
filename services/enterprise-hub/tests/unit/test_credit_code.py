"""GB 32100-2015 unified social credit code: alphabet, weights, check character."""

from __future__ import annotations

import pytest

from enterprise_hub.domain.credit_code import ALPHABET, WEIGHTS, check_character, defect, is_valid

# Codes as widely published for well-known enterprises; the test relies only on the
# algorithm confirming each. The first is the example code cited from GB 32100-2015.
PUBLISHED = [
    "91350100M000100Y43",
    "914403001922038216",
    "9144030071526726XG",
    "91330100716105852F",
    "91110108551385082Q",
]


def test_the_alphabet_leaves_out_misreadable_letters() -> None:
    assert len(ALPHABET) == 31
    assert not set("IOZSV") & set(ALPHABET)
    assert WEIGHTS == tuple(3**i % 31 for i in range(17)), "weights are 3^i mod 31"


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert check_character(code[:17]) == code[17]
    assert is_valid(code) and defect(code) is None


def test_the_standards_example_by_hand() -> None:
    # Σ value × weight over "91350100M000100Y4" is 1640 = 52 × 31 + 28; 31 - 28 = 3.
    values = [ALPHABET.index(ch) for ch in "91350100M000100Y4"]
    assert sum(v * w for v, w in zip(values, WEIGHTS, strict=True)) == 1640
    assert check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        # Σ mod 31 = 0: 31 - 0 = 31 is written as 0.
        ("91500118MA5U4W2R4", "0"),
        ("91500118MA600000Q", "0"),
        # The last character of the alphabet.
        ("91500118MA6000003", "Y"),
        ("92500118MA6000000", "J"),
    ],
)
def test_constructed_codes(first17: str, check: str) -> None:
    assert check_character(first17) == check
    assert is_valid(first17 + check)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("911100001000013420", "check character is '0' but the code's first 17 give 'C'"),
        ("91350100M000100Y44", "check character is '4'"),
        ("91350100M000100Y4", "has 18 characters, not 17"),
        ("91350100M000100Y433", "has 18 characters, not 19"),
        ("91350100m000100Y43", "characters 'm' do not occur"),
        ("91350100O000100Y43", "characters 'O' do not occur"),
        ("9135010SIZ00100Y43", "characters 'ISZ' do not occur"),
        ("", "not 0"),
    ],
)
def test_invalid_codes_say_why(code: str, reason: str) -> None:
    found = defect(code)
    assert found is not None and reason in found
    assert not is_valid(code)


def test_a_single_changed_character_is_caught() -> None:
    code = PUBLISHED[0]
    for i in range(17):
        for ch in ALPHABET:
            if ch != code[i]:
                assert not is_valid(code[:i] + ch + code[i + 1 :]), (i, ch)


def test_check_needs_17_characters_of_the_alphabet() -> None:
    with pytest.raises(ValueError, match="17 characters"):
        check_character("123")
    with pytest.raises(ValueError, match="17 characters"):
        check_character("91350100M000100YI")
