"""Actuals files: JSON, CSV and (through :mod:`budgetlib.io.workbook.actuals`) the Thực hiện sheets.

Every reader turns raw records — a JSON object, a CSV row, a sheet row — into the model with the
same field conversions and the same located problems: an unreadable or negative amount, a missing
code, a period that is not a period, each at its cell (``Thực hiện!G12``, ``giai_ngan.csv!F5``) or
JSON path (``disbursements[3].amount``). Records with a field problem are left out and the others
kept, so :func:`~budgetlib.planning.execution.check_actuals` still checks them: one run reports
everything. The result is an :class:`ActualsRead` whose ``locate`` maps the JSON paths of the kept
records back to where they were read.

In a table (CSV or sheet) a row whose amount and estimate (or, for results, value) are blank reports
nothing — a pre-filled template row not filled in yet — while a JSON record without an amount is a
problem.

CSV files hold one table: disbursements (``unit, task, source, period, amount[, forecast, note]``)
or indicator results (``target, unit, period, value[, note]``), with Vietnamese or English headers,
comma, semicolon or tab separated, UTF-8 (a BOM is fine).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.i18n import LocalizedError, Msg, tr
from ..core.lang import Lang
from ..core.money import AmountError, MoneyUnit, amount_from_number, parse_amount
from ..core.problems import PlanInvalid, Problem, Source, json_path
from ..core.text import fold, nfc
from ..model.actuals import ACTUALS_SCHEMA, Actuals, Disbursement, IndicatorResult, Period
from .atomic import atomic_write_text
from .files import FileKind, file_kind
from .grid import column_letter
from .jsonio import MAX_JSON_BYTES, decode_text, read_bytes, read_plan_data

__all__ = [
    "ActualsRead",
    "RawRecord",
    "FIELDS",
    "records_to_actuals",
    "read_actuals_json",
    "read_actuals_csv",
    "read_actuals",
    "save_actuals",
    "header_key",
]


@dataclass(frozen=True)
class FieldDef:
    """A column of a disbursement or result table: its key, how cells are read, spellings accepted
    besides its headers in the catalogue (``cycle.header.<kind>.<key>`` in every language)."""

    key: str
    kind: str  # code | opt_code | period | money | opt_money | number | text
    aliases: tuple[str, ...] = ()

    def header(self, table: str, lang: str | Lang) -> str:
        return tr(f"cycle.header.{table}.{self.key}", lang)


FIELDS: dict[str, tuple[FieldDef, ...]] = {
    "disbursements": (
        FieldDef("unit", "code", ("ma don vi", "unit", "ma dia ban")),
        FieldDef("task", "code", ("task", "nhiem vu")),
        FieldDef("source", "code", ("source", "nguon")),
        FieldDef("period", "period", ("ky", "period", "ky bao cao")),
        FieldDef("amount", "money", ("da giai ngan", "giai ngan", "disbursed", "amount", "so tien")),
        FieldDef("forecast", "opt_money", ("uoc thuc hien ca nam", "uoc thuc hien", "forecast", "full year estimate")),
        FieldDef("note", "text", ("note", "ghi chu")),
    ),
    "results": (
        FieldDef("target", "code", ("target", "chi tieu")),
        FieldDef("unit", "opt_code", ("ma don vi", "unit", "ma dia ban")),
        FieldDef("period", "period", ("ky", "period", "ky bao cao")),
        FieldDef("value", "number", ("ket qua", "gia tri", "value", "result")),
        FieldDef("note", "text", ("note", "ghi chu")),
    ),
}
"""The fields of each record kind (used by the CSV and sheet readers and by the sheet template)."""

_VALUE_FIELDS = {"disbursements": {"amount", "forecast"}, "results": {"value"}}
"""A table row with all of these blank reports nothing (a pre-filled template row not filled in)."""

_FIELD_MSG = {"unit": "unit", "task": "task", "source": "source", "period": "period", "amount": "amount", "forecast": "forecast",
              "target": "target", "value": "value"}


def header_key(text: Any) -> str:
    """A header cell folded for matching: no diacritics, no parenthesised unit, single spaces."""
    if text is None:
        return ""
    s = fold(str(text))
    s = re.sub(r"\([^)]*\)", " ", s)
    return " ".join(s.replace("_", " ").split())


def _header_map(kind: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in FIELDS[kind]:
        for name in (*(f.header(kind, lang) for lang in Lang), f.key, *f.aliases):
            out.setdefault(header_key(name), f.key)
    return out


@dataclass
class RawRecord:
    """One record as read: raw cell values by field key, where each came from, and the row itself."""

    kind: str  # "disbursements" | "results"
    values: dict[str, Any]
    where: dict[str, Source]
    row: Source


@dataclass
class ActualsRead:
    """Actuals as read: the document (``None`` when nothing could be read), every problem, and
    ``locate(path)`` for the JSON paths of the kept records (``disbursements[3].amount``)."""

    actuals: Actuals | None
    problems: list[Problem]
    sources: dict[str, Source] = field(default_factory=dict)

    def locate(self, path: str) -> Source:
        probe = path
        while probe:
            if probe in self.sources:
                return self.sources[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            if cut <= 0:
                break
            probe = probe[:cut]
        return self.sources.get(probe) or self.sources.get("") or Source(path=path)


def _code(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return nfc(str(v))


def _money(v: Any, unit: MoneyUnit) -> int:
    if isinstance(v, bool):
        raise AmountError("money.whole")
    if isinstance(v, str):
        return parse_amount(v, unit=unit)
    return amount_from_number(v, unit)


def _number(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError(v)
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).strip().replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"-?\d+(,\d+)?", s):
        return float(s.replace(",", "."))
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", s):
        return float(s.replace(".", "").replace(",", "."))
    if re.fullmatch(r"-?\d+\.\d+", s):
        return float(s)
    raise ValueError(v)


def _convert(rec: RawRecord, unit: MoneyUnit, problems: list[Problem]) -> dict[str, Any] | None:
    """The record's fields converted, or None (its problems appended) when one cannot be read."""
    data: dict[str, Any] = {}
    ok = True
    for f in FIELDS[rec.kind]:
        raw = rec.values.get(f.key)
        if isinstance(raw, str) and not raw.strip():
            raw = None
        where = rec.where.get(f.key, rec.row)
        label = Msg(f"cycle.field.{_FIELD_MSG[f.key]}") if f.key in _FIELD_MSG else None
        if raw is None:
            if f.kind in ("code", "period", "money", "number"):
                problems.append(Problem("cycle.actuals.missing", where, {"field": label}))
                ok = False
            continue
        try:
            if f.kind in ("code", "opt_code"):
                value: Any = _code(raw)
            elif f.kind == "period":
                value = Period.parse(raw)
            elif f.kind in ("money", "opt_money"):
                value = _money(raw, unit)
                if value < 0:
                    problems.append(Problem("cycle.actuals.negative", where, {"field": label, "value": str(raw)}))
                    ok = False
                    continue
            elif f.kind == "number":
                value = _number(raw)
                if not math.isfinite(value):
                    raise ValueError(raw)
                if value < 0:
                    problems.append(Problem("cycle.actuals.negative", where, {"field": label, "value": str(raw)}))
                    ok = False
                    continue
            else:
                value = nfc(str(raw)) if not isinstance(raw, str) else nfc(raw)
        except AmountError as exc:
            if isinstance(raw, str) and raw.strip().startswith(("-", "−")):
                problems.append(Problem("cycle.actuals.negative", where, {"field": label, "value": str(raw)}))
            else:
                problems.append(Problem(exc.code, where, exc.params))
            ok = False
            continue
        except LocalizedError as exc:
            problems.append(Problem(exc.code, where, exc.params))
            ok = False
            continue
        except (ValueError, TypeError, OverflowError):
            problems.append(Problem("cycle.actuals.number_unreadable", where, {"value": str(raw)}))
            ok = False
            continue
        data[f.key] = value
    return data if ok else None


