"""Plain-language explanation of an :class:`~budgetlib.model.result.Allocation` (used by the CLI)."""

from __future__ import annotations

from collections.abc import Callable

from ..core.i18n import Msg, tr
from ..core.lang import Lang, as_lang
from ..model.result import Allocation

__all__ = ["explain_text"]


def explain_text(allocation: Allocation, lang: str | Lang = Lang.VI, *, locate: Callable[[str], str | None] | None = None) -> str:
    """A few paragraphs a finance officer can read: status, objective, binding constraints, targets.

    ``lang`` is ``"vi"`` (default) or ``"en"`` (any other raises ``ValueError``). Infeasible
    allocations list the conflicting constraints with their amounts and locations: JSON paths of
    the plan, or the cells ``locate`` maps them to (a plan read from a workbook).
    """
    lang = as_lang(lang)
    a = allocation
    policy = Msg(f"policy.{a.policy}")
    lines = [tr("alloc.text.header_ok" if a.ok else "alloc.text.header_infeasible", lang, plan=a.plan_code, policy=policy)]
    if a.ok:
        lines.append(tr("alloc.text.total", lang, total=a.total, units=len(a.units)))
    lines.append("")
    lines += a.explanation(lang)
    if a.diagnosis is not None:
        lines.append("")
        lines.append(tr("alloc.text.conflicts", lang))
        for c in a.diagnosis.conflicts:
            place = ", ".join(((locate(loc) if locate else None) or loc) for loc in c.locations if loc)
            where = Msg("alloc.text.at_location", location=place) if place else ""
            lines.append(tr("alloc.text.conflict_line", lang, message=c.msg, where=where))
        if a.diagnosis.repair is not None:
            lines.append("")
            lines.append(a.diagnosis.repair.summary(lang))
            lines += [o.message(lang) for o in a.diagnosis.repair.options]
    return "\n".join(lines).rstrip() + "\n"
