"""The PDF budget book: it renders, every page has ink, it says the total and every district's name,
it holds the charts and the map as pictures, it embeds its fonts, and it is the same bytes twice.

Independent readers do the checking: poppler's ``pdftotext``/``pdfimages``/``pdffonts`` and
``pdftoppm`` (rendered pages are inspected pixel by pixel with Pillow).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from budgetlib.io import load_plan
from budgetlib.pipeline import run_allocate, write_budget_book
from budgetlib.report import load_boundaries
from budgetlib.report.charts import _quantile_breaks

from .conftest import EXAMPLES, tiny_plan_data
from .test_report_print import poppler

HAIPHONG = EXAMPLES / "haiphong_2011_2015" / "plan.json"
TANCHAU = EXAMPLES / "tanchau_2022" / "plan.json"


def _text(pdf: Path) -> str:
    return subprocess.run([poppler("pdftotext"), str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def _images(pdf: Path) -> list[list[str]]:
    out = subprocess.run([poppler("pdfimages"), "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


@pytest.fixture(scope="module", params=["vi", "en"])
def haiphong_book(request, tmp_path_factory):
    lang = request.param
    out = tmp_path_factory.mktemp(f"book_{lang}") / f"so_ngan_sach_{lang}.pdf"
    done = write_budget_book(load_plan(HAIPHONG), out, lang=lang, plan_path=HAIPHONG)
    assert done.exit_code == 0 and done.path == out and done.boundaries is not None
    return lang, out


def test_the_book_states_the_total_and_every_district(haiphong_book):
    lang, pdf = haiphong_book
    text = _text(pdf)
    assert ("22.500.000.000" if lang == "vi" else "22,500,000,000") in text
    for unit in load_plan(HAIPHONG).units:
        assert unit.name in text, unit.name  # with its diacritics: the fonts carry a ToUnicode map
    assert ("SỔ NGÂN SÁCH" if lang == "vi" else "BUDGET BOOK") in text
    assert ("Trang 1/" if lang == "vi" else "Page 1 of ") in text


def test_charts_and_map_are_pictures_in_the_book(haiphong_book):
    _, pdf = haiphong_book
    images = [row for row in _images(pdf) if row[2] == "image"]
    assert len(images) >= 4  # share, task × year, targets, map
    pages = {int(row[0]) for row in images}
    assert len(pages) >= 3


def test_every_page_renders_with_ink(haiphong_book, tmp_path):
    from PIL import Image

    _, pdf = haiphong_book
    subprocess.run([poppler("pdftoppm"), "-r", "30", "-png", str(pdf), str(tmp_path / "p")], check=True, capture_output=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) >= 6
    for png in pngs:
        with Image.open(png) as im:
            dark = sum(im.convert("L").histogram()[:200])
        assert dark > 500, png.name  # more than the page number: real content


def test_fonts_are_embedded(haiphong_book):
    _, pdf = haiphong_book
    out = subprocess.run([poppler("pdffonts"), str(pdf)], check=True, capture_output=True, text=True).stdout
    used = [line.split() for line in out.splitlines()[2:] if "DejaVu" in line]
    assert used and all(cols[-5] == "yes" for cols in used)  # emb


def test_same_plan_same_bytes(haiphong_book, tmp_path):
    lang, first = haiphong_book
    again = tmp_path / "again.pdf"
    write_budget_book(load_plan(HAIPHONG), again, lang=lang, plan_path=HAIPHONG)
    assert again.read_bytes() == first.read_bytes()


def test_a_plan_without_boundaries_says_so(tmp_path):
    out = tmp_path / "tc.pdf"
    done = write_budget_book(load_plan(TANCHAU), out, plan_path=TANCHAU)
    assert done.exit_code == 0 and done.boundaries is None
    assert "Không có bản đồ" in _text(out)


def test_user_text_with_markup_is_printed_as_written(tmp_path):
    from budgetlib.planning.validation import load_plan_data

    data = tiny_plan_data()
    data["units"][0]["name"] = "Quận <b>Một</b> & Hai"
    plan = load_plan_data(data)
    out = tmp_path / "m.pdf"
    assert write_budget_book(plan, out).exit_code == 0
    assert "Quận <b>Một</b> & Hai" in " ".join(_text(out).split())  # (a narrow column may wrap it)


def test_an_infeasible_plan_gets_a_book_with_its_diagnosis(tmp_path):
    from budgetlib.model.policy import FloorConstraint

    plan = load_plan(HAIPHONG)
    policy = plan.allocation.model_copy(update={"constraints": [FloorConstraint(name="Sàn quá cao", amount=10_000_000_000)]})
    plan = plan.model_copy(update={"allocation": policy})
    out = tmp_path / "inf.pdf"
    done = write_budget_book(plan, out)
    assert done.exit_code == 2 and out.exists()
    assert "Không có phương án phân bổ khả thi" in _text(out)


def test_a_plan_with_errors_writes_no_book(tmp_path):
    from budgetlib.io.grid import DictBook

    out = tmp_path / "x.pdf"
    done = write_budget_book(DictBook({}), out)
    assert done.exit_code == 1 and done.path is None and not out.exists() and done.problems


def test_boundary_file_is_read_with_codes_and_source():
    shapes = load_boundaries(EXAMPLES / "haiphong_2011_2015" / "boundaries.geojson")
    assert set(shapes.shapes) == {u.code for u in load_plan(HAIPHONG).units}
    assert "gis.chinhphu.vn" in shapes.source and "GPL-3.0" in shapes.source_for("vi")


def test_quantile_classes_resist_an_outlier():
    breaks = _quantile_breaks([8_814, 9_177, 9_314, 9_952, 10_209, 12_555, 13_373, 27_361, 464_744], 5)
    assert breaks[0] == 8_814 and breaks[-1] == 464_744 and len(breaks) >= 5
    assert all(a < b for a, b in itertools.pairwise(breaks))


def test_cli_report_pdf(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(tiny_plan_data(), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "book.pdf"
    done = subprocess.run([sys.executable, "-m", "budgetlib", "report", str(plan), "--pdf", str(out), "--lang", "en"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Wrote the budget book" in done.stdout and out.stat().st_size > 10_000
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    done = subprocess.run([sys.executable, "-m", "budgetlib", "report", str(plan), "--pdf", str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3 and str(folder) in done.stderr and "Traceback" not in done.stderr


def test_run_outcome_feeds_the_book_bytes():
    from budgetlib.pipeline import budget_book_bytes
    from budgetlib.planning.validation import load_plan_data

    run = run_allocate(load_plan_data(tiny_plan_data()), lang="en")
    data = budget_book_bytes(run)
    assert data.startswith(b"%PDF-") and b"budgetlib" in data
