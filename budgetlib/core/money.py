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
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from enum import IntEnum

import numpy as np

from .i18n import LocalizedError, tr
from .lang import Lang, as_lang
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

    def label(self, lang: str | Lang = Lang.VI) -> str:
        """``triệu đồng`` / ``million VND``."""
        return tr(f"money.unit.{self.name.lower()}", lang)

    @classmethod
    def parse(cls, text: str | int | MoneyUnit) -> MoneyUnit:
        """Read a unit name (``"triệu đồng"``, ``"trieu"``, ``"million"``, ``1000000``)."""
        if isinstance(text, MoneyUnit):
            return text
        if isinstance(text, int):
            return cls(text)
        key = fold(str(text))
        key = re.sub(r"\s+(dong|vnd|d)$", "", key).strip()
        if key in _UNIT_WORDS:
            return _UNIT_WORDS[key]
        raise AmountError("money.bad_unit", value=str(text))


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


class AmountError(LocalizedError):
    """An amount or unit that cannot be read (a catalogue code and its parameters)."""


class ApportionError(LocalizedError):
    """A split that cannot satisfy its bounds (e.g. floors add up to more than the total)."""


SAFE_AMOUNT = 10**17
"""The largest amount (in đồng, either sign) budgetlib accepts: 100 triệu tỷ đồng, about 25 times
Vietnam's yearly state budget. Sums of up to 90 such amounts still fit in a signed 64-bit integer,
so totals computed with numpy can never wrap around."""


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
        raise AmountError("money.ambiguous_commas", value=raw)
    integer, _, fraction = number.partition(",")
    if "." in integer:
        groups = integer.split(".")
        if not groups[0].isdigit() or len(groups[0]) > 3 or not all(len(g) == 3 and g.isdigit() for g in groups[1:]):
            raise AmountError("money.ambiguous_dots", value=raw)
        integer = "".join(groups)
    if not integer.isdigit() or (fraction and not fraction.isdigit()):
        raise _malformed(raw)
    return Decimal(f"{integer}.{fraction or '0'}")


def _malformed(raw: str) -> AmountError:
    return AmountError("money.malformed", value=raw)


def parse_amount(text: str | int | Decimal, *, unit: MoneyUnit | str | int = MoneyUnit.DONG) -> int:
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
    if len(raw) > _MAX_AMOUNT_TEXT:
        raise _malformed(raw)
    match = _AMOUNT_RE.match(raw)
    if raw and not match:
        compound = _parse_compound(raw)
        if compound is not None:
            return compound
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


_MAX_AMOUNT_TEXT = 200
_COMPOUND_PART = re.compile(r"(?P<number>[0-9][0-9.,]*)\s*(?P<unit>[^\d]*)")


def _parse_compound(raw: str) -> int | None:
    """``12 tỷ 500 triệu``, ``1 tỷ 250 triệu 500 nghìn đồng``: parts in strictly decreasing units,
    each a whole number below the next unit up (``12 tỷ 1500 triệu`` is refused). None if not
    this form."""
    sign = -1 if raw[:1] in "-−" else 1
    body = raw[1:].strip() if sign < 0 else raw
    parts = [(m.group("number"), fold(m.group("unit")).strip().rstrip(".")) for m in _COMPOUND_PART.finditer(body)]
    if len(parts) < 2 or "".join(n + u for n, u in parts).replace(" ", "") != fold(body).replace(" ", ""):
        return None
    total = 0
    previous: MoneyUnit | None = None
    for i, (number, word) in enumerate(parts):
        word = re.sub(r"\s+", " ", word)
        last = i == len(parts) - 1
        if last and word in ("", "d", "dong", "vnd"):
            scale = MoneyUnit.DONG
        else:
            key = re.sub(r"\s+(dong|vnd|d)$", "", word).strip() if last else word
            scale = _UNIT_WORDS.get(key)  # type: ignore[assignment]
            if scale is None or scale == MoneyUnit.DONG:
                return None
        if previous is not None and (scale >= previous or not number.isdigit() or int(number) * scale >= previous):
            raise AmountError("money.compound_order", value=raw)
        total += amount_from_number(_parse_number(number), scale, raw=raw) if previous is None else int(number) * int(scale)
        previous = scale
    return sign * total


