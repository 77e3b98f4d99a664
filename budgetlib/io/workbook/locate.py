"""Locating: JSON paths of the plan (``tasks[2].agencies``) ↔ the cells they were read from, and
which findings are only consequences of a problem already reported at a cell.

The plan checks speak JSON paths (they run on plan data, whatever file it came from);
:class:`LocMap` turns each path into the most precise cell known (walking up to the row or the
table when a value has no cell of its own). A finding is a consequence, and left out, when

* it is about a value whose cell could not be read, about a part of it, or about the item that
  holds it (``units[3]`` when ``units[3].kind`` was unreadable) — see :meth:`LocMap.explained`;
* it names an item of a table that could not be read at all (the table or its key column is
  missing): :data:`REFERS_TO` says which table each kind of finding looks items up in;
* it says an attribute is missing where that attribute's cells could not be read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...core.i18n import Msg
from ...core.problems import Problem, Source
from ...model.attributes import KNOWN_ATTRIBUTES
from .cells import shown_params
from .items import Item

__all__ = ["LocMap", "REFERS_TO", "Unread", "is_consequence", "relocate"]

REFERS_TO: Mapping[str, tuple[str, ...]] = {
    "plan.unknown_agency": ("agencies",),
    "plan.unknown_task": ("tasks",),
    "plan.unknown_task_group": ("tasks",),
    "plan.curve_unknown_task": ("tasks",),
    "plan.unknown_parent": ("units",),
    "plan.unknown_source": ("sources",),
    "plan.source_restriction": ("sources",),
    "plan.constraint_prior_unknown": ("units", "tasks"),
    "plan.no_units": ("units",),
    "plan.missing_attribute": ("units",),
    "plan.constraint_attribute_missing": ("units",),
    "plan.task_lead": ("roles",),
    "plan.task_unfunded": ("budget_lines",),
    "plan.source_unused": ("budget_lines",),
    "plan.all_zero_need": ("units", "budget_lines"),
}
"""Plan findings that look items up in other tables (by table key of :data:`~.fields.TABLES`)."""

_REFERENCE_KIND = {"task": "tasks", "unit": "units", "target": "targets", "agency": "agencies", "source": "sources"}
_ATTRIBUTE_CODES = frozenset({"plan.missing_attribute", "plan.constraint_attribute_missing"})


def _ancestors(path: str) -> list[str]:
    """``tasks[2].agencies[0].role`` → ``tasks[2].agencies[0]``, ``tasks[2].agencies``, ``tasks[2]``, ``tasks``."""
    out: list[str] = []
    while True:
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return out
        path = path[:cut]
        out.append(path)


class LocMap:
    """JSON path → the cell it was read from; and the paths whose cells could not be read."""

    def __init__(self) -> None:
        self.map: dict[str, Source] = {}
        self.failed: set[str] = set()
        self.holds_failed: set[str] = set()  # items and values that contain a failed path
        self.lists: set[str] = set()  # list roots ("units", "allocation.constraints")

    def add(self, path: str, item: Item) -> None:
        for suffix, src in item.locs.items():
            self.map[_join(path, suffix)] = src
        for s in item.failed:
            failed = _join(path, s)
            self.failed.add(failed)
            self.holds_failed.update(_ancestors(failed))

    def add_list(self, path: str, items: Iterable[Item]) -> None:
        self.lists.add(path)
        for i, item in enumerate(items):
            self.add(f"{path}[{i}]", item)

    def locate(self, path: str) -> Source | None:
        """The cell of ``path`` or of the nearest enclosing value that has one."""
        while path:
            if path in self.map:
                return self.map[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                break
            path = path[:cut]
        return self.map.get(path)

    def explained(self, path: str) -> bool:
        """A finding at ``path`` follows from a cell that could not be read: the path is that
        value or inside it, or an item (not a whole list) that contains it."""
        if not path:
            return False
        if path in self.failed or any(a in self.failed for a in _ancestors(path)):
            return True
        return path in self.holds_failed and path not in self.lists


def _join(path: str, suffix: str) -> str:
    if not suffix:
        return path
    return f"{path}{suffix}" if suffix.startswith("[") else f"{path}.{suffix}"


_UNUSED = {"plan.task_unfunded": "task", "plan.source_unused": "source"}


@dataclass
class Unread:
    """What could not be read: whole tables, attribute columns (some cell), and the codes named by
    budget lines that could not be read (their task may look unfunded only because of that)."""

    tables: set[str] = field(default_factory=set)
    attributes: set[str] = field(default_factory=set)
    line_refs: dict[str, set[str]] = field(default_factory=lambda: {"task": set(), "source": set()})


def is_consequence(p: Problem, locs: LocMap, unread: Unread) -> bool:
    """True if ``p`` only repeats, in other words, a problem already reported (see the module)."""
    if locs.explained(p.source.path or ""):
        return True
    tables = set(REFERS_TO.get(p.code, ()))
    if p.code == "plan.constraint_unknown_reference":
        tables.add(_REFERENCE_KIND.get(str(p.params.get("what")), ""))
    if tables & unread.tables:
        return True
    if p.code in _ATTRIBUTE_CODES:
        return str(p.params.get("attribute", p.params.get("value"))) in unread.attributes
    if p.code in _UNUSED:
        what = _UNUSED[p.code]
        return p.params.get(what) in unread.line_refs[what]
    return False


def relocate(p: Problem, locs: LocMap) -> Problem:
    """``p`` located at its cell (the JSON path is kept in ``source.path``), its parameters as an
    officer reads them in the workbook: a known attribute by its column label (``Dân số``, not
    ``population``), "first at row" as the sheet row, long user text cut."""
    path = p.source.path or ""
    src = locs.locate(path) if path else None
    source = p.source if src is None else dataclasses.replace(src, path=path or None, file=p.source.file)
    return dataclasses.replace(p, source=source, params=_sheet_params(p, path, locs))


def _sheet_params(p: Problem, path: str, locs: LocMap) -> dict[str, Any]:
    params = shown_params(p.params)
    attribute = params.get("attribute")
    if isinstance(attribute, str) and attribute in KNOWN_ATTRIBUTES:
        params["attribute"] = Msg(f"attribute.{attribute}")
    first = params.get("first")
    if p.code == "plan.duplicate_code" and isinstance(first, int) and "[" in path:
        row = locs.map.get(f"{path[: path.index('[')]}[{first - 1}]")
        if row is not None and row.row is not None:
            params["first"] = row.row
    return params
