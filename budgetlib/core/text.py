"""Vietnamese text as a first-class citizen: NFC normalisation, folding and collation.

Sorting by Python's default code-point order puts ``Đ`` after ``Z`` and ``Ă``/``Â`` after ``Z``;
a Vietnamese reader expects the alphabet a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y,
with tone marks ordered (none, huyền, hỏi, ngã, sắc, nặng) only as a tie-breaker.

>>> sorted(["Đồng Hới", "Ba Vì", "Ân Thi", "An Lão"], key=vi_sort_key)
['An Lão', 'Ân Thi', 'Ba Vì', 'Đồng Hới']
"""

from __future__ import annotations

import unicodedata

__all__ = ["nfc", "fold", "vi_sort_key"]

_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_BASE_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
# Combining tone marks in the Vietnamese dictionary order of tones.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
# Combining marks that form letters (breve, circumflex, horn) rather than tones.
_LETTER_MARKS = {"\u0306": "ă", "\u0302": "â", "\u031b": "ơ"}


def nfc(text: str) -> str:
    """Normalise to Unicode NFC and trim; composed and decomposed input compare equal after it."""
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Lower case without diacritics (``"Địa bàn"`` → ``"dia ban"``), for tolerant matching."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d")
    folded = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(folded.split())


def _letters(text: str) -> list[tuple[int, int, str]]:
    """Split into (base rank, tone, original char) per letter, Vietnamese style."""
    out: list[tuple[int, int, str]] = []
    for ch in unicodedata.normalize("NFC", text):
        low = ch.lower()
        decomposed = unicodedata.normalize("NFD", low)
        base = decomposed[0]
        tone = 0
        for mark in decomposed[1:]:
            if mark in _TONES:
                tone = _TONES[mark]
            elif mark in _LETTER_MARKS:
                letter = _LETTER_MARKS[mark]
                base = {"a": {"ă": "ă", "â": "â"}, "e": {"â": "ê"}, "o": {"â": "ô", "ơ": "ơ"}, "u": {"ơ": "ư"}}.get(
                    base, {}
                ).get(letter, base)
        if low == "đ":
            base = "đ"
        if base in _BASE_RANK:
            rank = _BASE_RANK[base]
        elif base.isdigit():
            rank = -20 + int(base)  # digits before letters
        elif base.isspace():
            rank = -100
        else:
            rank = 100 + ord(base)
        out.append((rank, tone, ch))
    return out


def vi_sort_key(text: str) -> tuple:
    """Collation key for Vietnamese: letters first, then tones, then case, then the raw text.

    Runs of digits compare as numbers, so "Phường 2" comes before "Phường 10".
    """
    letters = _letters(text)
    primary: list[tuple[int, int]] = []
    digits = ""
    for rank, _, ch in [*letters, (0, 0, "")]:
        if ch.isdigit():
            digits += ch
            continue
        if digits:
            primary.append((-50, int(digits)))
            digits = ""
        if ch:
            primary.append((rank, 0))
    return (
        tuple(primary),
        tuple(t for _, t, _ in letters),
        tuple(c.islower() for _, _, c in letters),
        text,
    )
