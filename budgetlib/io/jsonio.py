"""Plan files as JSON: load with every problem located by JSON path, save deterministically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.problems import PlanInvalid, Problem
from ..model.plan import Plan
from ..planning.validation import load_plan_data
from .atomic import atomic_write_text

__all__ = ["load_plan", "save_plan", "plan_to_json", "plan_json_schema", "read_plan_data"]


def read_plan_data(path: "str | Path") -> dict[str, Any]:
    """Read raw JSON; a syntax error becomes a located problem (``plan.json:12:5``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PlanInvalid([Problem(str(path), "không tìm thấy tệp", "file not found", "file_not_found")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanInvalid(
            [
                Problem(
                    f"{path.name}:{exc.lineno}:{exc.colno}",
                    f"tệp JSON sai cú pháp: {exc.msg}",
                    f"malformed JSON: {exc.msg}",
                    "json_syntax",
                )
            ]
        ) from None
    if not isinstance(data, dict):
        raise PlanInvalid([Problem(path.name, "tệp kế hoạch phải là một đối tượng JSON", "a plan file must be a JSON object", "json_shape")])
    return data


def load_plan(path: "str | Path") -> Plan:
    """Load and validate a plan file; raise :class:`PlanInvalid` listing every problem."""
    return load_plan_data(read_plan_data(path))


def plan_to_json(plan: Plan) -> str:
    """Deterministic JSON text of a plan (field order of the model, UTF-8, no ASCII escaping)."""
    data = plan.model_dump(mode="json", exclude_defaults=False)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def save_plan(plan: Plan, path: "str | Path") -> None:
    atomic_write_text(path, plan_to_json(plan))


def plan_json_schema() -> dict[str, Any]:
    """JSON Schema of the plan file (what ``budgetlib schema`` prints)."""
    return Plan.model_json_schema()
