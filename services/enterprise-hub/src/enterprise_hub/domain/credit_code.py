"""The unified social credit code of GB 32100-2015. Pure logic, no I/O.

Eighteen characters: registration authority (1), entity type (1), administrative
division (6), organisation code (9), check character (1). The characters come
from the digits and the capital letters other than I, O, Z, S and V, which are
too easily misread; each stands for its position in that alphabet (0 to 30).
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18

_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The check character of the first 17 characters: 31 - (Σ value × weight mod 31)."""
    if len(first17) != LENGTH - 1 or any(ch not in _VALUE for ch in first17):
        raise ValueError("the check is computed over 17 characters of the code's alphabet")
    remainder = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True)) % 31
    # 31 - 0 = 31 lies outside the alphabet; the standard writes it as 0.
    return ALPHABET[(31 - remainder) % 31]


def defect(code: str) -> str | None:
    """Why ``code`` is not a valid credit code, or None when it is."""
    if len(code) != LENGTH:
        return f"a unified social credit code has {LENGTH} characters, not {len(code)}"
    wrong = sorted({ch for ch in code if ch not in _VALUE})
    if wrong:
        return (
            f"characters {''.join(wrong)!r} do not occur in credit codes "
            "(digits and capitals except I, O, Z, S, V)"
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"the check character is {code[17]!r} but the code's first 17 give {expected!r}"
    return None


def is_valid(code: str) -> bool:
    return defect(code) is None
