"""The PDF budget book: summary, annex tables, charts, explanation and map, ready to print.

Layout with reportlab's platypus (A4, margins of Nghị định 30/2020/NĐ-CP: top and bottom 2 cm,
left 3 cm, right 1,5 cm; ``Trang x/y`` at the foot of every page); pictures from
:mod:`budgetlib.report.charts`. Fonts are the DejaVu faces bundled with matplotlib, embedded as
subsets (full Vietnamese coverage). Deterministic: reportlab's ``invariant`` mode fixes the
creation date and document id, the pictures are deterministic PNGs, and nothing else varies, so
the same plan and allocation give byte-identical files.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from .._version import __version__
from ..core.i18n import format_number, tr
from ..core.lang import Lang, as_lang
from ..io.grid import printable_text
from ..io.workbook.annex import AnnexTable, annex_tables
from ..io.workbook.results import issuer_lines, label, term_label
from ..model.plan import Plan
from ..model.result import Allocation
from . import charts
from .fonts import SANS, SANS_BOLD, SERIF, SERIF_BOLD, SERIF_ITALIC, register_pdf_fonts
from .geo import Boundaries

__all__ = ["budget_book"]


def _t(key: str, lang: Lang, /, **params: Any) -> str:
    return tr(f"book.{key}", lang, **params)


def _p(text: str) -> str:
    """User or catalogue text made safe for a reportlab paragraph (markup escaped)."""
    return escape(printable_text(str(text)))


def _money(x: int, lang: Lang) -> str:
    return format_number(int(x), lang, decimals=0)


def _pct(share: float, lang: Lang) -> str:
    """A share with one decimal, always (``18,1%``, ``19,0%``)."""
    text = f"{100 * share:.1f}"
    return (text.replace(".", ",") if lang is Lang.VI else text) + "%"


def _unit_label(unit: int, lang: Lang) -> str:
    from ..core.money import MoneyUnit

    try:
        return tr(f"money.unit.{MoneyUnit(unit).name.lower()}", lang)
    except ValueError:
        return label("common.dong", lang)


def _names(plan: Plan | None, allocation: Allocation, lang: Lang) -> tuple[dict[str, str], dict[str, str]]:
    units = dict(allocation.unit_names)
    tasks = dict(allocation.task_names)
    if plan is not None:
        units.update({u.code: u.name for u in plan.units})
        tasks.update({t.code: (t.name_en if lang is Lang.EN and t.name_en else t.name) for t in plan.tasks})
    return units, tasks


class _Styles:
    def __init__(self) -> None:
        from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
        from reportlab.lib.styles import ParagraphStyle

        self.body = ParagraphStyle("body", fontName=SERIF, fontSize=10.5, leading=14, alignment=TA_JUSTIFY, spaceAfter=4)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8.5, leading=11, alignment=0)
        self.cell = ParagraphStyle("cell", fontName=SERIF, fontSize=7.5, leading=9)
        self.cell_bold = ParagraphStyle("cellb", parent=self.cell, fontName=SERIF_BOLD)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=SERIF_BOLD, alignment=TA_CENTER)
        self.h1 = ParagraphStyle("h1", fontName=SERIF_BOLD, fontSize=14, leading=18, spaceBefore=6, spaceAfter=8)
        self.h2 = ParagraphStyle("h2", fontName=SERIF_BOLD, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=5)
        self.title = ParagraphStyle("title", fontName=SERIF_BOLD, fontSize=18, leading=24, alignment=TA_CENTER, spaceAfter=6)
        self.centre = ParagraphStyle("centre", parent=self.body, alignment=TA_CENTER)
        self.centre_bold = ParagraphStyle("centreb", parent=self.centre, fontName=SERIF_BOLD)
        self.italic_right = ParagraphStyle("ir", parent=self.body, fontName=SERIF_ITALIC, alignment=TA_RIGHT, fontSize=9)
        self.issuer = ParagraphStyle("issuer", fontName=SERIF_BOLD, fontSize=10.5, leading=13.5, alignment=TA_CENTER)
        self.motto = ParagraphStyle("motto", fontName=SERIF_BOLD, fontSize=10.5, leading=13.5, alignment=TA_CENTER)


def _table(rows: list[list[Any]], widths: list[float], *, header_rows: int = 1, total_row: bool = True, numeric_from: int = 1) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    table = Table(rows, colWidths=widths, repeatRows=header_rows)
    style = [
        ("FONT", (0, 0), (-1, -1), SERIF, 7.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#808080")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#E8EEF6")),
        ("ALIGN", (numeric_from, header_rows), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if total_row:
        style.append(("FONT", (0, -1), (-1, -1), SERIF_BOLD, 7.5))
    table.setStyle(TableStyle(style))
    return table


def _annex_flowables(table: AnnexTable, heading: str, st: _Styles, lang: Lang, width: float) -> list[Any]:
    from reportlab.lib.units import cm
    from reportlab.platypus import KeepTogether, Paragraph

    nt = len(table.task_codes)
    name_w, no_w = 3.6 * cm, 0.95 * cm
    num_w = (width - name_w - no_w) / (nt + 1)
    header = [Paragraph(_p(label("annex.number", lang)), st.head), Paragraph(_p(label("common.unit_name", lang)), st.head)]
    header += [Paragraph(_p(n), st.head) for n in table.task_names]
    header.append(Paragraph(_p(label("common.total", lang)), st.head))
    rows: list[list[Any]] = [header]
    shown = table.shown
    for i, name in enumerate(table.unit_names):
        rows.append([str(i + 1), Paragraph(_p(name or table.unit_codes[i]), st.cell), *(_money(v, lang) for v in shown.cells[i].tolist()), _money(int(shown.rows[i]), lang)])
    rows.append(["", Paragraph(_p(label("common.total", lang)), st.cell_bold), *(_money(v, lang) for v in shown.cols.tolist()), _money(shown.total, lang)])
    flow = [Paragraph(_p(heading), st.h2), _table(rows, [no_w, name_w, *[num_w] * (nt + 1)], numeric_from=2)]
    return [KeepTogether(flow)] if len(rows) < 40 else flow


def budget_book(
    plan: Plan,
    allocation: Allocation,
    *,
    explanation: Sequence[str] = (),
    lang: str | Lang = Lang.VI,
    boundaries: Boundaries | None = None,
) -> bytes:
    """The budget book of one allocation, as PDF bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    lang = as_lang(lang)
    register_pdf_fonts()
    st = _Styles()
    program = plan.program
    units, tasks = _names(plan, allocation, lang)
    margins = {"leftMargin": 3.0 * cm, "rightMargin": 1.5 * cm, "topMargin": 2.0 * cm, "bottomMargin": 2.0 * cm}
    width = A4[0] - margins["leftMargin"] - margins["rightMargin"]
    story: list[Any] = []

    # --- 1. Cover and programme summary -------------------------------------------------------
    issuer = "<br/>".join(_p(x) for x in issuer_lines(program.authority))
    motto = f"{_p(label('annex.motto_country', lang))}<br/><u>{_p(label('annex.motto', lang))}</u>"
    head = Table([[Paragraph(issuer, st.issuer), Paragraph(motto, st.motto)]], colWidths=[width * 0.42, width * 0.58])
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [head, Spacer(1, 1.2 * cm), Paragraph(_p(_t("title", lang)), st.title), Paragraph(_p(_t("subtitle", lang)), st.centre_bold)]
    story += [Spacer(1, 0.3 * cm), Paragraph(_p(program.name), st.centre_bold), Paragraph(_p(_t("period", lang, first=program.first_year, last=program.last_year)), st.centre)]
    story += [Spacer(1, 0.6 * cm), Paragraph(_p(_t("summary", lang)), st.h1)]
    facts = [
        _t("code", lang, code=program.code),
        _t("total", lang, amount=allocation.total if allocation.ok else program.total),
        _t("policy", lang, policy=term_label("policy", allocation.policy, lang)),
        _t("units", lang, n=len(allocation.units)),
    ]
    if program.document:
        facts.append(_t("document", lang, document=program.document))
    story += [Paragraph("• " + _p(f), st.body) for f in facts]
    if allocation.ok:
        total = max(allocation.total, 1)

        def summary(title: str, head_label: str, keys: Sequence[Any], names: dict[Any, str], values: np.ndarray) -> list[Any]:
            rows: list[list[Any]] = [[Paragraph(_p(head_label), st.head), Paragraph(_p(_t("amount", lang)), st.head), Paragraph(_p(_t("share", lang)), st.head)]]
            for key, v in zip(keys, values.tolist()):
                rows.append([Paragraph(_p(names.get(key, str(key))), st.cell), _money(v, lang), _pct(v / total, lang)])
            rows.append([Paragraph(_p(_t("total_row", lang)), st.cell_bold), _money(int(values.sum()), lang), _pct(1.0, lang)])
            return [Paragraph(_p(title), st.h2), _table(rows, [width * 0.58, width * 0.27, width * 0.15])]

        sources = {s.code: s.name for s in plan.sources}
        story += summary(_t("by_year", lang), _t("year", lang), allocation.years, {y: str(y) for y in allocation.years}, allocation.by("year"))
        story += summary(_t("by_task", lang), _t("task", lang), allocation.tasks, tasks, allocation.by("task"))
        story += summary(_t("by_source", lang), _t("source", lang), allocation.sources, sources, allocation.by("source"))
    else:
        story.append(Paragraph(_p(_t("infeasible", lang)), st.body))
    story.append(Paragraph(_p(_t("made_by", lang, version=__version__)), st.small))

    if allocation.ok:
        # --- 2. Annex tables -----------------------------------------------------------------
        tables = annex_tables(plan, allocation, lang=lang.value)
        story += [PageBreak(), Paragraph(_p(_t("annex", lang)), st.h1)]
        unit_label = _unit_label(tables[0].unit, lang)
        story.append(Paragraph(_p(_t("unit_note", lang, unit=unit_label)), st.italic_right))
        roman = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
        for k, table in enumerate(tables):
            r = roman[k] if k < len(roman) else str(k + 1)
            heading = (label("annex.period", lang, roman=r, first=program.first_year, last=program.last_year) if table.year is None
                       else label("annex.year", lang, roman=r, year=str(table.year)))
            story += _annex_flowables(table, heading, st, lang, width)

        # --- 3. Charts -------------------------------------------------------------------------
        story += [PageBreak(), Paragraph(_p(_t("charts", lang)), st.h1)]
        by_unit = allocation.by("unit")
        need = allocation.baseline_by("unit")
        names = [units.get(u, u) for u in allocation.units]
        png = charts.share_chart(
            names, (100 * by_unit / max(by_unit.sum(), 1)).tolist(), (100 * need / max(need.sum(), 1)).tolist(), lang=lang,
            title=_t("share_chart", lang), allocated_label=_t("share_allocated", lang), need_label=_t("share_need", lang), axis_label=_t("share_axis", lang),
        )
        story.append(_image(png, width, Image))
        unit = tables[0].unit
        per = allocation.by("task", "year")
        png = charts.task_year_chart(
            allocation.years, [tasks.get(t, t) for t in allocation.tasks], per / unit, lang=lang,
            title=_t("task_year_chart", lang, unit=unit_label), axis_label=_t("task_year_axis", lang, unit=unit_label),
        )
        story.append(_image(png, width, Image))
        attainment = [a for a in allocation.attainment if a.costed]
        if attainment:
            target_names = {t.code: (t.name_en if lang is Lang.EN and t.name_en else t.name) for t in plan.targets}
            labels_ = [f"{target_names.get(a.target, a.name)} ({a.year})" if a.year else target_names.get(a.target, a.name) for a in attainment]
            png = charts.target_chart(
                labels_, [float(a.required or 0.0) for a in attainment], [float(a.funded or 0.0) for a in attainment], lang=lang,
                title=_t("target_chart", lang), required_label=_t("target_required", lang), funded_label=_t("target_funded", lang), axis_label=_t("target_axis", lang),
            )
            story.append(_image(png, width, Image))
        else:
            story.append(Paragraph(_p(_t("no_targets", lang)), st.body))

    # --- 4. Explanation ----------------------------------------------------------------------
    story += [PageBreak(), Paragraph(_p(_t("explanation", lang)), st.h1), Paragraph(_p(_t("explanation_intro", lang)), st.small)]
    for line in explanation:
        if line.strip():
            story.append(Paragraph(_p(line), st.body))

    # --- 5. Map ---------------------------------------------------------------------------------
    if allocation.ok:
        story += [PageBreak(), Paragraph(_p(_t("map", lang)), st.h1)]
        story += _map_flowables(plan, allocation, units, boundaries, lang, st, width, Image)

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, invariant=1, title=printable_text(program.name), author=printable_text(program.authority),
        subject=_t("title", lang), creator=f"budgetlib {__version__}", initialFontName=SANS, initialFontSize=9, **margins,
    )
    footer_code = printable_text(program.code)
    doc.build(story, canvasmaker=_numbered_canvas(lang, footer_code))
    return buf.getvalue()