def records_to_actuals(
    records: Iterable[RawRecord],
    *,
    plan: str,
    title: str = "",
    illustrative: bool = False,
    note: str = "",
    unit: MoneyUnit = MoneyUnit.DONG,
    document: Source | None = None,
) -> ActualsRead:
    """Build :class:`Actuals` from raw records; every field problem is located, bad records dropped."""
    problems: list[Problem] = []
    kept: dict[str, list[Any]] = {"disbursements": [], "results": []}
    sources: dict[str, Source] = {"": document or Source()}
    sources["plan"] = document or Source()
    for rec in records:
        data = _convert(rec, unit, problems)
        if data is None:
            continue
        model = Disbursement if rec.kind == "disbursements" else IndicatorResult
        try:
            item = model.model_validate(data)
        except Exception as exc:  # pragma: no cover - fields were converted and checked above
            problems.append(Problem("cycle.actuals.number_unreadable", rec.row, {"value": str(exc)}))
            continue
        i = len(kept[rec.kind])
        base = json_path(rec.kind, i)
        sources[base] = rec.row
        for key, where in rec.where.items():
            sources[f"{base}.{key}"] = where
        kept[rec.kind].append(item)
    actuals = Actuals(plan=plan, title=title, illustrative=illustrative, note=note, disbursements=kept["disbursements"], results=kept["results"])
    return ActualsRead(actuals, problems, sources)


