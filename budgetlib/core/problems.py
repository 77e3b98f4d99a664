"""Problems with user data are data: a code, where it is, its parameters, how bad it is.

Every checker returns a list of :class:`Problem` instead of raising on the first one, so a finance
officer sees everything that is wrong in one run. A problem carries no text: its ``code`` names a
message in the catalogue (:mod:`budgetlib.core.i18n`) and ``params`` fill it in, so each surface
(terminal, sheet, dialog, JSON) renders it in the user's language. ``source`` says where: a file,
a sheet and cell (``Địa bàn!D7``), a JSON path into a plan file (``tasks[2].agencies``), and the
offending row. Programmer errors still raise ordinary exceptions.

>>> p = Problem("plan.task_lead", Source(path="tasks[0].agencies"), {"task": "TT", "name": "Tuyên truyền", "count": 0})
>>> p.render("en")
'tasks[0].agencies: task TT (Tuyên truyền) needs exactly one lead agency, has 0'
>>> p.location, p.to_dict()["message"]["vi"]
('tasks[0].agencies', 'nhiệm vụ TT (Tuyên truyền) phải có đúng một cơ quan chủ trì, hiện có 0')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .i18n import Msg, jsonable, tr
from .lang import Lang, as_lang

_LEGACY = "_legacy_text"

__all__ = ["Severity", "Source", "Problem", "PlanInvalid", "render_problems", "json_path"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"

    def label(self, lang: str | Lang) -> str:
        return tr(f"severity.{self.value}", lang)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a problem is. Any part may be missing; the most precise one is shown first."""

    file: str | None = None
    sheet: str | None = None
    cell: str | None = None  # "D7", a range "A4:F4", or a column "D"
    path: str | None = None  # JSON path of the plan field (``tasks[2].agencies``)
    row: int | None = None  # 1-based sheet row (or list index + 1 for JSON items)

    def __str__(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        if self.sheet:
            return self.sheet
        if self.path:
            return self.path
        return self.file or ""

    def with_file(self, file: str) -> Source:
        return dataclasses.replace(self, file=file)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def _as_source(source: Source | str | None) -> Source:
    if isinstance(source, Source):
        return source
    if not source:
        return Source()
    return Source(path=str(source))


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem. ``code`` is a stable machine id and the catalogue key (``"task.lead"``)."""

    code: str
    source: Source = field(default_factory=Source)
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.ERROR

    def __post_init__(self) -> None:
        if not isinstance(self.source, Source):
            object.__setattr__(self, "source", _as_source(self.source))

    @property
    def location(self) -> str:
        """The source as officers read it: ``Địa bàn!D7``, ``tasks[2].agencies`` or a file name."""
        return str(self.source)

    @property
    def value(self) -> Any:
        """The offending value, when the check recorded one."""
        return self.params.get("value")

    @property
    def msg(self) -> Msg:
        return Msg(self.code, **self.params)

    def message(self, lang: str | Lang = Lang.VI) -> str:
        legacy = self.params.get(_LEGACY)
        if legacy is not None:
            return legacy[as_lang(lang).value]
        return tr(self.code, lang, **self.params)

    @classmethod
    def legacy(cls, source: Source | str, vi: str, en: str, code: str, severity: Severity = Severity.ERROR, value: Any = None) -> Problem:
        """Transitional: a problem whose text was written inline before the catalogue existed.
        Removed once no caller is left (a test lists the callers)."""
        return cls(code, _as_source(source), {_LEGACY: {"vi": vi, "en": en}, "value": value}, severity)

    def render(self, lang: str | Lang = Lang.VI, *, with_file: bool = False) -> str:
        """``location: message`` (``file: location: message`` with ``with_file``)."""
        where = self.location
        if with_file and self.source.file and where != self.source.file:
            where = f"{self.source.file}: {where}" if where else self.source.file
        shown = self.message(lang)
        return f"{where}: {shown}" if where else shown

    def to_dict(self) -> dict[str, Any]:
        """The problem for machines: code, severity, source parts, parameters and both messages."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "location": self.location,
            "source": self.source.to_dict(),
            "params": {k: jsonable(v) for k, v in self.params.items() if k != _LEGACY},
            "message": {lang.value: self.message(lang) for lang in Lang},
        }

    def relocated(self, source: Source | str) -> Problem:
        return dataclasses.replace(self, source=_as_source(source))


@dataclass
class PlanInvalid(Exception):
    """Raised by entry points that need a valid plan; carries every problem found."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return render_problems(self.problems, lang=Lang.EN)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.ERROR]


def render_problems(problems: Iterable[Problem], *, lang: str | Lang = Lang.VI) -> str:
    """One line per problem, ``location: message``, in input order."""
    return "\n".join(p.render(lang) for p in problems)


def json_path(*parts: str | int) -> str:
    """Build a JSON-style path: ``json_path("tasks", 2, "code")`` → ``tasks[2].code``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
