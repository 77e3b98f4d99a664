"""Whole-plan validation: every problem at once, each located and phrased for a finance officer.

Checks are pure functions ``check(plan) -> list[Problem]`` kept in :data:`PLAN_CHECKS` (the list is
also the documentation of what is checked). Locations are JSON paths into the plan file; the
workbook reader maps them to cells.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from pydantic import ValidationError

from ..core.money import format_amount
from ..core.problems import PlanInvalid, Problem, Severity, json_path
from ..model.plan import Level, Plan, Role
from .scenarios import check_scenarios
from ..model.policy import (
    AbsorptionConstraint,
    EarmarkConstraint,
    EligibilityConstraint,
    StabilityConstraint,
    TargetConstraint,
)

__all__ = ["PLAN_CHECKS", "validate_plan", "load_plan_data", "problems_from_validation_error"]

Check = Callable[[Plan], list[Problem]]


def _p(location: str, vi: str, en: str, code: str, value: Any = None, severity: Severity = Severity.ERROR) -> Problem:
    return Problem(location, vi, en, code, severity, value)


def check_duplicate_codes(plan: Plan) -> list[Problem]:
    out: list[Problem] = []
    for field, label_vi, label_en in (
        ("units", "địa bàn", "unit"),
        ("agencies", "cơ quan", "agency"),
        ("tasks", "nhiệm vụ", "task"),
        ("sources", "nguồn kinh phí", "funding source"),
        ("targets", "chỉ tiêu", "target"),
    ):
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(plan, field)):
            if item.code in seen:
                out.append(
                    _p(
                        json_path(field, i, "code"),
                        f"mã {label_vi} {item.code!r} bị trùng với dòng {seen[item.code] + 1}",
                        f"duplicate {label_en} code {item.code!r} (first at item {seen[item.code] + 1})",
                        "duplicate_code",
                        item.code,
                    )
                )
            else:
                seen[item.code] = i
    return out


def check_task_roles(plan: Plan) -> list[Problem]:
    out: list[Problem] = []
    agencies = {a.code for a in plan.agencies}
    tasks = {t.code for t in plan.tasks}
    for i, task in enumerate(plan.tasks):
        leads = [r.agency for r in task.agencies if r.role is Role.LEAD]
        if len(leads) != 1:
            out.append(
                _p(
                    json_path("tasks", i, "agencies"),
                    f"nhiệm vụ {task.code} ({task.name}) phải có đúng một cơ quan chủ trì, hiện có {len(leads)}",
                    f"task {task.code} ({task.name}) needs exactly one lead agency, has {len(leads)}",
                    "task.lead",
                )
            )
        for j, role in enumerate(task.agencies):
            if role.agency not in agencies:
                out.append(
                    _p(
                        json_path("tasks", i, "agencies", j, "agency"),
                        f"cơ quan {role.agency!r} chưa có trong danh sách cơ quan",
                        f"agency {role.agency!r} is not in the list of agencies",
                        "unknown_agency",
                        role.agency,
                    )
                )
        if task.group is not None and task.group not in tasks:
            out.append(
                _p(
                    json_path("tasks", i, "group"),
                    f"nhóm nhiệm vụ {task.group!r} không tồn tại",
                    f"task group {task.group!r} does not exist",
                    "unknown_task",
                    task.group,
                )
            )
    return out


def check_units(plan: Plan) -> list[Problem]:
    out: list[Problem] = []
    codes = {u.code for u in plan.units}
    for i, unit in enumerate(plan.units):
        if unit.parent is not None and unit.parent not in codes and unit.level is Level.COMMUNE:
            out.append(
                _p(
                    json_path("units", i, "parent"),
                    f"{unit.name}: quận/huyện cấp trên {unit.parent!r} không có trong danh sách địa bàn",
                    f"{unit.name}: parent district {unit.parent!r} is not among the units",
                    "unknown_unit",
                    unit.parent,
                )
            )
        for key, value in unit.attributes.items():
            if value < 0:
                out.append(
                    _p(
                        json_path("units", i, "attributes", key),
                        f"{unit.name}: thuộc tính {key!r} phải là số không âm",
                        f"{unit.name}: attribute {key!r} must be non-negative",
                        "negative_attribute",
                        value,
                    )
                )
    # Need drivers must refer to attributes every allocated unit has.
    level = Level.COMMUNE if plan.allocation and plan.allocation.level == "commune" else Level.DISTRICT
    units = plan.units_at(level)
    for i, task in enumerate(plan.tasks):
        for attr in task.need.terms:
            missing = [u.name for u in units if attr not in u.attributes]
            if missing:
                shown = ", ".join(missing[:3]) + (f" và {len(missing) - 3} địa bàn khác" if len(missing) > 3 else "")
                shown_en = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
                out.append(
                    _p(
                        json_path("tasks", i, "need"),
                        f"nhiệm vụ {task.code} tính nhu cầu theo {attr!r} nhưng thiếu số liệu ở: {shown}",
                        f"task {task.code} needs attribute {attr!r}, missing for: {shown_en}",
                        "missing_attribute",
                    )
                )
    return out


def check_budget_lines(plan: Plan) -> list[Problem]:
    out: list[Problem] = []
    tasks = {t.code for t in plan.tasks}
    agencies = {a.code for a in plan.agencies}
    sources = {s.code: s for s in plan.sources}
    years = set(plan.program.years)
    for i, line in enumerate(plan.budget_lines):
        loc = lambda f: json_path("budget_lines", i, f)  # noqa: E731
        if line.task not in tasks:
            out.append(_p(loc("task"), f"nhiệm vụ {line.task!r} không tồn tại", f"unknown task {line.task!r}", "unknown_task", line.task))
        if line.agency not in agencies:
            out.append(
                _p(loc("agency"), f"cơ quan {line.agency!r} không tồn tại", f"unknown agency {line.agency!r}", "unknown_agency", line.agency)
            )
        if line.source not in sources:
            out.append(
                _p(loc("source"), f"nguồn kinh phí {line.source!r} không tồn tại", f"unknown funding source {line.source!r}", "unknown_source", line.source)
            )
        elif sources[line.source].tasks is not None and line.task not in sources[line.source].tasks:
            out.append(
                _p(
                    loc("source"),
                    f"nguồn {line.source!r} không được dùng cho nhiệm vụ {line.task!r}",
                    f"source {line.source!r} may not fund task {line.task!r}",
                    "source_restriction",
                    line.source,
                )
            )
        if line.year not in years:
            out.append(
                _p(
                    loc("year"),
                    f"năm {line.year} nằm ngoài giai đoạn {plan.program.first_year}–{plan.program.last_year}",
                    f"year {line.year} is outside the period {plan.program.first_year}–{plan.program.last_year}",
                    "year_outside_period",
                    line.year,
                )
            )
    total = plan.budget_total
    if plan.budget_lines and total != plan.program.total:
        diff = total - plan.program.total
        more_vi = "thừa" if diff > 0 else "thiếu"
        more_en = "too much" if diff > 0 else "too little"
        out.append(
            _p(
                "budget_lines",
                f"tổng các dòng dự toán {format_amount(total)} khác tổng kinh phí chương trình "
                f"{format_amount(plan.program.total)} ({more_vi} {format_amount(abs(diff))})",
                f"budget lines add up to {format_amount(total, lang='en')}, the program total is "
                f"{format_amount(plan.program.total, lang='en')} ({format_amount(abs(diff), lang='en')} {more_en})",
                "total_mismatch",
            )
        )
    return out


def check_targets(plan: Plan) -> list[Problem]:
    out: list[Problem] = []
    tasks = {t.code for t in plan.tasks}
    years = set(plan.program.years)
    for i, target in enumerate(plan.targets):
        if target.task is not None and target.task not in tasks:
            out.append(
                _p(json_path("targets", i, "task"), f"nhiệm vụ {target.task!r} không tồn tại", f"unknown task {target.task!r}", "unknown_task", target.task)
            )
        for year, value in target.values.items():
            loc = json_path("targets", i, "values", str(year))
            if year not in years:
                out.append(
                    _p(
                        loc,
                        f"chỉ tiêu {target.code}: năm {year} nằm ngoài giai đoạn kế hoạch",
                        f"target {target.code}: year {year} is outside the plan period",
                        "year_outside_period",
                        year,
                    )
                )
            if value < 0:
                out.append(_p(loc, f"chỉ tiêu {target.code}: giá trị âm", f"target {target.code}: negative value", "negative", value))
            if target.denominator is not None and value > target.denominator:
                out.append(
                    _p(
                        loc,
                        f"chỉ tiêu {target.code}: {value:g} vượt mẫu số {target.denominator:g}",
                        f"target {target.code}: {value:g} exceeds its denominator {target.denominator:g}",
                        "target_above_denominator",
                        value,
                    )
                )
        if target.baseline is not None and target.denominator is not None and target.baseline > target.denominator:
            out.append(
                _p(
                    json_path("targets", i, "baseline"),
                    f"chỉ tiêu {target.code}: giá trị hiện trạng {target.baseline:g} vượt mẫu số {target.denominator:g}",
                    f"target {target.code}: baseline {target.baseline:g} exceeds its denominator {target.denominator:g}",
                    "target_above_denominator",
                    target.baseline,
                )
            )
    return out


def check_policy_references(plan: Plan) -> list[Problem]:
    policy = plan.allocation
    if policy is None:
        return []
    out: list[Problem] = []
    tasks = {t.code for t in plan.tasks}
    level = Level.COMMUNE if policy.level == "commune" else Level.DISTRICT
    units = {u.code for u in plan.units_at(level)}
    targets = {t.code for t in plan.targets}
    years = set(plan.program.years)

    def refs(i: int, field: str, values: "Iterable[Any] | str | None", known: set, what_vi: str, what_en: str) -> None:
        single = isinstance(values, str)
        for j, value in enumerate([values] if single else (values or [])):
            if value not in known:
                out.append(
                    _p(
                        json_path("allocation", "constraints", i, field) if single else json_path("allocation", "constraints", i, field, j),
                        f"ràng buộc «{c.name}»: {what_vi} {value!r} không tồn tại",
                        f"constraint “{c.name}”: unknown {what_en} {value!r}",
                        "unknown_reference",
                        value,
                    )
                )

    for i, c in enumerate(policy.constraints):
        if isinstance(c, EarmarkConstraint):
            refs(i, "task", c.task, tasks, "nhiệm vụ", "task")
            refs(i, "unit", c.unit, units, "địa bàn", "unit")
        elif isinstance(c, TargetConstraint):
            refs(i, "task", c.task, tasks, "nhiệm vụ", "task")
            refs(i, "target", c.target, targets, "chỉ tiêu", "target")
        elif isinstance(c, AbsorptionConstraint):
            refs(i, "units", c.units, units, "địa bàn", "unit")
        else:
            refs(i, "tasks", getattr(c, "tasks", None), tasks, "nhiệm vụ", "task")
            refs(i, "units", getattr(c, "units", None), units, "địa bàn", "unit")
            if isinstance(c, StabilityConstraint):
                for j, prior in enumerate(c.prior or []):
                    if prior.unit not in units or prior.task not in tasks:
                        out.append(
                            _p(
                                json_path("allocation", "constraints", i, "prior", j),
                                f"ràng buộc «{c.name}»: địa bàn/nhiệm vụ của số liệu năm trước không tồn tại",
                                f"constraint “{c.name}”: prior amount names an unknown unit or task",
                                "unknown_reference",
                            )
                        )
        for j, year in enumerate(getattr(c, "years", None) or []):
            if year not in years:
                out.append(
                    _p(
                        json_path("allocation", "constraints", i, "years", j),
                        f"ràng buộc «{c.name}»: năm {year} nằm ngoài giai đoạn kế hoạch",
                        f"constraint “{c.name}”: year {year} is outside the plan period",
                        "year_outside_period",
                        year,
                    )
                )
        if isinstance(c, EligibilityConstraint) and c.attribute is not None:
            if not any(c.attribute in u.attributes for u in plan.units_at(level)):
                out.append(
                    _p(
                        json_path("allocation", "constraints", i, "attribute"),
                        f"ràng buộc «{c.name}»: không địa bàn nào có thuộc tính {c.attribute!r}",
                        f"constraint “{c.name}”: no unit has attribute {c.attribute!r}",
                        "missing_attribute",
                        c.attribute,
                    )
                )
    for i, curve in enumerate(policy.response_curves):
        if curve.task not in tasks:
            out.append(
                _p(
                    json_path("allocation", "response_curves", i, "task"),
                    f"đường đáp ứng: nhiệm vụ {curve.task!r} không tồn tại",
                    f"response curve: unknown task {curve.task!r}",
                    "unknown_task",
                    curve.task,
                )
            )
    for j, year in enumerate(policy.years or []):
        if year not in years:
            out.append(
                _p(
                    json_path("allocation", "years", j),
                    f"năm phân bổ {year} nằm ngoài giai đoạn kế hoạch",
                    f"allocation year {year} is outside the plan period",
                    "year_outside_period",
                    year,
                )
            )
    if not units:
        out.append(
            _p(
                json_path("allocation", "level"),
                "kế hoạch chưa có địa bàn nào ở cấp được phân bổ",
                "the plan has no units at the allocation level",
                "no_units",
            )
        )
    return out


PLAN_CHECKS: list[Check] = [
    check_duplicate_codes,
    check_task_roles,
    check_units,
    check_budget_lines,
    check_targets,
    check_policy_references,
    check_scenarios,  # planning/scenarios.py (batch helper)
]
"""Every cross-reference and reconciliation check run by :func:`validate_plan`, in order."""


def validate_plan(plan: Plan) -> list[Problem]:
    """Run every check in :data:`PLAN_CHECKS`; return all problems (empty list: the plan is valid)."""
    problems: list[Problem] = []
    for check in PLAN_CHECKS:
        problems.extend(check(plan))
    return problems


def _loc(parts: Iterable[Any]) -> str:
    return json_path(*[p if isinstance(p, int) else str(p) for p in parts])


_PYDANTIC_VI = {
    "missing": "thiếu thông tin bắt buộc",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "float_parsing": "phải là số",
    "float_type": "phải là số",
    "string_type": "phải là chữ",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "greater_than": "phải lớn hơn {gt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "enum": "phải là một trong: {expected}",
    "literal_error": "phải là một trong: {expected}",
    "extra_forbidden": "trường không được biết đến (có thể viết sai tên)",
    "union_tag_invalid": "loại ràng buộc không hợp lệ; dùng một trong: {expected_tags}",
    "list_type": "phải là danh sách",
    "dict_type": "phải là bảng (đối tượng)",
    "too_short": "cần ít nhất {min_length} phần tử",
}


_UNION_TAGS = {"floor", "cap", "earmark", "eligibility", "absorption", "stability", "target"}


def problems_from_validation_error(error: ValidationError, *, prefix: str = "") -> list[Problem]:
    """Translate pydantic's errors into located, bilingual problems (all of them)."""
    out: list[Problem] = []
    for err in error.errors(include_url=False):
        # Drop pydantic's internal loc parts: union tags after a list index ("constraints", 2, "floor")
        # and validator wrappers ("function-after[...]").
        parts = []
        for part in err["loc"]:
            if isinstance(part, str) and (part.startswith("function-") or (parts and isinstance(parts[-1], int) and part in _UNION_TAGS)):
                continue
            parts.append(part)
        loc = _loc(parts)
        if prefix:
            loc = f"{prefix}.{loc}" if loc else prefix
        ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
        msg_en = err["msg"].removeprefix("Value error, ")
        if err["type"] == "value_error" and " / " in msg_en:
            msg_vi, msg_en = msg_en.split(" / ", 1)
        else:
            template = _PYDANTIC_VI.get(err["type"])
            try:
                msg_vi = template.format(**ctx) if template else msg_en
            except (KeyError, IndexError):
                msg_vi = template or msg_en
        value = err.get("input")
        if isinstance(value, (dict, list)):
            value = None
        out.append(Problem(loc, msg_vi, msg_en, f"schema.{err['type']}", Severity.ERROR, value))
    return out


def load_plan_data(data: dict[str, Any], *, prefix: str = "") -> Plan:
    """Build a :class:`Plan` from plain data and validate it; raise :class:`PlanInvalid` with every problem."""
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanInvalid(problems_from_validation_error(exc, prefix=prefix)) from None
    problems = validate_plan(plan)
    if any(p.severity is Severity.ERROR for p in problems):
        raise PlanInvalid(problems)
    return plan
