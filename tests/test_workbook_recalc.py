"""An authority for our formulas: LibreOffice recalculates the result workbook, every total must match.

Skipped only when LibreOffice is absent on a developer machine; in CI (``CI=true``) its absence fails.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from budgetlib.io import load_plan
from budgetlib.io.grid import SheetSpec, column_index, values_equal
from budgetlib.io.workbook import CalamineBook, OpenpyxlBook, write_result_workbook
from budgetlib.pipeline import compare_policies, run_allocate

from .conftest import EXAMPLES, soffice


def _recalculate(src: Path, tmp: Path) -> Path:
    outdir = tmp / "recalculated"
    outdir.mkdir()
    profile = (tmp / "lo_profile").as_uri()
    subprocess.run(
        [soffice(), "--headless", "--norestore", f"-env:UserInstallation={profile}", "--convert-to", "xlsx", "--outdir", str(outdir), str(src)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    out = outdir / src.name
    assert out.exists()
    return out


def _evaluate(spec: SheetSpec, ref: str, cache: dict) -> float | str:
    """Our own reading of the formulas we write (SUM over a range, A−B, IF(D=0,"",E/D))."""
    if ref in cache:
        return cache[ref]
    v = spec.cell(ref)
    if not (isinstance(v, str) and v.startswith("=")):
        result = v if v is not None else 0
    elif m := re.fullmatch(r"=SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)", v):
        c1, r1, c2, r2 = column_index(m.group(1)), int(m.group(2)), column_index(m.group(3)), int(m.group(4))
        from budgetlib.io.grid import cell_ref

        result = sum(_evaluate(spec, cell_ref(r, c), cache) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
    elif m := re.fullmatch(r"=([A-Z]+\d+)-([A-Z]+\d+)", v):
        result = _evaluate(spec, m.group(1), cache) - _evaluate(spec, m.group(2), cache)
    elif m := re.fullmatch(r'=IF\(([A-Z]+\d+)=0,"",([A-Z]+\d+)/([A-Z]+\d+)\)', v):
        d = _evaluate(spec, m.group(1), cache)
        result = "" if d == 0 else _evaluate(spec, m.group(2), cache) / _evaluate(spec, m.group(3), cache)
    else:
        raise AssertionError(f"{spec.name}!{ref}: formula not understood by the test: {v}")
    cache[ref] = result
    return result


@pytest.fixture(scope="module", params=["openpyxl", "fast_rows"])
def recalculated(request, tmp_path_factory):
    """The result workbook as LibreOffice recalculates it; ``fast_rows`` forces the direct-XML path
    that large sheets take (every sheet past its first rows)."""
    from budgetlib.io.workbook import xlsx

    tmp = tmp_path_factory.mktemp("recalc")
    plan = load_plan(EXAMPLES / "haiphong_2011_2015" / "plan.json")
    outcome = run_allocate(plan)
    assert outcome.exit_code == 0
    sheets = outcome.sheets + compare_policies(plan, ["proportional", "min_deviation"])
    src = tmp / "ket_qua.xlsx"
    saved = xlsx.FAST_ROWS, xlsx.FAST_HEAD
    if request.param == "fast_rows":
        xlsx.FAST_ROWS, xlsx.FAST_HEAD = 5, 3
    try:
        write_result_workbook(sheets, src, plan=plan)
    finally:
        xlsx.FAST_ROWS, xlsx.FAST_HEAD = saved
    wb = load_workbook(src)
    assert wb["Phân bổ"]["F20"].number_format == "[$-42A]#,##0" and wb["Năm 2011"]["A19"].font.b
    return outcome, sheets, _recalculate(src, tmp)


def test_every_formula_total_equals_python(recalculated):
    _, sheets, path = recalculated
    wb = load_workbook(path, data_only=True)
    checked = 0
    for spec in sheets:
        ws = wb[spec.name]
        cache: dict = {}
        for ref, formula in spec.iter_formulas():
            expected = _evaluate(spec, ref, cache)
            got = ws[ref].value
            if expected == "":
                assert got in (None, ""), (spec.name, ref, formula, got)
            else:
                assert got == pytest.approx(expected, rel=1e-12, abs=1e-6), (spec.name, ref, formula, got, expected)
            checked += 1
    assert checked > 100


def test_year_totals_are_the_allocation_totals(recalculated):
    outcome, _, path = recalculated
    a = outcome.allocation
    per = a.amounts.sum(axis=3)
    wb = load_workbook(path, data_only=True)
    for yi, year in enumerate(a.years):
        ws = wb[f"Năm {year}"]
        total_row = 4 + len(a.units)
        assert ws.cell(total_row, 1).value == "Tổng cộng"
        assert [ws.cell(total_row, 3 + t).value for t in range(len(a.tasks))] == per[:, :, yi].sum(axis=0).tolist()
        assert [ws.cell(4 + u, 3 + len(a.tasks)).value for u in range(len(a.units))] == per[:, :, yi].sum(axis=1).tolist()
        assert ws.cell(total_row, 3 + len(a.tasks)).value == int(per[:, :, yi].sum())


def test_calamine_reads_the_recalculated_workbook_identically(recalculated):
    _, _, path = recalculated
    ours, theirs = OpenpyxlBook(path), CalamineBook(path)
    assert ours.sheet_names() == theirs.sheet_names()
    for name in ours.sheet_names():
        a, b = ours.grid(name), theirs.grid(name)
        for r in range(max(a.n_rows, b.n_rows)):
            for c in range(max(a.n_cols, b.n_cols)):
                x, y = a.value(r, c), b.value(r, c)
                assert values_equal(x, y) or (isinstance(x, float) and y == pytest.approx(x)), (name, a.address(r, c), x, y)


def test_input_formulas_keep_their_values_after_in_place_results(tmp_path):
    """An officer's input formulas (cached by a spreadsheet) still read the same after --in-place."""
    from budgetlib.io.workbook import read_workbook

    wb = load_workbook(EXAMPLES / "haiphong_2011_2015" / "plan.xlsx")
    units = wb["Địa bàn"]
    header = {c.value: c.column_letter for c in units[3]}
    communes, healthy, unhealthy = header["Số xã, phường"], header["Số xã lành mạnh"], header["Số xã chưa lành mạnh"]
    for r in range(4, 4 + 15):
        units[f"{communes}{r}"] = f"={healthy}{r}+{unhealthy}{r}"
    wb["Chương trình"]["C4"] = '=IF(1>0,"công thức chữ","")'
    src = tmp_path / "cong_thuc.xlsx"
    wb.save(src)
    cached = _recalculate(src, tmp_path)  # now the formulas have values
    plan = read_workbook(cached)
    outcome = run_allocate(OpenpyxlBook(cached))
    write_result_workbook(outcome.sheets, cached, source=cached, in_place=True)
    assert read_workbook(cached) == plan
    assert load_workbook(cached)["Địa bàn"][f"{communes}4"].value.startswith("=")
