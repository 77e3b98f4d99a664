"""Regenerate the pictures of printed reports shown in the docs (``docs/img/``).

* ``report_annex_workbook.png`` — the ``Phụ lục`` sheet of the Hải Phòng result workbook, first
  page, as LibreOffice prints it;
* ``report_year_sheet.png`` — the ``Năm 2011`` sheet (15 districts × 6 tasks on one A4 page);
* ``report_book_annex.png``, ``report_book_charts.png``, ``report_book_map.png`` — pages of the
  Hải Phòng PDF budget book (``budgetlib report … --pdf``): an annex page, a chart page, the map.

Needs LibreOffice (``soffice``) and poppler (``pdftoppm``, ``pdftotext``). Run from the repository:
``python docs/render_report_pages.py``. The pictures are made at 60 dpi and committed; look at them
after any change to the layout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "img"
PLAN = ROOT / "examples" / "haiphong_2011_2015" / "plan.json"
DPI = "60"


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")


def _png(pdf: Path, page: int, name: str, tmp: Path) -> Path:
    stem = tmp / name
    subprocess.run(["pdftoppm", "-r", DPI, "-png", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)], check=True)
    target = OUT / f"{name}.png"
    shutil.copyfile(stem.with_suffix(".png"), target)
    return target


def _first_page(pages: list[str], needle: str) -> int:
    return next(i + 1 for i, page in enumerate(pages) if needle in page)


def main() -> None:
    from budgetlib.io import load_plan
    from budgetlib.io.workbook import write_sheets
    from budgetlib.pipeline import run_allocate, write_budget_book

    OUT.mkdir(parents=True, exist_ok=True)
    plan = load_plan(PLAN)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        outcome = run_allocate(plan)
        book = tmp / "hp_ket_qua.xlsx"
        write_sheets(outcome.sheets, book)
        subprocess.run(
            ["soffice", "--headless", "--norestore", f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--convert-to", "pdf", "--outdir", str(tmp), str(book)],
            check=True, capture_output=True, timeout=300,
        )
        sheets_pdf = tmp / "hp_ket_qua.pdf"
        pages = _pages(sheets_pdf)
        written = [
            _png(sheets_pdf, _first_page(pages, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), "report_annex_workbook", tmp),
            _png(sheets_pdf, _first_page(pages, "Phân bổ năm 2011 theo địa bàn"), "report_year_sheet", tmp),
        ]
        pdf = tmp / "so_ngan_sach.pdf"
        write_budget_book(plan, pdf, plan_path=PLAN)
        pages = _pages(pdf)
        written += [
            _png(pdf, _first_page(pages, "2. Phụ lục"), "report_book_annex", tmp),
            _png(pdf, _first_page(pages, "3. Biểu đồ"), "report_book_charts", tmp),
            _png(pdf, _first_page(pages, "5. Bản đồ"), "report_book_map", tmp),
        ]
    for path in written:
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
