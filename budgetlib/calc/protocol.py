"""What the extension and budgetlib say to each other: plain JSON, one request, a stream of lines back.

The extension (Python-UNO inside LibreOffice, stdlib only) reads the live document and sends a
**request** on the bridge's stdin::

    {"protocol": 1, "command": "btnAllocate", "lang": "vi", "extension_version": "0.1.0",
     "book": {"name": "plan.xlsx", "path": "/…/plan.xlsx" | null, "saved_file": "/…/plan.xlsx" | null,
              "sheets": [{"name": "Địa bàn", "marked": false, "origin": [1, 1], "rows": [[…], …]}, …],
              "tables": [{"name": "DiaBan", "sheet": "Địa bàn", "ref": "A3:L18"}, …]}}

``marked`` says the sheet carries :data:`~budgetlib.io.grid.RESULT_MARKER_NAME` (a result budgetlib
wrote); the extension sends no cells for marked sheets (they are never input). ``path`` is the
document's file whether or not it has unsaved changes (null for a document never saved: the
version store and the PDF report go beside it); ``saved_file`` is set only when the document has no
unsaved changes, so its checksum describes what was read. A request without ``path`` is answered as
for a document never saved.

budgetlib answers on stdout with JSON lines: ``{"progress": …}`` while it works (shown in the
status bar), then one ``{"reply": …}`` (:class:`Reply`): the sheets to write (final names chosen
by :func:`~budgetlib.io.grid.result_sheet_placement`), the marked sheets to remove, the dialog to
show, or the sheets of a new document. Cells travel as JSON values; a
:class:`~budgetlib.io.grid.Formula` travels as ``{"f": "=SUM(D4:D18)"}`` and is the only thing the
extension ever writes as a formula. Every other string is text, whatever it starts with.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..io.grid import (
    CellStyle,
    CellValue,
    ChartSpec,
    Formula,
    Grid,
    PageSetup,
    SheetSpec,
    TableRef,
    TableSpec,
    ValidationSpec,
)

__all__ = [
    "PROTOCOL_VERSION",
    "ProtocolError",
    "SnapshotBook",
    "Reply",
    "encode_cell",
    "decode_cell",
    "encode_spec",
    "decode_spec",
    "book_from_request",
]

PROTOCOL_VERSION = 1


class ProtocolError(ValueError):
    """A request that does not follow the protocol (an extension and a budgetlib that do not match)."""


def encode_cell(value: Any) -> Any:
    """One cell of a :class:`SheetSpec` as JSON."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Formula):
        return {"f": str(value)}
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a sheet cell cannot hold {value!r}")
        return float(value)
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return encode_cell(item())
    raise TypeError(f"cannot send a {type(value).__name__} cell to the spreadsheet")


def decode_cell(value: Any) -> CellValue:
    """The inverse of :func:`encode_cell` (``{"f": …}`` → :class:`Formula`)."""
    if isinstance(value, dict):
        if "f" in value:
            return Formula(str(value["f"]))
        if "datetime" in value:
            return datetime.fromisoformat(value["datetime"])
        if "date" in value:
            return date.fromisoformat(value["date"])
        raise ProtocolError(f"unknown cell {value!r}")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ProtocolError(f"unknown cell {value!r}")


def _keys(d: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): d[k] for k in sorted(d, key=lambda k: (str(type(k)), k))}


def encode_spec(spec: SheetSpec) -> dict[str, Any]:
    """A :class:`SheetSpec` as JSON (sorted, so the same spec always gives the same text)."""
    chart = spec.chart
    return {
        "name": spec.name,
        "kind": spec.kind,
        "rows": [[encode_cell(v) for v in row] for row in spec.rows],
        "column_widths": _keys(spec.column_widths),
        "column_formats": _keys(spec.column_formats),
        "format_from_row": spec.format_from_row,
        "cell_formats": _keys(spec.cell_formats),
        "bold_rows": sorted(spec.bold_rows),
        "title_rows": sorted(spec.title_rows),
        "wrap_cols": sorted(spec.wrap_cols),
        "comments": _keys(spec.comments),
        "freeze": spec.freeze,
        "tables": [
            {"name": t.name, "ref": t.ref, "style": t.style, "striped": t.striped} for t in spec.tables
        ],
        "validations": [
            {
                "ref": v.ref,
                "values": list(v.values),
                "source": v.source,
                "allow_blank": v.allow_blank,
                "prompt": v.prompt,
                "error": v.error,
            }
            for v in spec.validations
        ],
        "chart": None
        if chart is None
        else {
            "title": chart.title,
            "anchor": chart.anchor,
            "category_col": chart.category_col,
            "value_cols": list(chart.value_cols),
            "header_row": chart.header_row,
            "first_row": chart.first_row,
            "last_row": chart.last_row,
            "y_title": chart.y_title,
            "x_title": chart.x_title,
            "horizontal": chart.horizontal,
            "width_cm": chart.width_cm,
            "height_cm": chart.height_cm,
            "value_format": chart.value_format,
        },
        "hidden": spec.hidden,
        "tab_color": spec.tab_color,
        # print layout (the report helper's SheetSpec fields; a renderer may ignore what it cannot draw)
        "page": None if spec.page is None else dataclasses.asdict(spec.page),
        "merges": list(spec.merges),
        "styles": {ref: dataclasses.asdict(st) for ref, st in sorted(spec.styles.items())},
        "borders": list(spec.borders),
        "font": spec.font,
        "row_heights": _keys(spec.row_heights),
    }