# ---------------------------------------------------------------------------------------------
# JSON


def read_actuals_json(path: str | Path, *, plan: str | None = None) -> ActualsRead:
    """Read an actuals JSON document (:meth:`Actuals.to_json`); problems located by JSON path."""
    path = Path(path)
    doc = Source(file=path.name)
    try:
        data = read_plan_data(path)
    except PlanInvalid as exc:
        probs = [Problem("cycle.actuals.json_shape", doc) if p.code == "file.json_shape" else p for p in exc.problems]
        return ActualsRead(None, probs)
    problems: list[Problem] = []
    tag = data.get("schema", ACTUALS_SCHEMA)
    if tag != ACTUALS_SCHEMA:
        return ActualsRead(None, [Problem("cycle.actuals.json_schema", Source(file=path.name, path="schema"), {"value": str(tag)})])
    unknown = sorted(set(data) - {"schema", "schema_version", "plan", "title", "illustrative", "note", "disbursements", "results"})
    for key in unknown:
        problems.append(Problem("cycle.actuals.unknown_field", Source(file=path.name, path=key), {"value": key}))
    records: list[RawRecord] = []
    for kind in ("disbursements", "results"):
        items = data.get(kind, [])
        if not isinstance(items, list):
            problems.append(Problem("cycle.actuals.json_list", Source(file=path.name, path=kind), {"value": kind}))
            continue
        names = {f.key for f in FIELDS[kind]}
        for i, item in enumerate(items):
            base = json_path(kind, i)
            row = Source(file=path.name, path=base, row=i + 1)
            if not isinstance(item, dict):
                problems.append(Problem("cycle.actuals.json_record", row))
                continue
            for key in sorted(set(item) - names):
                problems.append(Problem("cycle.actuals.unknown_field", Source(file=path.name, path=f"{base}.{key}", row=i + 1), {"value": key}))
            where = {k: Source(file=path.name, path=f"{base}.{k}", row=i + 1) for k in names}
            records.append(RawRecord(kind, {k: item.get(k) for k in names}, where, row))
    illustrative = data.get("illustrative", False)
    read = records_to_actuals(
        records,
        plan=_code(data.get("plan")) if data.get("plan") is not None else (plan or ""),
        title=str(data.get("title") or ""),
        illustrative=bool(illustrative) if isinstance(illustrative, bool) else False,
        note=str(data.get("note") or ""),
        document=doc,
    )
    read.sources["plan"] = Source(file=path.name, path="plan")
    read.problems[:0] = problems
    return read


def save_actuals(actuals: Actuals, path: str | Path) -> None:
    """Write :meth:`Actuals.to_json` atomically."""
    atomic_write_text(path, actuals.to_json())


# ---------------------------------------------------------------------------------------------
# CSV


