"""I/O: plan files (JSON) and workbooks. The core never imports from here."""

from pathlib import Path

from ..core.problems import PlanInvalid, Problem, Source
from ..model.plan import Plan
from .atomic import OutputLocked, atomic_path, atomic_write_text
from .files import FileKind, file_kind
from .jsonio import load_plan, plan_json_schema, plan_to_json, read_plan_data, save_plan

__all__ = [
    "OutputLocked",
    "atomic_path",
    "atomic_write_text",
    "FileKind",
    "file_kind",
    "load_plan",
    "load_plan_file",
    "plan_json_schema",
    "plan_to_json",
    "read_plan_data",
    "save_plan",
]


def load_plan_file(path: "str | Path") -> Plan:
    """Load a plan from ``.json`` or ``.xlsx``/``.xlsm`` (the workbook reader), raising PlanInvalid with every problem."""
    path = Path(path)
    kind = file_kind(path)
    if kind is FileKind.JSON:
        return load_plan(path)
    if kind is FileKind.WORKBOOK:
        from .workbook.books import read_workbook  # openpyxl only when a workbook is read

        return read_workbook(path)
    raise PlanInvalid([Problem("file.type", Source(file=path.name), {"suffix": path.suffix or "-"})])
