"""The cycle's worked examples are what their builders write, the workbooks say what the JSON says,
and LibreOffice — a real spreadsheet engine — recalculates the cycle sheets' formulas to the
figures budgetlib computed."""

from __future__ import annotations

import importlib.util
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from budgetlib.io import load_plan, plan_to_json
from budgetlib.io.actuals import read_actuals
from budgetlib.io.workbook import read_workbook, write_sheets
from budgetlib.model.actuals import Actuals
from budgetlib.pipeline.cycle import run_carry_over, run_chain, run_progress, run_revise

from .conftest import soffice
from .cycle_support import HP_CYCLE, TN_CHAIN


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"cycle_example_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@cache
def hp_built():
    return _load(HP_CYCLE / "build_cycle.py").build()


def test_the_haiphong_cycle_files_are_what_the_builder_writes():
    plan, actuals, _ = hp_built()
    stale = "stale: run python examples/haiphong_2011_2015_cycle/build_cycle.py"
    assert (HP_CYCLE / "plan.json").read_text(encoding="utf-8") == plan_to_json(plan), stale
    assert (HP_CYCLE / "actuals.json").read_text(encoding="utf-8") == actuals.to_json(), stale
    assert plan_to_json(read_workbook(HP_CYCLE / "plan.xlsx")) == plan_to_json(plan), stale
    assert read_actuals(HP_CYCLE / "actuals.xlsx", plan="x").actuals.to_json() == actuals.to_json(), stale
    assert actuals.illustrative and all(a.code != "A10" or "MINH HỌA" in a.text_vi for a in plan.assumptions)
    assert {s.code: s.carry_over.value for s in plan.sources} == {"NS_TP": "pool", "NS_QH": "unit", "TW": "unit", "XHH": "unit"}


def test_the_chain_files_are_what_the_builder_writes():
    built = _load(TN_CHAIN / "build_chain.py").build_all()
    for name, plan in built.items():
        assert (TN_CHAIN / name).read_text(encoding="utf-8") == plan_to_json(plan), f"{name} stale: run python examples/tayninh_2022_chain/build_chain.py"
        assert plan_to_json(read_workbook(TN_CHAIN / "xlsx" / name.replace(".json", ".xlsx"))) == plan_to_json(plan)
    # Tân Châu is the batch helper's plan, unchanged but for the provincial source's tasks.
    original = load_plan(TN_CHAIN.parent / "tanchau_2022" / "plan.json")
    tc = built["huyen_tan_chau.json"]
    assert tc.budget_lines == original.budget_lines and tc.units == original.units and tc.allocation == original.allocation


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """Every cycle sheet of the Hải Phòng example and the Tây Ninh chain in one workbook, recalculated by LibreOffice."""
    from openpyxl import load_workbook

    tmp = tmp_path_factory.mktemp("cycle_recalc")
    plan = load_plan(HP_CYCLE / "plan.json")
    doc = Actuals.from_json((HP_CYCLE / "actuals.json").read_text(encoding="utf-8"))
    prog = run_progress(plan, "2013H1", actuals=doc)
    rev = run_revise(plan, "2013H1", actuals=doc)
    carry = run_carry_over(plan, 2013, actuals=doc, state=rev.state)
    chained = run_chain([str(TN_CHAIN)])
    outcomes = {"progress": prog, "revision": rev, "carry": carry, "chain": chained}
    for o in outcomes.values():
        assert o.ok, [p.render("en") for p in o.problems]
    sheets = [s for o in (prog, rev, carry, chained) for s in o.sheets if s.name not in ("Nhật ký", "Lỗi")]
    src = write_sheets(sheets, tmp / "cycle.xlsx")
    outdir = tmp / "out"
    outdir.mkdir()
    subprocess.run([soffice(), "--headless", "--norestore", f"-env:UserInstallation={(tmp / 'lo').as_uri()}", "--convert-to", "xlsx",
                    "--outdir", str(outdir), str(src)], check=True, capture_output=True, timeout=240)
    wb = load_workbook(outdir / "cycle.xlsx", data_only=True)
    return wb, outcomes