def decode_spec(data: Mapping[str, Any]) -> SheetSpec:
    """The inverse of :func:`encode_spec` (tests and previews)."""
    chart = data.get("chart")
    return SheetSpec(
        name=str(data["name"]),
        rows=[[decode_cell(v) for v in row] for row in data["rows"]],
        column_widths={int(k): float(v) for k, v in data.get("column_widths", {}).items()},
        column_formats={int(k): str(v) for k, v in data.get("column_formats", {}).items()},
        format_from_row=int(data.get("format_from_row", 1)),
        cell_formats={str(k): str(v) for k, v in data.get("cell_formats", {}).items()},
        bold_rows=set(data.get("bold_rows", ())),
        title_rows=set(data.get("title_rows", ())),
        wrap_cols=set(data.get("wrap_cols", ())),
        comments={str(k): str(v) for k, v in data.get("comments", {}).items()},
        freeze=data.get("freeze"),
        tables=[TableSpec(t["name"], t["ref"], t.get("style", "TableStyleMedium2"), t.get("striped", True)) for t in data.get("tables", ())],
        validations=[
            ValidationSpec(
                v["ref"], tuple(v.get("values", ())), v.get("source", ""), v.get("allow_blank", True), v.get("prompt", ""), v.get("error", "")
            )
            for v in data.get("validations", ())
        ],
        chart=None
        if not chart
        else ChartSpec(
            chart["title"],
            chart["anchor"],
            chart["category_col"],
            tuple(chart["value_cols"]),
            chart["header_row"],
            chart["first_row"],
            chart["last_row"],
            chart.get("y_title", ""),
            chart.get("x_title", ""),
            chart.get("horizontal", True),
            chart.get("width_cm", 18.0),
            chart.get("height_cm", 12.0),
            chart.get("value_format", "#,##0"),
        ),
        kind=str(data.get("kind", "result")),
        hidden=bool(data.get("hidden", False)),
        tab_color=data.get("tab_color"),
        page=None if not data.get("page") else _page(data["page"]),
        merges=[str(m) for m in data.get("merges", ())],
        styles={str(k): CellStyle(**v) for k, v in data.get("styles", {}).items()},
        borders=[str(b) for b in data.get("borders", ())],
        font=data.get("font"),
        row_heights={int(k): float(v) for k, v in data.get("row_heights", {}).items()},
    )


def _page(d: Mapping[str, Any]) -> PageSetup:
    tuples = {"title_rows", "header", "footer", "breaks", "margins_cm"}
    fields: dict[str, Any] = {k: (tuple(v) if k in tuples and v is not None else v) for k, v in d.items()}
    return PageSetup(**fields)


def _read_value(v: Any) -> CellValue:
    """A cell as the extension read it, as the plan reader expects it (what openpyxl would give):
    empty text is no value, whole numbers are ``int``."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return int(v)
        return v
    if isinstance(v, (int, str)):
        return v
    raise ProtocolError(f"unknown cell value {v!r}")


@dataclass
class SnapshotBook:
    """The live document as the extension read it: a :class:`~budgetlib.io.grid.GridBook` (with
    tables) plus what the writer needs to know (which sheets are budgetlib's, the saved file)."""

    name: str
    sheets: list[str]
    marked: set[str]
    grids: dict[str, Grid]
    table_refs: list[TableRef] = field(default_factory=list)
    saved_file: str | None = None
    path: str | None = None

    def sheet_names(self) -> list[str]:
        return list(self.sheets)

    def grid(self, name: str) -> Grid:
        return self.grids[name]

    def tables(self) -> list[TableRef]:
        return list(self.table_refs)

    def is_marked(self, name: str) -> bool:
        return name in self.marked

    def placement_state(self) -> dict[str, bool]:
        """``{sheet: marked}`` as :func:`~budgetlib.io.grid.result_sheet_placement` wants it."""
        return {name: name in self.marked for name in self.sheets}


def book_from_request(book: Mapping[str, Any]) -> SnapshotBook:
    """The :class:`SnapshotBook` of a request's ``book`` member."""
    try:
        sheets: list[str] = []
        marked: set[str] = set()
        grids: dict[str, Grid] = {}
        for s in book["sheets"]:
            name = str(s["name"])
            sheets.append(name)
            if s.get("marked"):
                marked.add(name)
            origin: Sequence[int] = s.get("origin") or (1, 1)
            rows = [[_read_value(v) for v in row] for row in s.get("rows") or ()]
            grids[name] = Grid(name, rows, int(origin[0]), int(origin[1]))
        tables = [TableRef(str(t["name"]), str(t["sheet"]), str(t["ref"])) for t in book.get("tables") or ()]
        saved = book.get("saved_file")
        path = book.get("path")
        return SnapshotBook(
            str(book.get("name") or ""), sheets, marked, grids, tables, str(saved) if saved else None, str(path) if path else None
        )
    except (KeyError, TypeError, IndexError) as exc:
        raise ProtocolError(f"malformed book in request: {exc!r}") from None


@dataclass
class Reply:
    """What the extension does after a command.

    ``severity`` is ``"info"``, ``"warning"`` or ``"error"`` (the dialog's kind); an empty
    ``message`` shows no dialog. ``write`` replaces or adds these result sheets (all or nothing),
    ``remove`` deletes these marked sheets; ``new_document`` opens a new document holding these
    (input) sheets; ``status`` is left in the status bar.
    """

    exit_code: int
    message: str = ""
    severity: str = "info"
    write: list[SheetSpec] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    new_document: list[SheetSpec] | None = None
    activate: str | None = None
    status: str = ""
    title: str = ""
    info: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "message": self.message,
            "severity": self.severity,
            "title": self.title,
            "write": [encode_spec(s) for s in self.write],
            "remove": list(self.remove),
            "new_document": None if self.new_document is None else [encode_spec(s) for s in self.new_document],
            "activate": self.activate,
            "status": self.status,
            "info": dict(sorted(self.info.items())),
        }
