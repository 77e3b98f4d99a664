"""I/O: plan files (JSON) and workbooks. The core never imports from here."""

from .atomic import OutputLocked, atomic_path, atomic_write_text
from .jsonio import load_plan, plan_json_schema, plan_to_json, read_plan_data, save_plan

__all__ = ["OutputLocked", "atomic_path", "atomic_write_text", "load_plan", "plan_json_schema", "plan_to_json", "read_plan_data", "save_plan"]


def load_plan_file(path):
    """Load a plan from ``.json`` or ``.xlsx`` (the workbook reader), raising PlanInvalid with every problem."""
    from pathlib import Path

    from ..core.problems import PlanInvalid, Problem

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return load_plan(path)
    if suffix in (".xlsx", ".xlsm"):
        from .workbook import read_workbook  # openpyxl only when a workbook is read

        return read_workbook(path)
    raise PlanInvalid(
        [Problem(str(path), "định dạng tệp không hỗ trợ; dùng .json hoặc .xlsx", "unsupported file type; use .json or .xlsx", "file_type")]
    )


__all__.append("load_plan_file")