def _total_row(ws, label: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)


def test_progress_formulas_recalculate_to_our_figures(recalculated):
    wb, o = recalculated
    p = o["progress"].progress
    ws = wb["Tiến độ"]
    r = _total_row(ws, "Tổng cộng")
    assert ws.cell(r, 3).value == p.total_allocated and ws.cell(r, 4).value == p.total_disbursed
    assert ws.cell(r, 5).value == pytest.approx(p.total_disbursed / p.total_allocated)
    assert ws.cell(r, 6).value == p.total_allocated - p.total_disbursed
    assert ws.cell(r, 8).value == int(p.disbursed_to_date.sum())
    report = wb["Báo cáo 6 tháng"]
    r = _total_row(report, "Tổng cộng")
    assert report.cell(r, 3).value == p.total_allocated and report.cell(r, 5).value == pytest.approx(p.total_disbursed / p.total_allocated)
    targets = wb["Tiến độ chỉ tiêu"]
    ct2 = next(r for r in range(1, targets.max_row + 1) if targets.cell(r, 1).value == "CT2")
    assert targets.cell(ct2, 7).value == pytest.approx((162 - 149) / (178 - 149))


def test_revision_carry_over_and_chain_formulas_recalculate(recalculated):
    wb, o = recalculated
    rev = o["revision"].revision
    ws = wb["Điều chỉnh"]
    r = _total_row(ws, "Tổng cộng")
    assert ws.cell(r, 3).value == ws.cell(r, 5).value == int(rev.original.sum()) and ws.cell(r, 6).value == 0
    c = o["carry"].carry.closing
    ws = wb["Chuyển nguồn"]
    checks = [ws.cell(r, 7).value for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 7).value, (int, float))]
    assert checks and all(v == 0 for v in checks)
    r = _total_row(ws, "Tổng cộng")
    assert [ws.cell(r, k).value for k in (3, 4, 5, 6)] == [int(c.allocated.sum()), int(c.disbursed.sum()), int(c.carried.sum()), int(c.recalled.sum())]
    nxt = o["carry"].carry.state
    ws = wb["Năm sau"]
    r = _total_row(ws, "Tổng cộng")
    assert ws.cell(r, 6).value == int(nxt.year(2014).sum())
    ws = wb["Liên cấp"]
    r = _total_row(ws, "Tổng cộng")
    rows = o["chain"].carry.rows
    assert ws.cell(r, 7).value == ws.cell(r, 8).value == sum(x.from_above for x in rows) and ws.cell(r, 9).value == 0
    assert np.all(c.residual() == 0)


def _pdf_pages(path: Path) -> int:
    import re

    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def test_the_printable_report_prints_on_two_a4_pages_in_both_languages(tmp_path):
    """Five columns that fit an A4 page in portrait, text wrapped to the page: LibreOffice prints the
    15-district 6-monthly report on two pages in Vietnamese and in English."""
    plan = load_plan(HP_CYCLE / "plan.json")
    doc = Actuals.from_json((HP_CYCLE / "actuals.json").read_text(encoding="utf-8"))
    files = []
    for lang in ("vi", "en"):
        o = run_progress(plan, "2013H1", actuals=doc, lang=lang)
        spec = next(s for s in o.sheets if s.name in ("Báo cáo 6 tháng", "Half-year report"))
        assert max(len(r) for r in spec.rows) <= 5 and sum(spec.column_widths.values()) <= 66
        assert all(len(r[0]) <= 64 for r in spec.rows if len(r) == 1 and isinstance(r[0], str))
        files.append(write_sheets([spec], tmp_path / f"report_{lang}.xlsx"))
    subprocess.run([soffice(), "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), *map(str, files)], check=True, capture_output=True, timeout=240)
    for lang in ("vi", "en"):
        assert _pdf_pages(tmp_path / f"report_{lang}.pdf") == 2, lang
