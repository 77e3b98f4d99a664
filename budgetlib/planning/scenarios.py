"""Apply a scenario to a plan, exactly to the đồng; check a plan's scenarios; make budget grids.

:func:`apply_scenario` returns a new, validated :class:`~budgetlib.model.plan.Plan`: the base plan
with the scenario's changes applied in order (see :mod:`budgetlib.model.scenario`). Scaling is
exact: the selected budget lines' new total is the old total × factor rounded half up to the
policy's rounding unit (when every selected line is a multiple of it), then apportioned over the
lines by their amounts with :func:`~budgetlib.core.money.apportion`, and the program total moves by
the same number of đồng, so the scenario plan reconciles like the base.

:func:`check_scenarios` is one of the plan checks: unknown sources, tasks, constraints or targets,
years outside the program and duplicate names, each located at its JSON path
(``scenarios[1].changes[0].source``) and all reported at once.

>>> from decimal import Decimal
>>> scaled_total(22_500_000_000, Decimal("0.9"), unit=1_000_000)
20250000000
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..core.i18n import tr
from ..core.lang import Lang
from ..core.money import apportion
from ..core.problems import PlanInvalid, Problem, Severity, Source, json_path
from ..core.text import fold
from ..model.plan import BudgetLine, Plan
from ..model.policy import AllocationPolicy, Constraint
from ..model.scenario import (
    CONSTRAINT_VALUE_FIELDS,
    MONEY_FIELDS,
    DropConstraint,
    DropSource,
    ScaleBudget,
    Scenario,
    SetConstraint,
    SetPolicy,
    SetTarget,
)

__all__ = [
    "apply_scenario",
    "check_scenarios",
    "select_scenarios",
    "scaled_total",
    "scenario_slug",
    "budget_grid",
    "parse_budget_grid",
    "problem",
    "value_field",
    "policy_scenarios",
]

_CONSTRAINT = TypeAdapter(Constraint)


def problem(code: str, path: str, severity: Severity = Severity.ERROR, **params: Any) -> Problem:
    """A problem at a JSON path of the plan (``scenarios[1].changes[0].source``)."""
    return Problem(code, Source(path=path), params, severity)


def scenario_slug(name: str) -> str:
    """A file-name part for a scenario: folded (no diacritics, lower case), words joined by ``-``.

    >>> scenario_slug("Không có kinh phí tỉnh (2022)"), scenario_slug("Ngân sách −10%"), scenario_slug("Ngân sách +10%")
    ('khong-co-kinh-phi-tinh-2022', 'ngan-sach-10', 'ngan-sach+10')
    """
    text = fold(name).replace("−", "-").replace("–", "-")
    out: list[str] = []
    for k, ch in enumerate(text):
        nxt = text[k + 1] if k + 1 < len(text) else ""
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif ch in "+-" and nxt.isdigit():  # a sign before a number is kept: budget +10% / -10%
            while out and out[-1] == "-":
                out.pop()
            out.append(ch)
        elif out and out[-1] not in "-+":
            out.append("-")
    return "".join(out).strip("-")[:60].strip("-") or "kb"


def scaled_total(old: int, factor: Decimal | Fraction | float, *, unit: int = 1) -> int:
    """``old × factor`` rounded half up to a multiple of ``unit``, in exact arithmetic (a float factor
    is read as the decimal it prints as: ``0.9`` is 9/10)."""
    f = Fraction(Decimal(repr(factor))) if isinstance(factor, float) else Fraction(factor)
    q = Fraction(old) * f / unit
    return (2 * q.numerator + q.denominator) // (2 * q.denominator) * unit


def _line_selected(line: BudgetLine, change: ScaleBudget) -> bool:
    return (
        (change.source is None or line.source == change.source)
        and (change.tasks is None or line.task in change.tasks)
        and (change.years is None or line.year in change.years)
    )


def _constraint_field(c: Any, change: SetConstraint) -> str:
    return value_field(c, change.field)


def value_fields(c: Any) -> tuple[str, ...]:
    """The fields of constraint ``c`` a :class:`SetConstraint` may change: the declared ones for the
    known kinds, else every number the constraint holds (a new kind needs no change here)."""
    known = CONSTRAINT_VALUE_FIELDS.get(c.type)
    if known is not None:
        return known
    return tuple(k for k, v in c.model_dump().items() if isinstance(v, (int, float)) and not isinstance(v, bool))


def value_field(c: Any, field: str | None = None) -> str:
    """The field a :class:`SetConstraint` changes on constraint ``c``: ``field``, else the one ``c`` uses."""
    if field is not None:
        return field
    fields = value_fields(c)
    if c.type in ("floor", "cap"):
        return next(f for f in fields if getattr(c, f) is not None)
    return fields[0] if fields else ""


def check_scenarios(plan: Plan) -> list[Problem]:
    """Every problem in ``plan.scenarios`` that can be seen without running them, each located."""
    out: list[Problem] = []
    sources = {s.code for s in plan.sources}
    tasks = {t.code for t in plan.tasks}
    targets = {t.code for t in plan.targets}
    program = plan.program  # None when checking whatever could be read of a broken plan
    years = set(program.years) if program is not None else None
    constraints: dict[str, list[Any]] = {}
    for c in (plan.allocation.constraints if plan.allocation else []):
        constraints.setdefault(c.name, []).append(c)
    seen: dict[str, int] = {}
    for i, sc in enumerate(plan.scenarios):
        key = scenario_slug(sc.name)
        if key in seen:
            out.append(problem("scenario.duplicate_name", json_path("scenarios", i, "name"), name=sc.name, first=seen[key] + 1, value=sc.name))
        else:
            seen[key] = i
        for j, ch in enumerate(sc.changes):
            def at(*more: str, i: int = i, j: int = j) -> str:
                return json_path("scenarios", i, "changes", j, *more)

            if isinstance(ch, (ScaleBudget, DropSource)) and ch.source is not None and ch.source not in sources:
                out.append(problem("scenario.unknown_source", at("source"), source=ch.source, value=ch.source))
            if isinstance(ch, ScaleBudget):
                for code in ch.tasks or []:
                    if code not in tasks:
                        out.append(problem("scenario.unknown_task", at("tasks"), task=code, value=code))
                for y in ch.years or []:
                    if years is not None and program is not None and y not in years:
                        out.append(problem("scenario.year_outside", at("years"), year=y, first=program.first_year, last=program.last_year, value=y))
                if not any(_line_selected(line, ch) for line in plan.budget_lines) and (ch.source is None or ch.source in sources):
                    out.append(problem("scenario.no_lines", at(), scenario=sc.name))
            elif isinstance(ch, DropSource) and ch.source in sources and not any(line.source == ch.source for line in plan.budget_lines):
                out.append(problem("scenario.source_unused", at("source"), Severity.WARNING, source=ch.source))
            elif isinstance(ch, (SetConstraint, DropConstraint)):
                found = constraints.get(ch.constraint)
                if not found:
                    out.append(problem("scenario.unknown_constraint", at("constraint"), name=ch.constraint, known=sorted(constraints), value=ch.constraint))
                elif isinstance(ch, SetConstraint):
                    for c in found:
                        f = _constraint_field(c, ch)
                        if f not in value_fields(c):
                            out.append(problem("scenario.field_not_for", at("field"), field=f, kind=c.type, allowed=list(value_fields(c)), value=f))
                        elif f in MONEY_FIELDS and not float(ch.value).is_integer():
                            out.append(problem("scenario.whole_dong", at("value"), value=ch.value))
            elif isinstance(ch, SetTarget):
                if ch.target not in targets:
                    out.append(problem("scenario.unknown_target", at("target"), target=ch.target, value=ch.target))
                if ch.year is not None and years is not None and program is not None and ch.year not in years:
                    out.append(problem("scenario.year_outside", at("year"), year=ch.year, first=program.first_year, last=program.last_year, value=ch.year))
    return out


def apply_scenario(plan: Plan, scenario: Scenario, *, index: int | None = None) -> Plan:
    """The plan with ``scenario``'s changes applied in order, validated (no scenarios of its own).

    Raises :class:`~budgetlib.core.problems.PlanInvalid` with located problems when a change cannot
    be applied (``index`` is the scenario's position in ``plan.scenarios``, for the locations).
    """
    where = (lambda j, *more: json_path("scenarios", index, "changes", j, *more)) if index is not None else (lambda j, *more: json_path("changes", j, *more))
    lines = list(plan.budget_lines)
    total = plan.program.total
    policy = plan.allocation
    targets = list(plan.targets)
    sources = list(plan.sources)
    problems: list[Problem] = []
    for j, ch in enumerate(scenario.changes):
        if isinstance(ch, ScaleBudget):
            picked = [k for k, line in enumerate(lines) if _line_selected(line, ch)]
            old = sum(lines[k].amount for k in picked)
            unit = policy.rounding_unit if policy is not None else 1
            if any(lines[k].amount % unit for k in picked):
                unit = 1
            if ch.total is not None:
                new = int(ch.total)
            else:
                assert ch.factor is not None
                new = scaled_total(old, ch.factor, unit=unit)
            if old == 0:
                if new != 0:
                    problems.append(problem("scenario.nothing_to_scale", where(j), scenario=scenario.name))
                continue
            parts = apportion(new, [float(lines[k].amount) for k in picked], unit=unit if new % unit == 0 else 1)
            for k, amount in zip(picked, parts.tolist()):
                lines[k] = lines[k].model_copy(update={"amount": int(amount)})
            total += new - old
        elif isinstance(ch, DropSource):
            total -= sum(line.amount for line in lines if line.source == ch.source)
            lines = [line for line in lines if line.source != ch.source]
            sources = [s for s in sources if s.code != ch.source]
        elif isinstance(ch, SetPolicy):
            base = policy if policy is not None else AllocationPolicy()
            update = {k: v for k, v in (("kind", ch.kind), ("deviation", ch.deviation), ("rounding_unit", ch.rounding_unit)) if v is not None}
            policy = AllocationPolicy.model_validate({**base.model_dump(), **update})
        elif isinstance(ch, (SetConstraint, DropConstraint)):
            current = list(policy.constraints) if policy is not None else []
            if not any(c.name == ch.constraint for c in current):
                problems.append(problem("scenario.unknown_constraint", where(j, "constraint"), name=ch.constraint, known=sorted({c.name for c in current}), value=ch.constraint))
                continue
            if isinstance(ch, DropConstraint):
                kept = [c for c in current if c.name != ch.constraint]
            else:
                kept = []
                for c in current:
                    if c.name != ch.constraint:
                        kept.append(c)
                        continue
                    f = _constraint_field(c, ch)
                    data = c.model_dump()
                    if f not in value_fields(c):
                        problems.append(problem("scenario.field_not_for", where(j, "field"), field=f, kind=c.type, allowed=list(value_fields(c)), value=f))
                        kept.append(c)
                        continue
                    if f in MONEY_FIELDS:
                        if not float(ch.value).is_integer():
                            problems.append(problem("scenario.whole_dong", where(j, "value"), value=ch.value))
                            kept.append(c)
                            continue
                        data[f] = int(ch.value)
                    else:
                        data[f] = float(ch.value)
                    if c.type in ("floor", "cap"):
                        for other in value_fields(c):
                            if other != f:
                                data[other] = None
                    try:
                        kept.append(_CONSTRAINT.validate_python(data))
                    except ValidationError:
                        problems.append(problem("scenario.bad_value", where(j, "value"), name=ch.constraint, field=f, value=ch.value))
                        kept.append(c)
            assert policy is not None
            policy = policy.model_copy(update={"constraints": kept})
        elif isinstance(ch, SetTarget):
            for k, t in enumerate(targets):
                if t.code == ch.target:
                    year = ch.year if ch.year is not None else (max(t.values) if t.values else plan.program.last_year)
                    targets[k] = t.model_copy(update={"values": {**t.values, year: float(ch.value)}})
                    break
            else:
                problems.append(problem("scenario.unknown_target", where(j, "target"), target=ch.target, value=ch.target))
    if problems:
        raise PlanInvalid(problems)
    data = plan.model_dump()
    data.update(
        budget_lines=[line.model_dump() for line in lines],
        program={**data["program"], "total": total},
        allocation=policy.model_dump() if policy is not None else None,
        targets=[t.model_dump() for t in targets],
        sources=[s.model_dump() for s in sources],
        scenarios=[],
    )
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:  # e.g. a factor that takes an amount past the safe range
        from .validation import problems_from_validation_error

        at = json_path("scenarios", index) if index is not None else "scenario"
        raise PlanInvalid([problem("scenario.result_invalid", at, scenario=scenario.name, message=p.msg) for p in problems_from_validation_error(exc)]) from None


def select_scenarios(plan: Plan, names: Sequence[str] | None) -> list[tuple[int, Scenario]]:
    """The plan's scenarios named in ``names`` (all when ``None``), in the plan's order.

    Names match ignoring case and diacritics; an unknown name raises PlanInvalid naming the known ones.
    """
    if names is None:
        return list(enumerate(plan.scenarios))
    by_key = {scenario_slug(s.name): (i, s) for i, s in enumerate(plan.scenarios)}
    wanted: list[tuple[int, Scenario]] = []
    missing = []
    for name in names:
        hit = by_key.get(scenario_slug(name))
        if hit is None:
            missing.append(name)
        elif hit not in wanted:
            wanted.append(hit)
    if missing:
        known = [s.name for s in plan.scenarios]
        raise PlanInvalid([problem("scenario.unknown", "scenarios", name=m, known=known, value=m) for m in missing])
    return sorted(wanted, key=lambda pair: pair[0])


def parse_budget_grid(text: str) -> list[Fraction]:
    """Budget factors from ``±10%`` (−10%, +10%), ``±10%/5%`` (every 5% from −10% to +10%),
    ``-20%:+20%:10%`` (from:to:step), or a list ``90%,110%`` / ``0.9,1.1``. The base (×1) is left
    out: it is always the first column. Raises ``ValueError`` for anything else.

    >>> [str(f) for f in parse_budget_grid("±10%/5%")]
    ['9/10', '19/20', '21/20', '11/10']
    """
    s = text.strip().replace(" ", "").replace("−", "-").replace("+-", "±").replace("-+", "±")

    def pct(part: str) -> Fraction:
        if part.endswith("%"):
            return Fraction(Decimal(part[:-1].replace(",", "."))) / 100
        raise ValueError(text)

    def factor(part: str) -> Fraction:
        if part.endswith("%"):  # "+10%", "-10%": a change; "90%": a level
            return 1 + pct(part) if part[0] in "+-" else pct(part)
        return Fraction(Decimal(part.replace(",", ".")))

    try:
        if s.startswith("±"):
            body, _, step = s[1:].partition("/")
            width = pct(body)
            if not step:
                values = [1 - width, 1 + width]
            else:
                st = pct(step)
                if st <= 0:
                    raise ValueError(text)
                n = int(width / st)
                values = [1 + k * st for k in range(-n, n + 1)]
        elif s.count(":") == 2:
            a, b, st_text = s.split(":")
            lo, hi, st = 1 + pct(a), 1 + pct(b), pct(st_text)
            if st <= 0 or hi < lo:
                raise ValueError(text)
            values = []
            v = lo
            while v <= hi:
                values.append(v)
                v += st
        else:
            values = [factor(p) for p in s.split(";" if ";" in s else ",") if p]
    except (ArithmeticError, ValueError, IndexError):
        raise ValueError(text) from None
    if not values or any(v < 0 for v in values):
        raise ValueError(text)
    return sorted({v for v in values if v != 1})


def budget_grid(factors: Iterable[Fraction], *, source: str | None = None, lang: str | Lang = Lang.VI) -> list[Scenario]:
    """One scenario per factor: the whole budget (or ``source``) × factor, named in ``lang``."""
    out = []
    for f in factors:
        sign = "+" if f > 1 else "−"
        code = "scenario.grid.name_source" if source else "scenario.grid.name"
        name = tr(code, lang, sign=sign, change=float(abs(f - 1)), source=source or "")
        out.append(Scenario(name=name, changes=[ScaleBudget(factor=float(f), source=source)]))
    return out


def policy_scenarios(kinds: Iterable[str], *, lang: str | Lang = Lang.VI) -> list[Scenario]:
    """One scenario per allocation method (``proportional``, ``max_min``, …), named in ``lang``:
    the old "compare policies" as scenarios."""
    return [Scenario(name=tr("scenario.policy_name", lang, kind=tr(f"scenario.policy.{k}", lang)), changes=[SetPolicy(kind=k)]) for k in kinds]
