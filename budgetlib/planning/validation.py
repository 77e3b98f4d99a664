"""Whole-plan validation: every problem at once, each located and phrased for a finance officer.

Checks are pure functions ``check(plan) -> list[Problem]`` kept in :data:`PLAN_CHECKS` (the list is
also the documentation of what is checked). Locations are JSON paths into the plan file; the
workbook reader maps them to cells. Messages are catalogue codes (``locales/*/plan.toml``).

A plan whose fields cannot all be read is not a reason to stop: :func:`salvage_plan` validates item
by item, keeps what could be read and runs every check on it, so a blank lead agency does not hide a
wrong need formula, nor an unreadable amount the total that does not reconcile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..constraints import CONSTRAINT_KINDS, PlanRefs, kind_of
from ..core.i18n import LocalizedError, Msg, catalogue
from ..core.lang import Lang
from ..core.money import SAFE_AMOUNT
from ..core.problems import PlanInvalid, Problem, Severity, Source, json_path
from ..model.plan import (
    AdminUnit,
    Agency,
    Assumption,
    BudgetLine,
    FundingSource,
    Level,
    Plan,
    Program,
    ReportingRule,
    Role,
    Target,
    Task,
    TaskRole,
)
from ..model.policy import (
    AllocationPolicy,
    Constraint,
    EarmarkConstraint,
    ResponseCurve,
)
from ..model.scenario import Scenario
from .scenarios import check_scenarios

__all__ = [
    "PLAN_CHECKS",
    "REFERENCE_CODES",
    "validate_plan",
    "load_plan_data",
    "salvage_plan",
    "Salvaged",
    "partial_total_problem",
    "problems_from_validation_error",
]

Check = Callable[[Plan], list[Problem]]

REFERENCE_CODES = frozenset(
    {
        "plan.unknown_agency",
        "plan.unknown_task",
        "plan.unknown_task_group",
        "plan.unknown_parent",
        "plan.unknown_source",
        "plan.constraint_unknown_reference",
        "plan.curve_unknown_task",
    }
)
"""Problems that name another item by its code (``params["value"]``). When that item could not be
read it has a problem of its own, so these are not repeated (see :func:`salvage_plan`)."""


def _p(code: str, path: str, severity: Severity = Severity.ERROR, **params: Any) -> Problem:
    return Problem(code, Source(path=path), params, severity)


def check_duplicate_codes(plan: Plan) -> list[Problem]:
    out: list[Problem] = []
    for list_field, kind in (
        ("units", "unit"),
        ("agencies", "agency"),
        ("tasks", "task"),
        ("sources", "source"),
        ("targets", "target"),
    ):
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(plan, list_field)):
            if item.code in seen:
                out.append(
                    _p("plan.duplicate_code", json_path(list_field, i, "code"), kind=kind, value=item.code, first=seen[item.code] + 1)
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
            out.append(_p("plan.task_lead", json_path("tasks", i, "agencies"), task=task.code, name=task.name, count=len(leads)))
        for j, role in enumerate(task.agencies):
            if role.agency not in agencies:
                out.append(_p("plan.unknown_agency", json_path("tasks", i, "agencies", j, "agency"), value=role.agency))
        if task.group is not None and task.group not in tasks:
            out.append(_p("plan.unknown_task_group", json_path("tasks", i, "group"), value=task.group))
    return out


def _allocation_level(plan: Plan) -> Level:
    return Level.COMMUNE if plan.allocation and plan.allocation.level == "commune" else Level.DISTRICT


def check_units(plan: Plan) -> list[Problem]:
    out: list[Problem] = []
    codes = {u.code for u in plan.units}
    for i, unit in enumerate(plan.units):
        if unit.parent is not None and unit.parent not in codes and unit.level is Level.COMMUNE:
            out.append(_p("plan.unknown_parent", json_path("units", i, "parent"), unit=unit.name, value=unit.parent))
        for key, value in unit.attributes.items():
            if value < 0:
                out.append(_p("plan.negative_attribute", json_path("units", i, "attributes", key), unit=unit.name, attribute=key, value=value))
    # Need drivers must refer to attributes every allocated unit has.
    units = plan.units_at(_allocation_level(plan))
    for i, task in enumerate(plan.tasks):
        for attr in task.need.terms:
            missing = [u.name for u in units if attr not in u.attributes]
            if missing:
                out.append(
                    _p(
                        "plan.missing_attribute",
                        json_path("tasks", i, "need"),
                        task=task.code,
                        attribute=attr,
                        units=missing[:3],
                        more=Msg("plan.more_units", count=len(missing) - 3) if len(missing) > 3 else "",
                    )
                )
    return out


def check_budget_lines(plan: Plan) -> list[Problem]:
    out: list[Problem] = []
    tasks = {t.code for t in plan.tasks}
    agencies = {a.code for a in plan.agencies}
    sources = {s.code: s for s in plan.sources}
    program = plan.program
    for i, line in enumerate(plan.budget_lines):
        if line.task not in tasks:
            out.append(_p("plan.unknown_task", json_path("budget_lines", i, "task"), value=line.task))
        if line.agency not in agencies:
            out.append(_p("plan.unknown_agency", json_path("budget_lines", i, "agency"), value=line.agency))
        if line.source not in sources:
            out.append(_p("plan.unknown_source", json_path("budget_lines", i, "source"), value=line.source))
        elif sources[line.source].tasks is not None and line.task not in (sources[line.source].tasks or ()):
            out.append(_p("plan.source_restriction", json_path("budget_lines", i, "source"), value=line.source, task=line.task))
        if program is not None and line.year not in program.years:
            out.append(
                _p("plan.year_outside_period", json_path("budget_lines", i, "year"), value=line.year, first=program.first_year, last=program.last_year)
            )
    total = plan.budget_total
    if total > SAFE_AMOUNT:
        out.append(_p("plan.total_out_of_range", "budget_lines", total=total, limit=SAFE_AMOUNT))
    elif program is not None and plan.budget_lines and total != program.total:
        diff = total - program.total
        out.append(
            _p(
                "plan.total_mismatch_over" if diff > 0 else "plan.total_mismatch_under",
                "budget_lines",
                total=total,
                program_total=program.total,
                difference=abs(diff),
            )
        )
    return out


def check_targets(plan: Plan) -> list[Problem]:
    out: list[Problem] = []
    tasks = {t.code for t in plan.tasks}
    years = set(plan.program.years) if plan.program is not None else None
    for i, target in enumerate(plan.targets):
        if target.task is not None and target.task not in tasks:
            out.append(_p("plan.unknown_task", json_path("targets", i, "task"), value=target.task))
        for year, value in target.values.items():
            loc = json_path("targets", i, "values", str(year))
            if years is not None and year not in years:
                out.append(_p("plan.target_year_outside", loc, target=target.code, value=year))
            if value < 0:
                out.append(_p("plan.target_negative", loc, target=target.code, value=value))
            if target.denominator is not None and value > target.denominator:
                out.append(_p("plan.target_above_denominator", loc, target=target.code, value=value, denominator=target.denominator))
        if target.baseline is not None and target.denominator is not None and target.baseline > target.denominator:
            out.append(
                _p(
                    "plan.baseline_above_denominator",
                    json_path("targets", i, "baseline"),
                    target=target.code,
                    value=target.baseline,
                    denominator=target.denominator,
                )
            )
    return out


def check_policy_references(plan: Plan) -> list[Problem]:
    policy = plan.allocation
    if policy is None:
        return []
    out: list[Problem] = []
    tasks = {t.code for t in plan.tasks}
    level = _allocation_level(plan)
    units = {u.code for u in plan.units_at(level)}
    years = set(plan.program.years) if plan.program is not None else None

    refs = PlanRefs.of(plan)
    for i, c in enumerate(policy.constraints):
        out.extend(kind_of(c).check(c, i, refs))  # each constraint kind checks its own references
    for i, curve in enumerate(policy.response_curves):
        if curve.task not in tasks:
            out.append(_p("plan.curve_unknown_task", json_path("allocation", "response_curves", i, "task"), value=curve.task))
    for j, year in enumerate(policy.years or []):
        if years is not None and year not in years:
            out.append(_p("plan.allocation_year_outside", json_path("allocation", "years", j), value=year))
    if not units:
        out.append(_p("plan.no_units", json_path("allocation", "level"), level=level.value))
    return out


def check_unused(plan: Plan) -> list[Problem]:
    """Warnings: a task or a funding source that no budget line uses (often a mistyped code).

    Agencies are not checked: a plan names bodies whose role is coordination (Sở Tài chính arranges
    the funds) without a task or a budget line of their own."""
    out: list[Problem] = []
    funded_tasks = {line.task for line in plan.budget_lines}
    used_sources = {line.source for line in plan.budget_lines}
    groups = {t.group for t in plan.tasks if t.group is not None}
    for i, task in enumerate(plan.tasks):
        if task.code not in funded_tasks and task.code not in groups:
            out.append(_p("plan.task_unfunded", json_path("tasks", i), Severity.WARNING, task=task.code, name=task.name))
    for i, source in enumerate(plan.sources):
        if source.code not in used_sources:
            out.append(_p("plan.source_unused", json_path("sources", i), Severity.WARNING, source=source.code, name=source.name))
    return out


def check_zero_need(plan: Plan) -> list[Problem]:
    """Warning: every unit has zero need for a funded task that no earmark places, so a need-based
    split has no basis (a zero for some units is often meaningful: a district with no unhealthy
    commune needs no money to make one healthy)."""
    out: list[Problem] = []
    funded = {line.task for line in plan.budget_lines if line.amount > 0}
    earmarked = {c.task for c in (plan.allocation.constraints if plan.allocation else []) if isinstance(c, EarmarkConstraint)}
    units = plan.units_at(_allocation_level(plan))
    for i, task in enumerate(plan.tasks):
        if task.code not in funded or task.code in earmarked or not units:
            continue
        if any(attr not in u.attributes for u in units for attr in task.need.terms):
            continue  # missing attributes are an error of their own (check_units)
        if all(task.need.constant + sum(c * u.attributes[a] for a, c in task.need.terms.items()) <= 0 for u in units):
            out.append(_p("plan.all_zero_need", json_path("tasks", i, "need"), Severity.WARNING, task=task.code))
    return out


PLAN_CHECKS: list[Check] = [
    check_duplicate_codes,
    check_task_roles,
    check_units,
    check_budget_lines,
    check_targets,
    check_policy_references,
    check_unused,
    check_zero_need,
    check_scenarios,  # planning/scenarios.py (batch helper)
]
"""Every cross-reference and reconciliation check run by :func:`validate_plan`, in order."""


def validate_plan(plan: Plan) -> list[Problem]:
    """Run every check in :data:`PLAN_CHECKS`; return all problems (empty list: the plan is valid)."""
    problems: list[Problem] = []
    for check in PLAN_CHECKS:
        problems.extend(check(plan))
    return problems


# ---------------------------------------------------------------------------------------------
# Field errors (pydantic) as problems


_UNION_TAGS = set(CONSTRAINT_KINDS)
_SCHEMA_PARAMS = ("ge", "gt", "le", "lt", "min_length", "max_length", "expected", "expected_tags")


def _loc(parts: Iterable[Any]) -> str:
    return json_path(*[p if isinstance(p, int) else str(p) for p in parts])


def _clean_loc(loc: Iterable[Any]) -> list[Any]:
    # Drop pydantic's internal loc parts: union tags after a list index ("constraints", 2, "floor")
    # and validator wrappers ("function-after[...]").
    parts: list[Any] = []
    for part in loc:
        if isinstance(part, str) and (part.startswith("function-") or (parts and isinstance(parts[-1], int) and part in _UNION_TAGS)):
            continue
        parts.append(part)
    return parts


def problems_from_validation_error(error: ValidationError, *, prefix: str = "") -> list[Problem]:
    """Translate pydantic's errors into located problems (all of them).

    A validator that raised a :class:`~budgetlib.core.i18n.LocalizedError` keeps its own code and
    parameters; pydantic's own error types become ``schema.<type>`` codes with their constraints
    (``ge``, ``expected``, …) as parameters.
    """
    out: list[Problem] = []
    for err in error.errors(include_url=False):
        loc = _loc(_clean_loc(err["loc"]))
        if prefix:
            loc = f"{prefix}.{loc}" if loc and not loc.startswith("[") else f"{prefix}{loc}"
        ctx = dict(err.get("ctx") or {})
        value = err.get("input")
        shown = value if isinstance(value, (str, int, float, bool)) or value is None else None
        cause = ctx.get("error")
        if isinstance(cause, LocalizedError):
            out.append(Problem(cause.code, Source(path=loc), {"value": shown, **cause.params}))
            continue
        if err["type"] == "value_error":
            # A plain ValueError from a validator that has no catalogue code yet.
            detail = str(err["msg"]).removeprefix("Value error, ")
            out.append(Problem("schema.value_error", Source(path=loc), {"detail": detail, "value": shown}))
            continue
        params: dict[str, Any] = {k: v for k, v in ctx.items() if k in _SCHEMA_PARAMS}
        for key in ("expected", "expected_tags"):
            if key in params:
                # pydantic lists the options as "'a', 'b' or 'c'": keep the options, not its English.
                found = re.findall(r"'([^']*)'", str(params[key]))
                params[key] = found or [str(params[key])]
        params["value"] = shown
        params["got"] = Msg("schema.got", value=shown) if shown not in (None, "") else ""
        code = f"schema.{err['type']}"
        if code not in catalogue(Lang.VI):
            code, params = "schema.invalid", {"value": shown, "got": params["got"]}
        out.append(Problem(code, Source(path=loc), params))
    return out


# ---------------------------------------------------------------------------------------------
# Salvage: read what can be read, check all of it


_ITEM_MODELS: dict[str, Any] = {
    "units": AdminUnit,
    "agencies": Agency,
    "tasks": Task,
    "sources": FundingSource,
    "targets": Target,
    "budget_lines": BudgetLine,
    "reporting": ReportingRule,
    "assumptions": Assumption,
    "scenarios": Scenario,
}
_CONSTRAINT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Constraint)


@dataclass
class Salvaged:
    """What :func:`salvage_plan` could read: the plan (or None), every problem, the codes of items that
    could not be read, and for each list the original index of every kept item."""

    plan: Plan | None
    problems: list[Problem]
    broken_codes: set[str] = field(default_factory=set)
    kept_index: dict[str, list[int]] = field(default_factory=dict)
    dropped_lines: int = 0


def _validate(model: Any, data: Any) -> Any:
    if isinstance(model, TypeAdapter):
        return model.validate_python(data)
    return model.model_validate(data)


def _salvage_list(
    name: str, items: Any, model: Any, problems: list[Problem], broken: set[str], sub_lists: Mapping[str, Any] | None = None
) -> tuple[list[Any], list[int]]:
    """Validate a list item by item; an item whose sub-list entries fail keeps its other entries."""
    if not isinstance(items, list):
        if items is not None:
            problems.append(Problem("schema.list_type", Source(path=name)))
        return [], []
    kept: list[Any] = []
    index: list[int] = []
    for i, raw in enumerate(items):
        path = json_path(name, i)
        try:
            kept.append(_validate(model, raw))
            index.append(i)
            continue
        except ValidationError as exc:
            problems.extend(problems_from_validation_error(exc, prefix=path))
        if isinstance(raw, dict) and isinstance(raw.get("code"), str):
            broken.add(raw["code"])
        # Retry with the failing entries of sub-lists removed, so the rest of the item is checked.
        if sub_lists and isinstance(raw, dict):
            repaired = dict(raw)
            for key, sub_model in sub_lists.items():
                entries = raw.get(key)
                if isinstance(entries, list):
                    good = []
                    for entry in entries:
                        try:
                            _validate(sub_model, entry)
                            good.append(entry)
                        except ValidationError:
                            pass
                    repaired[key] = good
            try:
                kept.append(_validate(model, repaired))
                index.append(i)
                if isinstance(raw.get("code"), str):
                    broken.discard(raw["code"])
            except ValidationError:
                pass
    return kept, index


def salvage_plan(data: Mapping[str, Any]) -> Salvaged:
    """Validate plan data item by item; keep what can be read and run every check on it.

    Paths in the problems refer to the original ``data`` (indices of dropped items are accounted
    for). Problems that only repeat an unreadable item's own problem are left out: a reference to an
    item that could not be read (:data:`REFERENCE_CODES`), and the total check when some budget line
    was unreadable (then the total is reported as partial).
    """
    problems: list[Problem] = []
    broken: set[str] = set()
    if not isinstance(data, Mapping):
        return Salvaged(None, [Problem("file.json_shape", Source())])
    program = None
    try:
        program = Program.model_validate(data.get("program"))
    except ValidationError as exc:
        problems.extend(problems_from_validation_error(exc, prefix="program"))
        program = _without_optional_failures(Program, data.get("program"), exc)
    parts: dict[str, Any] = {}
    kept_index: dict[str, list[int]] = {}
    for name, model in _ITEM_MODELS.items():
        subs = {"agencies": TaskRole} if name == "tasks" else None
        parts[name], kept_index[name] = _salvage_list(name, data.get(name, []), model, problems, broken, subs)
    policy = None
    raw_policy = data.get("allocation")
    if raw_policy is not None:
        try:
            policy = AllocationPolicy.model_validate(raw_policy)
        except ValidationError as exc:
            problems.extend(problems_from_validation_error(exc, prefix="allocation"))
            if isinstance(raw_policy, dict):
                constraints, kept_index["allocation.constraints"] = _salvage_list(
                    "allocation.constraints", raw_policy.get("constraints", []), _CONSTRAINT_ADAPTER, [], set()
                )
                curves, kept_index["allocation.response_curves"] = _salvage_list(
                    "allocation.response_curves", raw_policy.get("response_curves", []), ResponseCurve, [], set()
                )
                rest = {k: v for k, v in raw_policy.items() if k not in ("constraints", "response_curves")}
                try:
                    settings = AllocationPolicy.model_validate(rest)
                except ValidationError as exc:
                    settings = _without_optional_failures(AllocationPolicy, rest, exc)
                policy = settings.model_copy(update={"constraints": constraints, "response_curves": curves}) if settings else None
    schema_version = data.get("schema_version", 1)
    # The program may be None here: the checks that need the period or the total skip it.
    fields: dict[str, Any] = {"schema_version": schema_version if isinstance(schema_version, int) else 1, "program": program,
                              "allocation": policy, **parts}
    plan = Plan.model_construct(**fields)
    dropped_lines = len(data.get("budget_lines") or []) - len(parts["budget_lines"]) if isinstance(data.get("budget_lines"), list) else 0
    for p in validate_plan(plan):
        if p.code in REFERENCE_CODES and p.params.get("value") in broken:
            continue
        if p.code.startswith("plan.total_mismatch") and dropped_lines:
            partial = partial_total_problem(p, dropped_lines)
            if partial is None:
                continue
            p = partial
        problems.append(_reindex(p, kept_index))
    whole = None
    if not problems or all(p.severity is Severity.WARNING for p in problems):
        whole = Plan.model_validate(dict(data))
    return Salvaged(whole if whole is not None else (plan if program is not None else None), problems, broken, kept_index, dropped_lines)


def _without_optional_failures(model: Any, raw: Any, error: ValidationError) -> Any:
    """``raw`` validated again without the fields that failed, when each of them has a default
    (a misspelt policy method must not hide the checks of the constraints); None otherwise."""
    if not isinstance(raw, Mapping):
        return None
    failed = {err["loc"][0] for err in error.errors() if err["loc"]}
    fields = model.model_fields
    if not failed or any(not isinstance(k, str) or k not in fields or fields[k].is_required() for k in failed):
        return None
    try:
        return model.model_validate({k: v for k, v in raw.items() if k not in failed})
    except ValidationError:
        return None


def partial_total_problem(mismatch: Problem, unreadable: int) -> Problem | None:
    """The total check when ``unreadable`` budget lines could not be read. Amounts are never negative,
    so readable lines already above the program total are a mismatch whatever the unreadable lines
    hold; below it, the unreadable lines may make up the difference and nothing can be said."""
    if mismatch.code != "plan.total_mismatch_over":
        return None
    return Problem("plan.total_mismatch_partial", mismatch.source, {**mismatch.params, "unreadable": unreadable})


def _reindex(p: Problem, kept_index: Mapping[str, list[int]]) -> Problem:
    """Map ``units[3]…`` in a check's path (index into the kept items) back to the original index."""
    path = p.source.path or ""
    for name in sorted(kept_index, key=len, reverse=True):
        prefix = name + "["
        if path.startswith(prefix):
            end = path.index("]", len(prefix))
            k = int(path[len(prefix) : end])
            index = kept_index[name]
            if k < len(index) and index[k] != k:
                return p.relocated(Source(path=f"{name}[{index[k]}]{path[end + 1 :]}"))
            break
    return p


def load_plan_data(data: dict[str, Any], *, prefix: str = "") -> Plan:
    """Build a :class:`Plan` from plain data and validate it; raise :class:`PlanInvalid` with every problem."""
    try:
        plan = Plan.model_validate(data)
    except ValidationError:
        found = salvage_plan(data)
        problems = found.problems
        if prefix:
            problems = [p.relocated(Source(path=f"{prefix}.{p.location}" if p.location else prefix)) for p in problems]
        raise PlanInvalid(problems) from None
    problems = validate_plan(plan)
    if any(p.severity is Severity.ERROR for p in problems):
        raise PlanInvalid(problems)
    return plan

