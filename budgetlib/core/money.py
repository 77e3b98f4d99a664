"""Exact money: integer đồng, one parse/format pair, and exact apportionment.

Never use floating point for stored amounts. Every amount in budgetlib is an ``int`` of đồng;
floats appear only inside the LP solver and in the *quotas* of an apportionment, which are then
turned into integers that sum exactly to the total.

>>> parse_amount("22,5 tỷ đồng")
22500000000
>>> format_amount(22_500_000_000)
'22.500.000.000 đ'
>>> format_amount(22_500_000_000, style="short")
'22,5 tỷ đồng'
>>> apportion(100, [1, 1, 1]).tolist()
[34, 33, 33]
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Sequence

import numpy as np

from .text import fold

__all__ = [
    "AmountError",
    "ApportionError",
    "MoneyUnit",
    "parse_amount",
    "amount_from_number",
    "format_amount",
    "apportion",
    "capped_proportional",
]


class MoneyUnit(IntEnum):
    """Units officers write amounts in. The value is the number of đồng in one unit."""

    DONG = 1
    NGHIN = 1_000
    TRIEU = 1_000_000
    TY = 1_000_000_000

    @property
    def label_vi(self) -> str:
        return _UNIT_LABEL_VI[self]

    @property
    def label_en(self) -> str:
        return _UNIT_LABEL_EN[self]

    @classmethod
    def parse(cls, text: "str | int | MoneyUnit") -> "MoneyUnit":
        """Read a unit name (``"triệu đồng"``, ``"trieu"``, ``"million"``, ``1000000``)."""
        if isinstance(text, MoneyUnit):
            return text
        if isinstance(text, int):
            return cls(text)
        key = fold(str(text))
        key = re.sub(r"\s+(dong|vnd|d)$", "", key).strip()
        if key in _UNIT_WORDS:
            return _UNIT_WORDS[key]
        raise AmountError(
            f"đơn vị tiền không hợp lệ: {text!r} (dùng đồng, nghìn đồng, triệu đồng hoặc tỷ đồng)",
            f"invalid money unit: {text!r} (use đồng, nghìn đồng, triệu đồng or tỷ đồng)",
        )


_UNIT_LABEL_VI = {
    MoneyUnit.DONG: "đồng",
    MoneyUnit.NGHIN: "nghìn đồng",
    MoneyUnit.TRIEU: "triệu đồng",
    MoneyUnit.TY: "tỷ đồng",
}
_UNIT_LABEL_EN = {
    MoneyUnit.DONG: "VND",
    MoneyUnit.NGHIN: "thousand VND",
    MoneyUnit.TRIEU: "million VND",
    MoneyUnit.TY: "billion VND",
}
# Folded (no diacritics, lower case) spellings of each unit.
_UNIT_WORDS = {
    "": MoneyUnit.DONG,
    "dong": MoneyUnit.DONG,
    "d": MoneyUnit.DONG,
    "vnd": MoneyUnit.DONG,
    "nghin": MoneyUnit.NGHIN,
    "ngan": MoneyUnit.NGHIN,
    "ng": MoneyUnit.NGHIN,
    "thousand": MoneyUnit.NGHIN,
    "k": MoneyUnit.NGHIN,
    "trieu": MoneyUnit.TRIEU,
    "tr": MoneyUnit.TRIEU,
    "million": MoneyUnit.TRIEU,
    "ty": MoneyUnit.TY,
    "ti": MoneyUnit.TY,
    "billion": MoneyUnit.TY,
}


class AmountError(ValueError):
    """An amount or unit that cannot be read. Carries a Vietnamese and an English message."""

    def __init__(self, message_vi: str, message_en: str):
        super().__init__(message_vi)
        self.message_vi = message_vi
        self.message_en = message_en


class ApportionError(ValueError):
    """A split that cannot satisfy its bounds (e.g. floors add up to more than the total)."""

    def __init__(self, message_vi: str, message_en: str):
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


_AMOUNT_RE = re.compile(r"^(?P<sign>[-−]?)\s*(?P<number>[0-9][0-9.,\s\u00a0\u202f]*)\s*(?P<unit>[^\d]*)$")


def _parse_number(number: str) -> Decimal:
    """Read a vi-VN number: '.' or spaces group thousands, ',' marks decimals."""
    raw = number
    number = re.sub(r"[\s\u00a0\u202f]+", " ", number.strip())
    if " " in number:
        groups = number.split(" ")
        if not all(len(g) == 3 and g.isdigit() for g in groups[1:]) or not groups[0].isdigit():
            raise _malformed(raw)
        number = "".join(groups)
    if number.count(",") > 1:
        raise AmountError(
            f"số tiền không rõ ràng: {raw!r} có nhiều dấu phẩy; theo cách viết Việt Nam, "
            "dấu chấm ngăn cách hàng nghìn và dấu phẩy là phần thập phân (ví dụ 22.500.000.000 hoặc 22,5 tỷ)",
            f"ambiguous amount: {raw!r} has several commas; in Vietnamese notation '.' groups thousands "
            "and ',' marks decimals (e.g. 22.500.000.000 or 22,5 tỷ)",
        )
    integer, _, fraction = number.partition(",")
    if "." in integer:
        groups = integer.split(".")
        if not groups[0].isdigit() or len(groups[0]) > 3 or not all(len(g) == 3 and g.isdigit() for g in groups[1:]):
            raise AmountError(
                f"số tiền không rõ ràng: {raw!r}; dấu chấm chỉ dùng để ngăn cách hàng nghìn "
                "(nhóm 3 chữ số), phần thập phân viết bằng dấu phẩy (22,5 tỷ)",
                f"ambiguous amount: {raw!r}; '.' only groups thousands (groups of 3 digits), "
                "decimals take a comma (22,5 tỷ)",
            )
        integer = "".join(groups)
    if not integer.isdigit() or (fraction and not fraction.isdigit()):
        raise _malformed(raw)
    return Decimal(f"{integer}.{fraction or '0'}")


def _malformed(raw: str) -> AmountError:
    return AmountError(
        f"không đọc được số tiền {raw!r}; ví dụ cách viết đúng: 22.500.000.000 đ, 22,5 tỷ đồng, 450 triệu",
        f"cannot read the amount {raw!r}; valid examples: 22.500.000.000 đ, 22,5 tỷ đồng, 450 triệu",
    )


def parse_amount(text: "str | int | Decimal", *, unit: "MoneyUnit | str | int" = MoneyUnit.DONG) -> int:
    """Read an amount as integer đồng.

    Accepts the forms officers write: ``"22,5 tỷ đồng"``, ``"22.500.000.000"``, ``"22 500 000 000 đ"``,
    ``"1,2 triệu"``, ``"450 triệu đồng"``. A number without a unit word is in ``unit`` (the unit
    declared for the workbook or plan). Raises :class:`AmountError` for malformed, ambiguous,
    negative-signed-in-words or fractional-đồng amounts.

    >>> parse_amount("450 triệu đồng")
    450000000
    >>> parse_amount("1,2", unit="triệu đồng")
    1200000
    """
    default_unit = MoneyUnit.parse(unit)
    if isinstance(text, bool):
        raise _malformed(str(text))
    if isinstance(text, (int, Decimal)):
        return amount_from_number(text, default_unit)
    raw = unicodedata.normalize("NFC", str(text)).strip()
    match = _AMOUNT_RE.match(raw)
    if not raw or not match:
        raise _malformed(raw)
    unit_word = fold(match.group("unit")).strip().rstrip(".")
    unit_word = re.sub(r"\s+", " ", unit_word)
    if unit_word in ("", "d", "dong", "vnd", "đ"):
        scale = default_unit if unit_word == "" else MoneyUnit.DONG
    else:
        scale = MoneyUnit.parse(unit_word)
    value = _parse_number(match.group("number").strip())
    if match.group("sign"):
        value = -value
    return amount_from_number(value, scale, raw=raw)


def amount_from_number(value: "int | float | Decimal", unit: "MoneyUnit | str | int" = MoneyUnit.DONG, *, raw: str | None = None) -> int:
    """Turn a number in ``unit`` into integer đồng, refusing fractions of a đồng.

    Floats (as spreadsheets store numbers) are read through their shortest decimal repr, so
    ``1.2`` triệu is exactly 1 200 000 đ.
    """
    scale = MoneyUnit.parse(unit)
    if isinstance(value, bool):
        raise _malformed(str(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _malformed(str(value))
        value = Decimal(repr(value))
    try:
        dong = Decimal(value) * int(scale)
    except (InvalidOperation, TypeError):
        raise _malformed(str(value)) from None
    if dong != dong.to_integral_value():
        shown = raw if raw is not None else f"{value} {scale.label_vi}"
        raise AmountError(
            f"số tiền {shown!r} có phần lẻ nhỏ hơn 1 đồng; số tiền phải là số nguyên đồng",
            f"amount {shown!r} has a fraction of a đồng; amounts must be whole đồng",
        )
    return int(dong)


def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def format_amount(amount: int, *, lang: str = "vi", style: str = "full") -> str:
    """Format integer đồng for people.

    ``style="full"`` gives every đồng (``22.500.000.000 đ`` / ``22,500,000,000 VND``);
    ``style="short"`` uses the largest unit (tỷ, triệu) in which the amount is exact with at most
    three decimals, or whole nghìn, (``22,5 tỷ đồng`` / ``22.5 billion VND``) and falls back to full otherwise, so
    ``parse_amount(format_amount(x, style=s)) == x`` for every integer ``x``.

    >>> format_amount(1_234_567, lang="en")
    '1,234,567 VND'
    >>> format_amount(450_000_000, style="short", lang="en")
    '450 million VND'
    """
    if isinstance(amount, bool) or not isinstance(amount, (int, np.integer)):
        raise TypeError(f"amounts are integer đồng, got {type(amount).__name__}")
    amount = int(amount)
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    if style == "short":
        for unit in (MoneyUnit.TY, MoneyUnit.TRIEU, MoneyUnit.NGHIN):
            if magnitude >= unit and (magnitude * (1 if unit == MoneyUnit.NGHIN else 1000)) % unit == 0:
                value = Decimal(magnitude) / int(unit)
                integer, _, fraction = f"{value:f}".partition(".")
                fraction = fraction.rstrip("0")
                if lang == "vi":
                    text = _group(int(integer), ".") + ("," + fraction if fraction else "")
                    return f"{sign}{text} {unit.label_vi}"
                text = _group(int(integer), ",") + ("." + fraction if fraction else "")
                return f"{sign}{text} {unit.label_en}"
    elif style != "full":
        raise ValueError(f"unknown style {style!r}; use 'full' or 'short'")
    if lang == "vi":
        return f"{sign}{_group(magnitude, '.')} đ"
    return f"{sign}{_group(magnitude, ',')} VND"


# ---------------------------------------------------------------------------------------------
# Apportionment


def capped_proportional(
    total: float,
    weights: "Sequence[float] | np.ndarray",
    lower: "Sequence[float] | np.ndarray | None" = None,
    upper: "Sequence[float] | np.ndarray | None" = None,
) -> np.ndarray:
    """Water-filling: ``x = clip(λ·w, lower, upper)`` with λ chosen so that ``Σx = total``.

    Parts with zero weight get their lower bound. The answer is unique when feasible. Raises
    :class:`ApportionError` when the bounds cannot meet the total. Vectorised: O(n log n).
    """
    w = np.asarray(weights, dtype=float)
    n = w.size
    lo = np.zeros(n) if lower is None else np.asarray(lower, dtype=float)
    hi = np.full(n, np.inf) if upper is None else np.asarray(upper, dtype=float)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and non-negative")
    if np.any(lo > hi):
        bad = int(np.argmax(lo > hi))
        raise ApportionError(
            f"phần {bad + 1}: mức sàn {lo[bad]:,.0f} lớn hơn mức trần {hi[bad]:,.0f}",
            f"part {bad + 1}: floor {lo[bad]:,.0f} exceeds cap {hi[bad]:,.0f}",
        )
    # Zero-weight parts are pinned at their floor (their share of need is nil).
    eff_hi = np.where(w > 0, hi, lo)
    lo_sum, hi_sum = float(lo.sum()), float(eff_hi.sum())
    tol = 1e-9 * max(1.0, abs(total))
    if total < lo_sum - tol:
        raise ApportionError(
            f"tổng mức sàn {lo_sum:,.0f} vượt tổng cần chia {total:,.0f}",
            f"floors add up to {lo_sum:,.0f}, more than the total {total:,.0f}",
        )
    if total > hi_sum + tol:
        if np.all(w == 0) and n > 0:
            raise ApportionError(
                "mọi trọng số đều bằng 0, không có căn cứ để chia",
                "every weight is zero: there is no basis for the split",
            )
        raise ApportionError(
            f"tổng mức trần {hi_sum:,.0f} thấp hơn tổng cần chia {total:,.0f}",
            f"caps add up to {hi_sum:,.0f}, less than the total {total:,.0f}",
        )
    if n == 0:
        return np.zeros(0)
    if lower is None and upper is None and w.sum() > 0:
        return total * (w / w.sum())
    # λ is scale-free in w: normalise so tiny or huge weights do not overflow λ·w.
    w = w / w.max() if w.max() > 0 else w
    pos = np.flatnonzero(w > 0)
    # g(λ) = Σ clip(λw, lo, hi) is piecewise linear and non-decreasing. Sweep its breakpoints once:
    # at lo/w a part starts rising (slope +w, constant −lo), at hi/w it stops (slope −w, constant +hi).
    starts, stops = lo[pos] / w[pos], eff_hi[pos] / w[pos]
    lam_pts = np.concatenate([starts, stops])
    d_slope = np.concatenate([w[pos], -w[pos]])
    d_const = np.concatenate([-lo[pos], eff_hi[pos]])
    finite = np.isfinite(lam_pts)
    lam_pts, d_slope, d_const = lam_pts[finite], d_slope[finite], d_const[finite]
    if lam_pts.size == 0:
        lam = 0.0
    else:
        order = np.argsort(lam_pts, kind="stable")
        lam_pts, d_slope, d_const = lam_pts[order], d_slope[order], d_const[order]
        slope = np.cumsum(d_slope)
        g = lo.sum() + np.cumsum(d_const) + slope * lam_pts  # g just after each breakpoint (g is continuous)
        k = int(np.searchsorted(g, total - tol, side="left"))
        if k >= lam_pts.size:  # beyond the last breakpoint only uncapped parts still grow
            lam = float(lam_pts[-1] + ((total - g[-1]) / slope[-1] if slope[-1] > 0 else 0.0))
        elif k == 0:
            lam = float(lam_pts[0])
        else:
            lam = float(lam_pts[k - 1] + ((total - g[k - 1]) / slope[k - 1] if slope[k - 1] > 0 else 0.0))
    x = np.clip(lam * w, lo, eff_hi)
    # Remove the last float residue on a part strictly inside its bounds.
    residue = total - x.sum()
    inside = np.flatnonzero((x > lo) & (x < eff_hi))
    if residue != 0 and inside.size:
        i = inside[np.argmax(x[inside])]
        x[i] = min(max(x[i] + residue, lo[i]), eff_hi[i])
    return x


def apportion(
    total: int,
    weights: "Sequence[float] | np.ndarray",
    *,
    unit: int = 1,
    lower: "Sequence[int] | np.ndarray | None" = None,
    upper: "Sequence[int] | np.ndarray | None" = None,
) -> np.ndarray:
    """Split integer ``total`` by ``weights`` into integers that sum exactly to ``total``.

    Largest-remainder method on the capped-proportional quotas (see :func:`capped_proportional`).
    Ties in the remainder go to the earlier part, so the result is deterministic.

    ``unit`` (1 000 đ, 1 000 000 đ, …) makes every part a multiple of ``unit`` except that the
    residue ``total mod unit`` goes to the part with the largest quota (earliest on ties), so the
    split still reconciles to the đồng. Bounds are in đồng and are honoured in whole units
    (floors rounded up, caps rounded down to the unit); :class:`ApportionError` when infeasible.

    >>> apportion(1_000_000_500, [2, 1], unit=1_000_000).tolist()
    [667000500, 333000000]
    >>> apportion(10, [1, 1, 1], lower=[0, 0, 5]).tolist()
    [3, 2, 5]
    """
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)):
        raise TypeError(f"total must be integer đồng, got {type(total).__name__}")
    total, unit = int(total), int(unit)
    if unit <= 0:
        raise ValueError("unit must be a positive number of đồng")
    w = np.asarray(weights, dtype=float)
    n = w.size
    if total < 0:
        raise ApportionError(f"tổng cần chia âm: {total}", f"negative total to split: {total}")
    units_total, residue = divmod(total, unit)
    lo_u = np.zeros(n, dtype=np.int64) if lower is None else -(-np.asarray(lower, dtype=np.int64) // unit)
    if upper is None:
        hi_u = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
    else:
        hi_u = np.asarray(upper, dtype=np.int64) // unit
    quota = capped_proportional(units_total, w, lo_u, None if upper is None else hi_u.astype(float))
    base = np.clip(np.floor(quota + 1e-9).astype(np.int64), lo_u, hi_u)
    short = units_total - int(base.sum())
    if short > 0:
        remainder = quota - base
        eligible = base < hi_u
        remainder = np.where(eligible, remainder, -np.inf)
        # Stable sort on -remainder: ties keep index order (earlier part first).
        order = np.argsort(-remainder, kind="stable")[:short]
        base[order] += 1
    elif short < 0:  # float quota pushed a part above its share; take back from the smallest remainders
        remainder = np.where(base > lo_u, quota - base, np.inf)
        order = np.argsort(remainder, kind="stable")[: -short]
        base[order] -= 1
    parts = base * unit
    if residue:
        # The sub-unit residue goes to the largest part that can still take it under its cap.
        room = np.ones(n, dtype=bool) if upper is None else parts + residue <= np.asarray(upper, dtype=np.int64)
        if not room.any():
            raise ApportionError(
                f"không còn phần nào nhận được số lẻ {residue} đ dưới mức trần",
                f"no part can take the odd {residue} đ under its cap",
            )
        parts[int(np.argmax(np.where(room, quota, -np.inf)))] += residue
    return parts
