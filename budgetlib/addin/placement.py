"""Where result sheets go in a workbook that may already have sheets of the same names.

A sheet is budgetlib's when it carries the marker :data:`~budgetlib.io.grid.RESULT_MARKER_NAME`
(a sheet-scoped defined name). Only such sheets are replaced or removed; a sheet of the user's
that merely has a result sheet's name ("Tổng hợp", "Nhật ký", …) is left alone and the result
goes next to it under the name :func:`~budgetlib.io.grid.result_sheet_placement` gives
("Tổng hợp (2)"). References to a renamed result sheet inside other result sheets (formulas,
dropdown sources) follow the rename.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from ..io.grid import Formula, SheetSpec, TableRef, quote_sheet, result_sheet_placement

__all__ = ["Placement", "place_results", "base_result_name", "rewrite_sheet_refs"]

# A sheet-qualified reference: 'Tổng hợp'!A1 or Summary!A1 (a quoted name doubles its quotes).
_REF = re.compile(r"'((?:[^']|'')+)'!|([A-Za-z_][A-Za-z0-9_.]*)!")
_STRING = re.compile(r'"(?:[^"]|"")*"')
_SUFFIX = re.compile(r"^(?P<base>.*) \((?P<n>\d+)\)$")


def _rename_refs(text: str, renames: Mapping[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
        new = renames.get(name)
        return m.group(0) if new is None else quote_sheet(new) + "!"

    # Text inside "..." string literals is not a reference.
    out, last = [], 0
    for lit in _STRING.finditer(text):
        out.append(_REF.sub(one, text[last : lit.start()]))
        out.append(lit.group(0))
        last = lit.end()
    out.append(_REF.sub(one, text[last:]))
    return "".join(out)


def rewrite_sheet_refs(spec: SheetSpec, renames: Mapping[str, str]) -> SheetSpec:
    """``spec`` with every reference to a sheet in ``renames`` (old → new name) pointing at the new name.

    Only :class:`~budgetlib.io.grid.Formula` cells and dropdown sources are references; plain text
    is never touched."""
    if not renames:
        return spec
    rows = [
        [Formula(_rename_refs(v, renames)) if isinstance(v, Formula) else v for v in row] for row in spec.rows
    ]
    validations = [
        dataclasses.replace(v, source=_rename_refs(v.source, renames)) if v.source else v for v in spec.validations
    ]
    return dataclasses.replace(spec, rows=rows, validations=validations)


@dataclasses.dataclass(frozen=True)
class Placement:
    """Result specs with their final names, and the stale marked sheets to remove."""

    specs: list[SheetSpec]
    renamed: dict[str, str]  # usual name → name used (only the ones that differ)
    remove: list[str]
    renamed_tables: dict[str, str] = dataclasses.field(default_factory=dict)


def _free_table_names(specs: list[SheetSpec], taken: set[str]) -> tuple[list[SheetSpec], dict[str, str]]:
    """Table names are unique in a workbook: a result table whose name a kept sheet's table already
    has gets ``NAME_2`` (``_3`` …)."""
    renamed: dict[str, str] = {}
    used = set(taken)
    out = []
    for spec in specs:
        tables = []
        for t in spec.tables:
            name, n = t.name, 1
            while name.casefold() in used:
                n += 1
                name = f"{t.name}_{n}"
            used.add(name.casefold())
            if name != t.name:
                renamed[t.name] = name
                t = dataclasses.replace(t, name=name)
            tables.append(t)
        out.append(dataclasses.replace(spec, tables=tables) if tables != spec.tables else spec)
    return out, renamed


def place_results(
    specs: Sequence[SheetSpec],
    marks: Mapping[str, bool],
    *,
    remove: Sequence[str] = (),
    tables: Sequence[TableRef] = (),
) -> Placement:
    """Name ``specs`` for a workbook whose sheets are ``marks`` (name → carries budgetlib's marker)
    and whose tables are ``tables``.

    ``remove`` lists sheets to delete if they are budgetlib's and not reused by this write; any
    other name in it is ignored (a user's sheet is never removed)."""
    for spec in specs:
        if spec.kind == "input":
            raise ValueError(f"internal error: {spec.name!r} is an input sheet, not a result")
    placed = result_sheet_placement([s.name for s in specs], marks)
    renamed = {old: new for old, new in placed.items() if old != new}
    out = [
        dataclasses.replace(rewrite_sheet_refs(s, renamed), name=placed[s.name]) if renamed else s for s in specs
    ]
    used = {n.casefold() for n in placed.values()}
    gone = [n for n in dict.fromkeys(remove) if marks.get(n) and n.casefold() not in used]
    going = used | {n.casefold() for n in gone}
    kept_tables = {t.name.casefold() for t in tables if t.sheet.casefold() not in going}
    out, renamed_tables = _free_table_names(out, kept_tables)
    return Placement(out, renamed, gone, renamed_tables)


def base_result_name(name: str, known: set[str]) -> str:
    """The usual result name behind a placed one: ``"Tổng hợp (2)"`` → ``"Tổng hợp"`` when that is a
    known result name; any other name is returned as it is."""
    m = _SUFFIX.match(name)
    if m is not None and m.group("base") in known:
        return m.group("base")
    return name
