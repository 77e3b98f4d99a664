"""The result workbook prints: LibreOffice turns it into a PDF whose pages we count and read.

A real spreadsheet engine is the authority here (as in ``test_workbook_recalc``): every result
sheet must fit its page budget (a 15-district year sheet on one A4 page), no cell may print as
``###``, amounts must print with the separators of the language, and Vietnamese sheets must not
show English labels (nor English sheets Vietnamese ones).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from budgetlib.io import load_plan
from budgetlib.io.workbook import write_sheets
from budgetlib.io.workbook.results import result_sheet_name, year_sheet_name
from budgetlib.pipeline import run_allocate

from .conftest import EXAMPLES, require_tool, soffice

HAIPHONG = EXAMPLES / "haiphong_2011_2015" / "plan.json"


def poppler(tool: str) -> str:
    return require_tool((tool,), f"{tool} (poppler-utils) is required in CI: see .ci/run", f"{tool} not installed (apt-get install poppler-utils)")


def to_pdf(src: Path, tmp: Path) -> Path:
    outdir = tmp / "pdf"
    outdir.mkdir(exist_ok=True)
    profile = (tmp / "lo_profile").as_uri()
    subprocess.run(
        [soffice(), "--headless", "--norestore", f"-env:UserInstallation={profile}", "--convert-to", "pdf", "--outdir", str(outdir), str(src)],
        check=True, capture_output=True, timeout=240,
    )
    return outdir / (src.stem + ".pdf")


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run([poppler("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture(scope="module", params=["vi", "en"])
def printed(request, tmp_path_factory):
    lang = request.param
    tmp = tmp_path_factory.mktemp(f"print_{lang}")
    plan = load_plan(HAIPHONG)
    outcome = run_allocate(plan, lang=lang)
    assert outcome.exit_code == 0
    src = tmp / f"ket_qua_{lang}.xlsx"
    write_sheets(outcome.sheets, src)
    pages = pdf_pages(to_pdf(src, tmp))
    return lang, plan, outcome, pages


def _sheet_of_page(page: str, titles: dict[str, str]) -> str | None:
    """Every result page's header holds the sheet title (the annex and log have their own top lines)."""
    head = "\n".join(page.splitlines()[:3])
    for name, title in titles.items():
        if title and title in head:
            return name
    return None


def test_page_counts_per_sheet(printed):
    lang, plan, outcome, pages = printed
    titles = {s.name: str(s.rows[0][0]) for s in outcome.sheets if s.rows and s.rows[0]}
    titles[result_sheet_name("annex", lang)] = "CỘNG HÒA" if lang == "vi" else "SOCIALIST REPUBLIC"
    counts: dict[str | None, int] = {}
    current = None
    for page in pages:
        name = _sheet_of_page(page, titles)
        current = name or current  # an annex page after the first has no header: it continues the annex
        counts[current] = counts.get(current, 0) + 1
    for year in plan.program.years:
        assert counts.get(year_sheet_name(year, lang)) == 1, (year, counts)  # 15 districts × 6 tasks on one page
    assert counts.get(result_sheet_name("summary", lang), 0) <= 3  # three tables, then the chart on its own page
    assert counts.get(result_sheet_name("attainment", lang)) == 1
    assert 1 <= counts.get(result_sheet_name("annex", lang), 0) <= 4
    assert counts.get(result_sheet_name("explanation", lang), 0) <= 6  # 75 constraints, answer and sensitivity reports
    assert len(pages) <= 60, counts  # the issue measured 162 pages for the same workbook


def test_no_cell_prints_as_hashes_and_amounts_use_the_languages_separators(printed):
    lang, _, _, pages = printed
    text = "\n".join(pages)
    assert "###" not in text
    total = "22.500.000.000" if lang == "vi" else "22,500,000,000"
    assert total in text
    assert ("22.500" if lang == "vi" else "22,500") in text  # the annex total in triệu đồng
    # percentages with the language's decimal mark
    assert re.search(r"\d,\d%" if lang == "vi" else r"\d\.\d%", text)


def test_every_district_name_prints_with_its_diacritics(printed):
    _, plan, _, pages = printed
    text = "\n".join(pages)
    for unit in plan.units:
        assert unit.name in text, unit.name


_ENGLISH = re.compile(r"\b(optimal|binding|not binding|budget|floor|cap|stability|target|severity|error|total|allocation|unit|task)\b", re.I)
_VIETNAMESE_LABELS = ("Tổng cộng", "Phân bổ", "Chặt", "Mức sàn", "Mức trần", "Trạng thái", "Địa bàn", "Nhiệm vụ")


def test_labels_are_in_the_language_of_the_run(printed):
    lang, _, _, pages = printed
    text = "\n".join(pages)
    if lang == "vi":
        # Plan codes, the policy identifier in the solver's own explanation and proper names aside.
        leaks = {m.group(0).lower() for m in _ENGLISH.finditer(text)}
        assert leaks == set(), leaks
    else:
        for label in _VIETNAMESE_LABELS:
            assert label not in text, label


def _other_result_sheets(lang: str):
    """The result sheets of the scenario comparison, the budget curve and the yearly cycle."""
    from budgetlib.pipeline import run_curve, run_progress, run_scenarios

    tanchau = load_plan(EXAMPLES / "tanchau_2022" / "plan.json")
    scen = run_scenarios(tanchau, lang=lang)
    curve = run_curve(load_plan(EXAMPLES / "quangbinh_2017" / "plan.json"), lang=lang)
    cycle = EXAMPLES / "haiphong_2011_2015_cycle"
    progress = run_progress(load_plan(cycle / "plan.json"), "2013H1", actuals=cycle / "actuals.json", lang=lang)
    sheets = [*scen.sheets, *curve.sheets, *progress.sheets]
    assert sheets and all(s.kind == "result" or s.name in ("Nhật ký", "Run log") for s in sheets)
    return sheets


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_scenario_curve_and_cycle_sheets_are_print_ready(lang, tmp_path):
    """Not only the allocation's sheets: every result sheet has a page setup and number formats in
    its language, and the budget curve (table, notes and chart) prints on one page in vi-VN digits."""
    tag = "[$-42A]" if lang == "vi" else "[$-409]"
    for spec in _other_result_sheets(lang):
        if spec.name in ("Nhật ký", "Run log"):
            continue
        assert spec.page is not None and spec.page.paper == "A4" and spec.page.fit_width == 1, spec.name
        formats = [*spec.cell_formats.values(), *spec.column_formats.values()]
        assert all(f.startswith("[$-") for f in formats if f not in ("@", "0", "General")), (spec.name, set(formats))
        assert any(f.startswith(tag) for f in formats) or not formats, spec.name
    from budgetlib.pipeline import run_curve

    curve = run_curve(load_plan(EXAMPLES / "quangbinh_2017" / "plan.json"), lang=lang)
    src = tmp_path / f"curve_{lang}.xlsx"
    write_sheets(curve.sheets, src)
    pages = pdf_pages(to_pdf(src, tmp_path))
    assert len(pages) == 1 and "###" not in pages[0]
    assert ("1.200.000.000" if lang == "vi" else "1,200,000,000") in pages[0]
