"""Reproducible Office files: the same content gives the same bytes.

openpyxl stamps ``docProps/core.xml`` with the save time and zip entries with the current time;
both are replaced by a fixed instant so a workbook (or the add-in) built twice from the same inputs is
byte-identical. The run log sheet is the one place a result workbook carries the real run time.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

__all__ = ["FIXED_ZIP_TIME", "repack_zip", "make_reproducible"]

FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_FIXED_W3CDTF = "2000-01-01T00:00:00Z"


def _fixed_core(xml: bytes) -> bytes:
    text = xml.decode("utf-8")
    text = re.sub(
        r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)",
        lambda m: f"{m.group(1)}{_FIXED_W3CDTF}{m.group(2)}",
        text,
    )
    return text.encode("utf-8")


def repack_zip(raw: bytes, *, fix_core_dates: bool = True) -> bytes:
    """Same entries in the same order, with fixed timestamps, attributes and compression."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if fix_core_dates and info.filename == "docProps/core.xml":
                data = _fixed_core(data)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0
            fixed.create_system = 0
            out.writestr(fixed, data)
    return buf.getvalue()


def make_reproducible(path: str | Path) -> None:
    """Rewrite an .xlsx/.xlam in place with :func:`repack_zip` (call it on a temporary file)."""
    path = Path(path)
    path.write_bytes(repack_zip(path.read_bytes()))
