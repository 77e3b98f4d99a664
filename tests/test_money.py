"""Exact money: parsing the forms officers write, vi-VN formatting, exact apportionment."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgetlib import (
    AmountError,
    ApportionError,
    MoneyUnit,
    apportion,
    capped_proportional,
    format_amount,
    parse_amount,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("22,5 tỷ đồng", 22_500_000_000),
        ("22.500.000.000", 22_500_000_000),
        ("22 500 000 000 đ", 22_500_000_000),
        ("22\u00a0500\u00a0000\u00a0000 đ", 22_500_000_000),
        ("1,2 triệu", 1_200_000),
        ("450 triệu đồng", 450_000_000),
        ("450 trieu dong", 450_000_000),
        ("3 tỉ", 3_000_000_000),
        ("15 nghìn đồng", 15_000),
        ("0", 0),
        ("1.000 VND", 1_000),
        ("22,5 TỶ ĐỒNG", 22_500_000_000),
        ("22,5 ty\u0309 đồng".replace("ty\u0309", "tỷ"), 22_500_000_000),
    ],
)
def test_parse_forms_officers_write(text, expected):
    assert parse_amount(text) == expected


def test_parse_decomposed_unicode_same_as_composed():
    import unicodedata

    assert parse_amount(unicodedata.normalize("NFD", "22,5 tỷ đồng")) == 22_500_000_000


@pytest.mark.parametrize(
    "text, unit, expected",
    [("1,2", "triệu đồng", 1_200_000), ("22,5", MoneyUnit.TY, 22_500_000_000), ("450", "nghìn đồng", 450_000), ("7", 1, 7)],
)
def test_plain_number_takes_the_declared_unit(text, unit, expected):
    assert parse_amount(text, unit=unit) == expected


@pytest.mark.parametrize(
    "text",
    ["abc", "", "1.5 tỷ", "22.50.000", "1,2,3", "22,500,000,000", "1,2345 nghìn", "12 đô la", "1 2 3", "--5", "0,5 đồng"],
)
def test_malformed_or_ambiguous_text_is_rejected_with_both_languages(text):
    with pytest.raises(AmountError) as err:
        parse_amount(text)
    assert err.value.message("vi") and err.value.message("en")
    assert err.value.message("vi") != err.value.message("en")


def test_float_cells_read_exactly():
    from budgetlib import amount_from_number

    assert amount_from_number(1.2, "triệu") == 1_200_000
    assert amount_from_number(22.5, MoneyUnit.TY) == 22_500_000_000
    with pytest.raises(AmountError):
        amount_from_number(0.3, MoneyUnit.DONG)


def test_format_vi_and_en():
    assert format_amount(22_500_000_000) == "22.500.000.000 đ"
    assert format_amount(22_500_000_000, style="short") == "22,5 tỷ đồng"
    assert format_amount(22_500_000_000, lang="en") == "22,500,000,000 VND"
    assert format_amount(22_500_000_000, lang="en", style="short") == "22.5 billion VND"
    assert format_amount(450_000_000, style="short") == "450 triệu đồng"
    assert format_amount(-1_500, style="short") == "-1.500 đ" or format_amount(-1_500, style="short") == "-1,5 nghìn đồng"
    with pytest.raises(TypeError):
        format_amount(1.5)  # type: ignore[arg-type]


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["full", "short"]), st.sampled_from(["vi", "en"]))
def test_parse_format_round_trip(amount, style, lang):
    text = format_amount(amount, style=style, lang=lang)
    if lang == "vi":
        assert parse_amount(text) == amount
    else:  # English formatting is for reading, but must stay exact
        assert text.replace(",", "").split()[0].replace(".", "").isdigit()


def test_apportion_examples():
    assert apportion(100, [1, 1, 1]).tolist() == [34, 33, 33]
    assert apportion(1_000_000_500, [2, 1], unit=1_000_000).tolist() == [667_000_500, 333_000_000]
    assert apportion(10, [1, 1, 1], lower=[0, 0, 5]).tolist() == [3, 2, 5]
    assert apportion(10, [1, 0, 3], upper=[10, 10, 4]).tolist() == [6, 0, 4]
    assert apportion(0, [1, 2]).tolist() == [0, 0]


def test_apportion_infeasible_bounds_are_explained():
    with pytest.raises(ApportionError) as err:
        apportion(10, [1, 1], lower=[6, 6])
    assert "sàn" in err.value.message("vi") and "floors" in err.value.message("en")
    with pytest.raises(ApportionError):
        apportion(10, [1, 1], upper=[3, 3])
    with pytest.raises(ApportionError):
        apportion(10, [0, 0])


weights = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=25)


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=10**13), weights, st.sampled_from([1, 1_000, 1_000_000]))
def test_apportion_sums_exactly_and_is_deterministic(total, w, unit):
    if sum(w) == 0:
        w = [1.0] * len(w)
    parts = apportion(total, w, unit=unit)
    assert parts.dtype == np.int64
    assert int(parts.sum()) == total
    assert (parts >= 0).all()
    # every part but the one carrying the sub-unit residue is a whole number of units
    assert int((parts % unit != 0).sum()) <= 1
    assert apportion(total, w, unit=unit).tolist() == parts.tolist()


@settings(max_examples=300)
@given(st.data())
def test_apportion_respects_bounds_when_feasible(data):
    n = data.draw(st.integers(1, 12))
    w = data.draw(st.lists(st.floats(0.01, 100), min_size=n, max_size=n))
    lower = data.draw(st.lists(st.integers(0, 1_000), min_size=n, max_size=n))
    extra = data.draw(st.lists(st.integers(0, 1_000), min_size=n, max_size=n))
    upper = [lo + e for lo, e in zip(lower, extra)]
    total = data.draw(st.integers(sum(lower), sum(upper)))
    parts = apportion(total, w, lower=lower, upper=upper)
    assert int(parts.sum()) == total
    assert all(lo <= p <= hi for lo, p, hi in zip(lower, parts, upper))


@settings(max_examples=200)
@given(weights, st.integers(0, 10**9))
def test_apportion_is_within_one_of_the_quota(w, total):
    if sum(w) == 0:
        return
    parts = apportion(total, w)
    quota = np.array(w) / sum(w) * total
    assert np.all(np.abs(parts - quota) < 1 + 1e-6 * total)


@settings(max_examples=200)
@given(st.data())
def test_capped_proportional_matches_bisection(data):
    n = data.draw(st.integers(1, 10))
    w = np.array(data.draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 50)), min_size=n, max_size=n)))
    lo = np.array(data.draw(st.lists(st.floats(0, 10), min_size=n, max_size=n)))
    hi = lo + np.array(data.draw(st.lists(st.floats(0, 100), min_size=n, max_size=n)))
    eff_hi = np.where(w > 0, hi, lo)
    total = data.draw(st.floats(float(lo.sum()), float(eff_hi.sum())))
    x = capped_proportional(total, w, lo, hi)
    assert abs(x.sum() - total) <= 1e-6 * max(1, total)
    assert np.all(x >= lo - 1e-9) and np.all(x <= eff_hi + 1e-9)
    # independent oracle: bisection on λ
    a, b = 0.0, 1.0
    g = lambda lam: np.clip(lam * w, lo, eff_hi).sum()  # noqa: E731
    while g(b) < total and b < 1e12:
        b *= 2
    for _ in range(200):
        m = (a + b) / 2
        a, b = (m, b) if g(m) < total else (a, m)
    ref = np.clip(b * w, lo, eff_hi)
    assert np.allclose(x, ref, atol=1e-6 * max(1, total))


# Totals up to the safe limit and weights many orders of magnitude apart: floats lose digits there,
# the integers must still reconcile exactly and keep their bounds.
@given(
    total=st.integers(min_value=0, max_value=10**17),
    weights=st.lists(st.sampled_from([0.0, 1e-12, 1e-6, 0.3, 1.0, 7.5, 5.5e5, 1e9]), min_size=1, max_size=8),
    unit=st.sampled_from([1, 10, 1000, 10**6]),
    cap_scale=st.none() | st.floats(min_value=0.1, max_value=3.0),
)
def test_apportion_reconciles_at_extreme_magnitudes(total, weights, unit, cap_scale):
    upper = None if cap_scale is None else [int(total * cap_scale)] * len(weights)
    try:
        parts = apportion(total, weights, unit=unit, upper=upper)
    except ApportionError:
        return
    assert int(parts.sum()) == total
    assert (parts >= 0).all()
    if upper is not None:
        assert (parts <= np.asarray(upper)).all()


def test_water_filling_with_weights_twelve_orders_apart():
    x = capped_proportional(1000, [5.5e5, 1e-12, 0.0], [0, 0, 0], [918, 1560, 1411])
    assert np.isclose(x.sum(), 1000) and x[0] == 918 and np.isclose(x[1], 82) and x[2] == 0
