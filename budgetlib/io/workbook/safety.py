"""Opening workbooks safely: inspect the file before any spreadsheet library parses it.

A workbook is a zip of XML parts. A hostile or damaged one can make a parser use unbounded memory
or time (a 445 KB zip bomb that inflates to gigabytes, one cell at ``XFD1048576``, the "billion
laughs" entity expansion), read local files (XML external entities), or fail deep inside a
library with a traceback. :func:`inspect_workbook` looks at the package first and refuses, with a
located message that names the limit, anything beyond these documented limits:

=============================  ===================================================================
:data:`MAX_FILE_BYTES`         the file on disk (a national result workbook is ~21 MB)
:data:`MAX_PARTS`              parts in the package
:data:`MAX_PART_BYTES`         a part read whole (shared strings, styles, workbook, …), declared
                               uncompressed size
:data:`MAX_SHEET_BYTES`        a worksheet (streamed), declared uncompressed size
:data:`MAX_TOTAL_BYTES`        all parts together, declared uncompressed size (national: ~0.3 GB)
:data:`MAX_RATIO`              uncompressed ÷ compressed size of a part above 1 MB (real sheets:
                               5–30; zip bombs: 1 000 and more)
:data:`MAX_INPUT_ROWS` ×       where a cell with a value may be on an input sheet (Địa bàn, Dự
:data:`MAX_INPUT_COLS`         toán, …); other sheets are bounded by Excel's own 1 048 576 × 16 384
:data:`MAX_INPUT_CELLS`        cells an input sheet may span (rows × their width)
=============================  ===================================================================

Declared sizes are enough: Python's :mod:`zipfile` never inflates a part beyond its declared size
(a part that lies fails its CRC check and is reported as damaged). XML is parsed with
``defusedxml`` — openpyxl uses it when it is installed, and it is a dependency — and, before
that, any part whose prolog declares a DTD or entities is refused: Office files never contain
one, so billion-laughs and XXE files are refused before parsing and no file content can leak.
A password-protected workbook (an OLE compound file holding ``EncryptedPackage``) and an old
``.xls`` file get messages of their own, as does a damaged part (it is named).
"""

from __future__ import annotations

import codecs
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring, iterparse

from ...core.problems import PlanInvalid, Problem, Source
from ..grid import TableRef

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PARTS",
    "MAX_PART_BYTES",
    "MAX_SHEET_BYTES",
    "MAX_TOTAL_BYTES",
    "MAX_RATIO",
    "MAX_INPUT_ROWS",
    "MAX_INPUT_COLS",
    "MAX_INPUT_CELLS",
    "EXCEL_MAX_ROWS",
    "EXCEL_MAX_COLS",
    "Package",
    "inspect_workbook",
    "damaged_part",
    "refused",
    "parse_xml",
]

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_PARTS = 10_000
MAX_PART_BYTES = 64 * 1024 * 1024
MAX_SHEET_BYTES = 1024 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
MAX_RATIO = 200
RATIO_FROM_BYTES = 1024 * 1024
MAX_INPUT_ROWS = 100_000
MAX_INPUT_COLS = 500
MAX_INPUT_CELLS = 2_000_000
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384

_OLE = bytes.fromhex("D0CF11E0A1B11AE1")
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_PROLOG_BYTES = 4096
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def refused(code: str, file: str, **params: Any) -> PlanInvalid:
    """The :class:`PlanInvalid` for a refused file (``workbook.file.<code>``)."""
    return PlanInvalid([Problem(f"workbook.file.{code}", Source(file=file), params)])


@dataclass
class Package:
    """What the inspection learnt: each sheet's part, the Excel tables, whether macros are kept."""

    path: Path
    sheets: dict[str, str] = field(default_factory=dict)  # sheet name → part ("xl/worksheets/sheet3.xml")
    tables: list[TableRef] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # part → declared uncompressed size
    has_macros: bool = False


def inspect_workbook(path: str | Path) -> Package:
    """Check a workbook file before it is parsed; raise :class:`PlanInvalid` (one located problem
    naming the limit or the damaged part) for anything unsafe or unreadable."""
    path = Path(path)
    name = path.name
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise refused("too_large", name, size=size, limit=MAX_FILE_BYTES)
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == _OLE:
        raise refused("encrypted" if _contains(path, _ENCRYPTED) else "legacy_xls", name)
    if not zipfile.is_zipfile(path):
        raise refused("not_zip", name)
    try:
        with zipfile.ZipFile(path) as z:
            package = Package(path)
            _check_sizes(z, package, name)
            for info in z.infolist():
                if _is_xml(info.filename):
                    _check_prolog(z, info, name)
            _read_structure(z, package, name)
    except PlanInvalid:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError):
        raise refused("corrupt_zip", name) from None
    return package


