"""Problems with user data are data: a location, a Vietnamese and an English message, the offending value.

Every checker returns a list of :class:`Problem` instead of raising on the first one, so a finance
officer sees everything that is wrong in one run. Locations are JSON-style paths for plan files
(``tasks[2].agencies``) and cell references for workbooks (``Địa bàn!D7``). Programmer errors
still raise ordinary exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable

__all__ = ["Severity", "Problem", "PlanInvalid", "render_problems", "json_path"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem. ``code`` is a stable machine id (e.g. ``"task.lead"``)."""

    location: str
    message_vi: str
    message_en: str
    code: str = "invalid"
    severity: Severity = Severity.ERROR
    value: Any = None

    def message(self, lang: str = "vi") -> str:
        return self.message_vi if lang == "vi" else self.message_en

    def render(self, lang: str = "vi") -> str:
        shown = self.message(lang)
        if self.value is not None and repr(self.value) not in shown:
            got = "nhận được" if lang == "vi" else "got"
            shown = f"{shown} ({got} {self.value!r})"
        return f"{self.location}: {shown}" if self.location else shown

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "code": self.code,
            "severity": str(self.severity),
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "value": self.value if isinstance(self.value, (str, int, float, bool, type(None))) else repr(self.value),
        }

    def relocated(self, location: str) -> "Problem":
        return Problem(location, self.message_vi, self.message_en, self.code, self.severity, self.value)


@dataclass
class PlanInvalid(Exception):
    """Raised by entry points that need a valid plan; carries every problem found."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return render_problems(self.problems, lang="en")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.ERROR]


def render_problems(problems: Iterable[Problem], *, lang: str = "vi") -> str:
    """One line per problem, ``location: message``, in input order."""
    return "\n".join(p.render(lang) for p in problems)


def json_path(*parts: "str | int") -> str:
    """Build a JSON-style path: ``json_path("tasks", 2, "code")`` → ``tasks[2].code``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