def amount_from_number(value: int | float | Decimal, unit: MoneyUnit | str | int = MoneyUnit.DONG, *, raw: str | None = None) -> int:
    """Turn a number in ``unit`` into integer đồng, refusing fractions of a đồng.

    Floats (as spreadsheets store numbers) are read through their shortest decimal repr, so
    ``1.2`` triệu is exactly 1 200 000 đ.
    """
    scale = MoneyUnit.parse(unit)
    if isinstance(value, bool):
        raise _malformed(str(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise AmountError("money.not_finite", value=str(value))
        value = Decimal(repr(value))
    try:
        dong = Decimal(value) * int(scale)
    except (InvalidOperation, TypeError):
        raise _malformed(str(value)) from None
    if not dong.is_finite():
        raise AmountError("money.not_finite", value=str(value))
    if abs(dong) > SAFE_AMOUNT:
        raise AmountError("money.out_of_range", value=raw if raw is not None else str(value), limit=SAFE_AMOUNT)
    if dong != dong.to_integral_value():
        shown = raw if raw is not None else f"{value} {scale.label(Lang.VI)}"
        raise AmountError("money.fraction", value=shown)
    return int(dong)


def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def format_amount(amount: int, *, lang: str | Lang = Lang.VI, style: str = "full") -> str:
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
    lang = as_lang(lang)
    amount = int(amount)
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    if style == "short":
        for unit in (MoneyUnit.TY, MoneyUnit.TRIEU, MoneyUnit.NGHIN):
            if magnitude >= unit and (magnitude * (1 if unit == MoneyUnit.NGHIN else 1000)) % unit == 0:
                value = Decimal(magnitude) / int(unit)
                integer, _, fraction = f"{value:f}".partition(".")
                fraction = fraction.rstrip("0")
                if lang is Lang.VI:
                    text = _group(int(integer), ".") + ("," + fraction if fraction else "")
                else:
                    text = _group(int(integer), ",") + ("." + fraction if fraction else "")
                return f"{sign}{text} {unit.label(lang)}"
    elif style != "full":
        raise ValueError(f"unknown style {style!r}; use 'full' or 'short'")
    if lang is Lang.VI:
        return f"{sign}{_group(magnitude, '.')} đ"
    return f"{sign}{_group(magnitude, ',')} VND"


# ---------------------------------------------------------------------------------------------
# Apportionment


def capped_proportional(
    total: float,
    weights: Sequence[float] | np.ndarray,
    lower: Sequence[float] | np.ndarray | None = None,
    upper: Sequence[float] | np.ndarray | None = None,
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
        raise ApportionError("apportion.floor_above_cap", part=bad + 1, floor=round(float(lo[bad])), cap=round(float(hi[bad])))
    # Zero-weight parts are pinned at their floor (their share of need is nil).
    eff_hi = np.where(w > 0, hi, lo)
    lo_sum, hi_sum = float(lo.sum()), float(eff_hi.sum())
    tol = 1e-9 * max(1.0, abs(total))
    if total < lo_sum - tol:
        raise ApportionError("apportion.floors_exceed", floors=round(float(lo_sum)), total=round(float(total)))
    if total > hi_sum + tol:
        if np.all(w == 0) and n > 0:
            raise ApportionError("apportion.zero_weights")
        raise ApportionError("apportion.caps_short", caps=round(float(hi_sum)), total=round(float(total)))
    if n == 0:
        return np.zeros(0)
    if lower is None and upper is None and w.sum() > 0:
        return total * (w / w.sum())
    pos_mask = w > 0
    lam0 = (total - float(lo[~pos_mask].sum())) / float(w.sum()) if pos_mask.any() else 0.0
    x0 = np.where(pos_mask, lam0 * w, lo)
    if pos_mask.any() and bool(np.all((x0 >= lo) & (x0 <= eff_hi))):
        # no bound binds (the common case: floors and caps far from the need share): λ in closed
        # form, no breakpoint sweep
        return _settle(x0, total, lo, eff_hi)
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
    if abs(float(x.sum()) - total) > tol:
        # The sweep adds and removes slopes of every magnitude; with weights many orders apart
        # (10⁻¹² beside 10⁶) the running slope loses the small ones. g(λ) itself is a sum of
        # non-negative terms and exact enough: find λ by bisection on it instead.
        x = np.clip(_bisect_lambda(total, w, lo, eff_hi, tol) * w, lo, eff_hi)
    return _settle(x, total, lo, eff_hi)


def _settle(x: np.ndarray, total: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Put the last float residue of Σx − total on the largest part strictly inside its bounds."""
    residue = total - x.sum()
    inside = np.flatnonzero((x > lo) & (x < hi))
    if residue != 0 and inside.size:
        i = inside[np.argmax(x[inside])]
        x[i] = min(max(x[i] + residue, lo[i]), hi[i])
    return x


def _largest(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values, the earlier index first among equal ones — the same set
    as ``np.argsort(-values, kind="stable")[:k]`` in O(n) (a partition, not a sort)."""
    n = values.size
    if k <= 0:
        return np.zeros(0, np.int64)
    if k >= n:
        return np.arange(n)
    threshold = np.partition(values, n - k)[n - k]  # the k-th largest
    above = np.flatnonzero(values > threshold)
    ties = np.flatnonzero(values == threshold)[: k - above.size]
    return np.concatenate([above, ties])


def _bisect_lambda(total: float, w: np.ndarray, lo: np.ndarray, hi: np.ndarray, tol: float) -> float:
    """λ with Σ clip(λ·w, lo, hi) = total (to ``tol``), by bisection on a log scale then a linear one."""

    def g(lam: float) -> float:
        return float(np.clip(lam * w, lo, hi).sum())

    low, high = 0.0, 1.0
    while g(high) < total - tol and high < 1e300:
        low, high = high, high * 16.0
    for _ in range(2000):
        mid = (low + high) / 2 if low > 0 else high / 2
        if mid in (low, high):
            break
        if g(mid) < total - tol:
            low = mid
        else:
            high = mid
        if high - low <= 1e-15 * high:
            break
    return high


def apportion(
    total: int,
    weights: Sequence[float] | np.ndarray,
    *,
    unit: int = 1,
    lower: Sequence[int] | np.ndarray | None = None,
    upper: Sequence[int] | np.ndarray | None = None,
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
        raise ApportionError("apportion.negative_total", total=total)
    units_total, residue = divmod(total, unit)
    lo_u = np.zeros(n, dtype=np.int64) if lower is None else -(-np.asarray(lower, dtype=np.int64) // unit)
    if upper is None:
        hi_u = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
    else:
        hi_u = np.asarray(upper, dtype=np.int64) // unit
    quota = capped_proportional(units_total, w, lo_u, None if upper is None else hi_u.astype(float))
    base = np.clip(np.floor(quota + 1e-9).astype(np.int64), lo_u, hi_u)
    short = units_total - int(base.sum())
    # Floats carry ~16 significant digits: at 10¹⁷ đ the floors may miss the total by more than one
    # unit per part, so hand out (or take back) whole units until the integers reconcile exactly.
    while short > 0:
        eligible = base < hi_u
        if not eligible.any():
            raise ApportionError("apportion.caps_short", caps=int(hi_u.sum()) * unit, total=total)
        # Largest remainder first; a stable sort keeps index order on ties (earlier part first).
        remainder = np.where(eligible, quota - base, -np.inf)
        order = _largest(remainder, min(short, int(eligible.sum())))
        base[order] += 1
        short -= order.size
    while short < 0:  # float quotas pushed parts above their share: take back from the smallest remainders
        reducible = base > lo_u
        if not reducible.any():
            raise ApportionError("apportion.floors_exceed", floors=int(lo_u.sum()) * unit, total=total)
        remainder = np.where(reducible, quota - base, np.inf)
        order = _largest(-remainder, min(-short, int(reducible.sum())))
        base[order] -= 1
        short += order.size
    parts = base * unit
    if residue:
        # The sub-unit residue goes to the largest part that can still take it under its cap.
        room = np.ones(n, dtype=bool) if upper is None else parts + residue <= np.asarray(upper, dtype=np.int64)
        if not room.any():
            raise ApportionError("apportion.residue", residue=int(residue))
        parts[int(np.argmax(np.where(room, quota, -np.inf)))] += residue
    return parts