def rows_to_records(
    rows: Sequence[Sequence[Any]], *, sheet: str, file: str | None = None, origin_row: int = 1, kind: str | None = None,
) -> tuple[str | None, list[RawRecord], list[Problem]]:
    """Find the header row of a table of disbursements or results in ``rows`` and read its records.

    Returns (kind found, records, problems). Cells are located as ``sheet!F5`` (1-based rows from
    ``origin_row``). Rows above the header (titles, key–value lines) are ignored.
    """
    kinds = [kind] if kind else ["disbursements", "results"]
    best: tuple[int, int, str, dict[int, str]] | None = None
    for r, row in enumerate(rows[:200]):
        for k in kinds:
            hmap = _header_map(k)
            cols: dict[int, str] = {}
            for c, cell in enumerate(row):
                key = hmap.get(header_key(cell)) if isinstance(cell, str) else None
                if key is not None and key not in cols.values():
                    cols[c] = key
            required = {f.key for f in FIELDS[k] if f.kind in ("code", "period", "money", "number")}
            score = len(required & set(cols.values()))
            if score >= 3 and (best is None or score > best[0]):
                best = (score, r, k, cols)
    if best is None:
        return None, [], [Problem("cycle.actuals.no_table", Source(file=file, sheet=sheet))]
    _, header, found, cols = best
    problems: list[Problem] = []
    for f in FIELDS[found]:
        if f.kind in ("code", "period", "money", "number") and f.key not in cols.values():
            problems.append(
                Problem("cycle.actuals.missing_column", Source(file=file, sheet=sheet, cell=f"{origin_row + header}:{origin_row + header}"),
                        {"column": Msg(f"cycle.header.{found}.{f.key}")})
            )
    if problems:
        return found, [], problems
    records: list[RawRecord] = []
    for r in range(header + 1, len(rows)):
        row = rows[r]
        values = {key: (row[c] if c < len(row) else None) for c, key in cols.items()}
        blank = {key for key, v in values.items() if v is None or (isinstance(v, str) and not v.strip())}
        if blank >= set(values) or blank >= _VALUE_FIELDS[found] & set(values):
            continue  # an empty row, or a template row not filled in yet: nothing reported
        excel_row = origin_row + r
        where = {key: Source(file=file, sheet=sheet, cell=f"{column_letter(c + 1)}{excel_row}", row=excel_row) for c, key in cols.items()}
        records.append(RawRecord(found, values, where, Source(file=file, sheet=sheet, cell=f"{excel_row}:{excel_row}", row=excel_row)))
    return found, records, []


def read_actuals_csv(path: str | Path, *, plan: str) -> ActualsRead:
    """Read a CSV of disbursements or of indicator results (see the module docstring)."""
    path = Path(path)
    try:
        text = decode_text(read_bytes(path, limit=MAX_JSON_BYTES), Source(file=path.name))
    except PlanInvalid as exc:
        return ActualsRead(None, list(exc.problems))
    first = text.splitlines()[0] if text else ""
    delimiter = max(",;\t", key=first.count) if first else ","
    rows = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    kind, records, problems = rows_to_records(rows, sheet=path.name, file=path.name)
    if kind is None or problems:
        return ActualsRead(None, problems)
    return records_to_actuals(records, plan=plan, document=Source(file=path.name))


def read_actuals(paths: str | Path | Sequence[str | Path], *, plan: str) -> ActualsRead:
    """Read and merge actuals files: ``.json``, ``.csv`` or a workbook with Thực hiện sheets.

    ``plan`` (the running plan's program code) is the document's plan when a file does not say.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    merged: Actuals | None = None
    problems: list[Problem] = []
    sources: dict[str, Source] = {}
    for p in paths:
        p = Path(p)
        kind = file_kind(p)
        if kind is FileKind.JSON:
            read = read_actuals_json(p, plan=plan)
        elif kind is FileKind.CSV:
            read = read_actuals_csv(p, plan=plan)
        elif kind is FileKind.WORKBOOK:
            from .workbook.actuals import read_actuals_workbook

            read = read_actuals_workbook(p, plan=plan)
        else:
            read = ActualsRead(None, [Problem("cycle.actuals.file_type", Source(file=p.name), {"suffix": p.suffix or "-"})])
        problems.extend(read.problems)
        if read.actuals is None:
            continue
        offset = {"disbursements": len(merged.disbursements) if merged else 0, "results": len(merged.results) if merged else 0}
        for path_key, where in read.sources.items():
            m = re.match(r"^(disbursements|results)\[(\d+)\](.*)$", path_key)
            if m:
                sources[f"{m.group(1)}[{int(m.group(2)) + offset[m.group(1)]}]{m.group(3)}"] = where
            elif path_key not in sources:
                sources[path_key] = where
        merged = read.actuals if merged is None else merged.merged(read.actuals)
    return ActualsRead(merged, problems, sources)