def _contains(path: Path, needle: bytes) -> bool:
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _is_sheet(part: str) -> bool:
    return part.startswith("xl/worksheets/") and part.endswith(".xml")


def _is_xml(part: str) -> bool:
    return part.endswith((".xml", ".rels", ".vml"))


def _check_sizes(z: zipfile.ZipFile, package: Package, name: str) -> None:
    infos = z.infolist()
    if len(infos) > MAX_PARTS:
        raise refused("too_many_parts", name, count=len(infos), limit=MAX_PARTS)
    total = 0
    for info in infos:
        limit = MAX_SHEET_BYTES if _is_sheet(info.filename) else MAX_PART_BYTES
        if info.file_size > limit:
            raise refused("part_too_large", name, part=info.filename, size=info.file_size, limit=limit)
        if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise refused("ratio", name, part=info.filename, ratio=info.file_size // max(info.compress_size, 1), limit=MAX_RATIO)
        total += info.file_size
        package.sizes[info.filename] = info.file_size
    if total > MAX_TOTAL_BYTES:
        raise refused("total_too_large", name, size=total, limit=MAX_TOTAL_BYTES)
    package.has_macros = any(i.filename.lower() == "xl/vbaproject.bin" for i in infos)


def _decode_prolog(raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    if len(raw) > 1 and raw[1:2] == b"\x00":  # UTF-16 without a BOM
        return raw.decode("utf-16-le", errors="replace")
    return raw.decode("utf-8", errors="replace")


def _check_prolog(z: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """Office parts never declare a DTD or entities: such a part is refused unparsed."""
    with z.open(info) as fh:
        prolog = _decode_prolog(fh.read(_PROLOG_BYTES))
    if _DTD.search(prolog):  # element text is escaped: a raw "<!DOCTYPE" is markup
        raise refused("xml_entities", name, part=info.filename)


def parse_xml(z: zipfile.ZipFile, part: str, name: str) -> Any:
    """A whole (small) part parsed with defusedxml; a damaged part is named."""
    try:
        return fromstring(z.read(part))
    except DefusedXmlException:
        raise refused("xml_entities", name, part=part) from None
    except (ParseError, ValueError, UnicodeError):
        raise refused("corrupt_part", name, part=part) from None


def _rels(z: zipfile.ZipFile, part: str, name: str) -> dict[str, str]:
    """Relationship id → target part of ``part`` (``xl/workbook.xml`` → its ``_rels`` file)."""
    folder, base = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", base + ".rels")
    if rels_part not in z.NameToInfo:
        return {}
    out = {}
    for rel in parse_xml(z, rels_part, name).iter(f"{_NS_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = resolved
    return out


def _read_structure(z: zipfile.ZipFile, package: Package, name: str) -> None:
    """Sheet names and parts, and the Excel tables of every sheet, from the workbook's XML."""
    workbook = "xl/workbook.xml"
    if workbook not in z.NameToInfo:
        raise refused("corrupt_part", name, part=workbook)
    targets = _rels(z, workbook, name)
    for sheet in parse_xml(z, workbook, name).iter(f"{_NS_MAIN}sheet"):
        part = targets.get(sheet.get(f"{_NS_REL}id", ""))
        if part is not None and part in z.NameToInfo:
            package.sheets[sheet.get("name", "")] = part
    for sheet_name, part in package.sheets.items():
        for target in _rels(z, part, name).values():
            if target.startswith("xl/tables/") and target in z.NameToInfo:
                table = parse_xml(z, target, name)
                if table.get("name") and table.get("ref"):
                    package.tables.append(TableRef(table.get("name"), sheet_name, table.get("ref")))


def damaged_part(path: str | Path, parts: list[str] | None = None) -> PlanInvalid:
    """The problem to report after a library failed on a workbook: the first part (of ``parts``,
    default all) that is not well-formed XML or uses entities, named; else a general message.
    Every part is parsed streaming (this runs only on the failure path)."""
    name = Path(path).name
    try:
        with zipfile.ZipFile(path) as z:
            for part in parts if parts is not None else [i.filename for i in z.infolist()]:
                if _is_xml(part) and not part.endswith(".vml") and part in z.NameToInfo:
                    code = _xml_fault(z, part)
                    if code is not None:
                        return refused(code, name, part=part)
    except (zipfile.BadZipFile, OSError):
        return refused("corrupt_zip", name)
    return refused("unreadable", name)


def _xml_fault(z: zipfile.ZipFile, part: str) -> str | None:
    try:
        with z.open(part) as fh:
            for _event, element in _iterparse(fh):
                element.clear()
    except DefusedXmlException:
        return "xml_entities"
    except (ParseError, ValueError, UnicodeError, zipfile.BadZipFile, EOFError):
        return "corrupt_part"
    return None


def _iterparse(fh: IO[bytes]) -> Iterator[tuple[str, Any]]:
    return iterparse(fh, events=("end",))
