"""What kind of file a path names, decided in one place (``.json`` plan, ``.xlsx``/``.xlsm`` workbook, …).

>>> file_kind("kehoach.XLSM")
<FileKind.WORKBOOK: 'workbook'>
>>> file_kind("plan.json").is_plan, file_kind("units.csv").is_plan
(True, False)
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

__all__ = ["FileKind", "file_kind", "WORKBOOK_SUFFIXES", "MACRO_SUFFIX"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
MACRO_SUFFIX = ".xlsm"


class FileKind(StrEnum):
    JSON = "json"
    WORKBOOK = "workbook"
    CSV = "csv"
    OTHER = "other"

    @property
    def is_plan(self) -> bool:
        """A file a plan can be read from."""
        return self in (FileKind.JSON, FileKind.WORKBOOK)


def file_kind(path: str | Path) -> FileKind:
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return FileKind.JSON
    if suffix in WORKBOOK_SUFFIXES:
        return FileKind.WORKBOOK
    if suffix in (".csv", ".tsv", ".txt"):
        return FileKind.CSV
    return FileKind.OTHER
