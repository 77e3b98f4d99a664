"""Sheets of the store for workbooks: version history, the list of versions, the comparison of two.

Pure layout (:class:`~budgetlib.io.grid.SheetSpec`); every renderer (openpyxl, the Excel ribbon,
Calc) draws them. Times are written in UTC (the header says so); names and values from users are
written as text, never as formulas; only the totals are formulas (``SUM`` over the written cells).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ..core.i18n import tr
from ..core.lang import Lang, as_lang
from ..core.money import format_amount
from ..io.grid import AMOUNT_FORMAT, CellValue, Formula, SheetSpec, TableSpec, column_letter, range_ref
from .diff import ChangeKind, FieldChange, PlanDiff
from .records import HistoryEvent, VersionInfo

__all__ = ["history_sheet", "versions_sheet", "diff_sheet", "show_value", "TIME_FORMAT"]

TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_MONEY_FIELDS = {"amount", "total", "per_attribute_amount"}
_SHOW_MAX = 160


def _naive_utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.astimezone(UTC).replace(tzinfo=None, microsecond=0)


def show_value(value: Any, lang: str | Lang, *, field: str | None = None) -> str:
    """A JSON value as one line for people: money in the language's format, text as it is, other
    values as compact JSON cut at 160 characters; an absent value is ``—``."""
    lang = as_lang(lang)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return tr(f"store.value.{str(value).lower()}", lang)
    if isinstance(value, int) and field in _MONEY_FIELDS:
        return format_amount(value, lang=lang)
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "name" in value and isinstance(value["name"], str):
        head = f"{value.get('code', '')} {value['name']}".strip()
        return head if len(head) <= _SHOW_MAX else head[:_SHOW_MAX] + "…"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= _SHOW_MAX else text[:_SHOW_MAX] + "…"


def _last_field(change: FieldChange) -> str | None:
    names = [s for s in change.path if isinstance(s, str)]
    return names[-1] if names else None


def _spec(name_code: str, title: str, subtitle: str, lang: Lang) -> SheetSpec:
    return SheetSpec(tr(name_code, lang), [[title], [subtitle]], title_rows={1})


def _header(spec: SheetSpec, labels: Sequence[str]) -> int:
    spec.rows.append(list(labels))
    r = len(spec.rows)
    spec.bold_rows.add(r)
    return r


def history_sheet(events: Sequence[HistoryEvent], *, plan_code: str, lang: str | Lang = Lang.VI) -> SheetSpec:
    """``Lịch sử phiên bản``: one row per event of a plan, oldest first."""
    lang = as_lang(lang)
    spec = _spec("store.sheet.history", tr("store.sheet.history_title", lang, plan=plan_code), tr("store.sheet.time_note", lang), lang)
    spec.rows.append([])
    hr = _header(spec, [tr(f"store.column.{c}", lang) for c in ("at", "event", "version", "actor", "what")])
    for e in events:
        spec.rows.append([_naive_utc(e.at), tr(f"store.event_kind.{e.kind.value}", lang), e.version or "", e.actor, e.summary.render(lang)])
    last = max(len(spec.rows), hr + 1)
    if len(spec.rows) == hr:
        spec.rows.append([None, None, None, None, tr("store.sheet.empty", lang)])
    spec.tables.append(TableSpec("BL_LichSu", range_ref(hr, 1, last, 5), style="TableStyleLight9"))
    spec.column_formats = {0: TIME_FORMAT}
    spec.format_from_row = hr + 1
    spec.column_widths = {0: 20, 1: 16, 2: 22, 3: 22, 4: 90}
    spec.wrap_cols = {4}
    spec.freeze = f"A{hr + 1}"
    return spec


def versions_sheet(versions: Sequence[VersionInfo], *, lang: str | Lang = Lang.VI) -> SheetSpec:
    """``Phiên bản``: every version with its stage, who saved it, when, its total and hash."""
    lang = as_lang(lang)
    spec = _spec("store.sheet.versions", tr("store.sheet.versions_title", lang), tr("store.sheet.time_note", lang), lang)
    spec.rows.append([])
    cols = ("version", "stage", "saved_at", "saved_by", "total", "approved", "hash", "note")
    hr = _header(spec, [tr(f"store.column.{c}", lang) for c in cols])
    for v in versions:
        approved = ""
        if v.approval is not None:
            approved = tr("store.sheet.approved_by", lang, who=v.approval.approved_by, decision=v.approval.decision or "—")
        spec.rows.append([v.ref, v.stage.label.render(lang), _naive_utc(v.created_at), v.created_by, v.total, approved, v.content_hash, v.note])
    last = max(len(spec.rows), hr + 1)
    spec.tables.append(TableSpec("BL_PhienBan", range_ref(hr, 1, last, len(cols)), style="TableStyleLight9"))
    for r in range(hr + 1, last + 1):
        spec.cell_formats[f"C{r}"] = TIME_FORMAT
        spec.cell_formats[f"E{r}"] = AMOUNT_FORMAT
    spec.column_widths = {0: 22, 1: 14, 2: 20, 3: 22, 4: 20, 5: 36, 6: 66, 7: 40}
    spec.freeze = f"B{hr + 1}"
    return spec


def diff_sheet(diff: PlanDiff, *, lang: str | Lang = Lang.VI) -> SheetSpec:
    """``So sánh phiên bản``: the plan changes (item, change, A, B), then the allocation changes per
    unit × task × year (A, B, difference) with SUM totals; a line when nothing changed."""
    lang = as_lang(lang)
    subtitle = tr("store.sheet.diff_subtitle", lang, a=diff.a, b=diff.b, a_hash=diff.a_hash[:12], b_hash=diff.b_hash[:12])
    spec = _spec("store.sheet.diff", tr("store.sheet.diff_title", lang, a=diff.a, b=diff.b), subtitle, lang)
    for note in diff.notes:
        spec.rows.append([note.render(lang)])
    spec.rows.append([])
    spec.rows.append([tr("store.sheet.fields_heading", lang)])
    spec.bold_rows.add(len(spec.rows))
    hr = _header(spec, [tr(f"store.column.{c}", lang) for c in ("item", "change", "in_a", "in_b")])
    for c in diff.fields:
        name = _last_field(c)
        spec.rows.append([c.where, c.kind.label.render(lang), _cell(c.old, c.kind, lang, name, old=True), _cell(c.new, c.kind, lang, name, old=False)])
    if not diff.fields:
        spec.rows.append([tr("store.diff.no_field_changes", lang)])
    else:
        spec.tables.append(TableSpec("BL_SoSanh_KeHoach", range_ref(hr, 1, len(spec.rows), 4), style="TableStyleLight9"))
    spec.rows.append([])
    spec.rows.append([tr("store.sheet.amounts_heading", lang)])
    spec.bold_rows.add(len(spec.rows))
    if diff.compared_allocations:
        ah = _header(spec, [tr(f"store.column.{c}", lang) for c in ("unit", "unit_name", "task", "task_name", "year")] + [diff.a, diff.b, tr("store.column.delta", lang)])
        for a in diff.amounts:
            spec.rows.append([a.unit, diff.unit_names.get(a.unit, ""), a.task, diff.task_names.get(a.task, ""), a.year, a.old, a.new, a.delta])
        first, last = ah + 1, len(spec.rows)
        if diff.amounts:
            spec.tables.append(TableSpec("BL_SoSanh_PhanBo", range_ref(ah, 1, last, 8), style="TableStyleLight9"))
            total: list[CellValue] = [tr("store.column.total_changed", lang), None, None, None, None]
            total += [Formula(f"=SUM({column_letter(c)}{first}:{column_letter(c)}{last})") for c in (6, 7, 8)]
            spec.rows.append(total)
            spec.bold_rows.add(len(spec.rows))
        else:
            spec.rows.append([tr("store.diff.no_amount_changes", lang)])
        spec.rows.append([tr("store.column.allocated_total", lang), None, None, None, None, diff.a_total, diff.b_total, (diff.b_total or 0) - (diff.a_total or 0)])
        spec.bold_rows.add(len(spec.rows))
        for r in range(first, len(spec.rows) + 1):
            for col in "FGH":
                spec.cell_formats[f"{col}{r}"] = AMOUNT_FORMAT
    else:
        spec.rows.append([tr("store.diff.no_allocations", lang)])
    spec.column_widths = {0: 44, 1: 26, 2: 34, 3: 34, 4: 8, 5: 18, 6: 18, 7: 18}
    spec.wrap_cols = {2, 3}
    return spec


def _cell(value: Any, kind: ChangeKind, lang: Lang, name: str | None, *, old: bool) -> str:
    if kind is ChangeKind.REORDERED:
        return ", ".join(str(v) for v in value)
    return show_value(value, lang, field=name)
