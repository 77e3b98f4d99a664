"""Plain-language explanation of an :class:`~budgetlib.model.result.Allocation` (used by the CLI)."""

from __future__ import annotations

from ..core.money import format_amount
from ..model.result import Allocation

__all__ = ["explain_text"]


def explain_text(allocation: Allocation, lang: str = "vi") -> str:
    """A few paragraphs a finance officer can read: status, objective, binding constraints, targets.

    ``lang`` is ``"vi"`` (default) or ``"en"``. Infeasible allocations list the conflicting
    constraints with their amounts.
    """
    if lang not in ("vi", "en"):
        raise ValueError(f"unknown language {lang!r}; use 'vi' or 'en'")
    vi = lang == "vi"
    a = allocation
    lines: list[str] = []
    if vi:
        lines.append(f"Kế hoạch {a.plan_code} — chính sách {a.policy}: " + ("CÓ LỜI GIẢI" if a.ok else "KHÔNG CÓ LỜI GIẢI"))
    else:
        lines.append(f"Plan {a.plan_code} — policy {a.policy}: " + ("SOLVED" if a.ok else "INFEASIBLE"))
    if a.ok:
        total = format_amount(a.total, lang=lang)
        lines.append(f"Tổng phân bổ: {total} cho {len(a.units)} địa bàn." if vi else f"Total allocated: {total} to {len(a.units)} units.")
    lines.append("")
    lines += list(a.explanation_vi if vi else a.explanation_en)
    if a.diagnosis is not None:
        lines.append("")
        lines.append("Các ràng buộc mâu thuẫn:" if vi else "Conflicting constraints:")
        for c in a.diagnosis.conflicts:
            where = f" [{c.location}]" if c.location else ""
            lines.append(f"  - {c.message_vi if vi else c.message_en}{where}")
    return "\n".join(lines).rstrip() + "\n"