def _image(png: bytes, width: float, image_cls: Any) -> Any:
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png)) as im:
        w, h = im.size
        rgb = io.BytesIO()
        im.convert("RGB").save(rgb, format="PNG")  # no alpha channel: one image object per picture
    scale = width / w
    return image_cls(io.BytesIO(rgb.getvalue()), width=width, height=h * scale)


def _map_flowables(plan: Plan, allocation: Allocation, units: dict[str, str], boundaries: Boundaries | None, lang: Lang, st: _Styles, width: float, image_cls: Any) -> list[Any]:
    from reportlab.platypus import Paragraph

    if boundaries is None or not any(u in boundaries.shapes for u in allocation.units):
        return [Paragraph(_p(_t("map_none", lang)), st.body)]
    population = {u.code: u.attributes.get("population") for u in plan.units}
    by_unit = dict(zip(allocation.units, allocation.by("unit").tolist()))
    values: dict[str, float | None] = {}
    for code in allocation.units:
        pop = population.get(code)
        values[code] = by_unit[code] / pop if pop else None
    missing = [units.get(c, c) for c in allocation.units if c not in boundaries.shapes]
    png = charts.choropleth(
        boundaries, values, units, lang=lang, title=_t("map_title", lang), legend=_t("map_legend", lang),
        source_note=_t("map_source", lang, source=boundaries.source_for(lang.value)),
        missing_label=_t("map_missing", lang, names=", ".join(missing)) if missing else "",
    )
    flow = [_image(png, width, image_cls)]
    # The figures behind the colours, so the map can be read without guessing shades.
    rows: list[list[Any]] = [[Paragraph(_p(label("common.unit_name", lang)), st.head), Paragraph(_p(_t("population", lang)), st.head),
                              Paragraph(_p(_t("amount", lang)), st.head), Paragraph(_p(_t("per_person", lang) + " (" + _t("map_legend", lang) + ")"), st.head)]]
    for code in allocation.units:
        pop = population.get(code)
        v = values[code]
        rows.append([Paragraph(_p(units.get(code, code)), st.cell), _money(int(pop), lang) if pop else "—", _money(by_unit[code], lang),
                     _money(round(v), lang) if v is not None else _t("map_no_population", lang)])
    flow.append(_table(rows, [width * 0.34, width * 0.18, width * 0.26, width * 0.22], total_row=False))
    return flow


def _numbered_canvas(lang: Lang, code: str) -> Any:
    """A canvas that writes ``Trang x/y`` and the plan code on every page once the count is known."""
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = kwargs.get("initialFontName") or SANS  # never a non-embedded base-14 font
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(SANS, 7.5)
                w = self._pagesize[0]
                self.drawCentredString(w / 2, 1.1 * 28.35, _t("page", lang, page=self._pageNumber, pages=total))
                self.setFont(SANS_BOLD, 7)
                self.drawString(3.0 * 28.35, self._pagesize[1] - 1.2 * 28.35, code)
                super().showPage()
            super().save()

    return NumberedCanvas
