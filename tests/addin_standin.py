"""A stand-in for Excel that cannot be friendlier than Excel: xlwings' own Windows backend, re-hosted.

Real Excel on Windows is reached by ``xlwings/_xlwindows.py`` (COM through pywin32). This module
loads *that file* — the installed xlwings' own source, parsed with :mod:`ast` — with the Windows-only
imports replaced, so its classes (``App``, ``Book``, ``Sheet``, ``Range`` … all subclasses of
``xlwings.base_classes.*``) run unchanged on Linux. Their ``self.xl`` COM objects are
:class:`Com` proxies over pyOpenVBA's in-memory Excel object model (``pyopenvba.apps.excel``), which
follows Excel's type library: ``Range.Value = "=1+2"`` makes a formula, ``"303"`` a number, ``"'303"``
text; a member Excel does not have is an error, a member Excel has but pyOpenVBA does not implement
raises ``VBAUnsupportedError``.

Consequences, which are the point:

* every xlwings call the add-in makes goes through ``xlwings.main`` (the public API) into the
  Windows backend's own code; what the Windows backend lacks raises ``NotImplementedError`` from
  ``xlwings.base_classes`` exactly as in Excel (``Sheet.freeze_panes``, for one);
* the set of methods the stand-in implements *is* ``_xlwindows.py``'s (:data:`WINDOWS_MEMBERS`,
  derived with ``ast``); :data:`MAC_MEMBERS` is derived the same way from ``_xlmac.py``, and
  :class:`StandIn` records every backend member the add-in touched (:attr:`StandIn.used`) so a test
  can require that macOS has it too;
* ``.api`` is the pyOpenVBA object behind a pywin32-style proxy, so the add-in's COM adapter
  (:mod:`budgetlib.addin.native`) runs against Excel's object model, not against a hand-written fake.

What is replaced, and why (each is Windows plumbing, not Excel behaviour):

* ``pywintypes.com_error`` — a local exception class; the proxy raises it where pywin32 would
  (a run-time error from the object model);
* ``win32api.MessageBox`` — records the message box (:attr:`StandIn.alerts`) and answers OK;
* ``pythoncom.CoInitialize``, ``win32process.GetWindowThreadProcessId``, ``windll.user32`` focus
  calls — no-ops / a fixed process id (there is no desktop);
* ``Application.Hwnd`` — pyOpenVBA has no window handle; the proxy answers a fixed one (:data:`SHIMS`);
* rules Excel enforces and pyOpenVBA does not (the last visible sheet cannot be deleted or hidden)
  are enforced by the proxy (:data:`RULES`), so the stand-in is never more permissive than Excel;
* ``get_excel_hwnds``/``get_xl_app_from_hwnd`` (finding Excel windows on the desktop) — the one
  pyOpenVBA application is the one Excel; it is registered as xlwings' active engine, as the
  Windows engine is on Windows, so ``xw.apps.active`` finds it.

The module-level statements of ``_xlwindows.py`` that are dropped (imports, ``os.chdir``, the
``oledll``/``PyDLL`` bindings to ``ole32``/``pythoncom``, the ``atexit`` zombie-process cleanup) are
listed in :data:`DROPPED` and checked by a test, so a new xlwings that changes them is noticed.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlwings
from pyopenvba.apps.excel import ExcelApplication
from pyopenvba.exceptions import VBAUnsupportedError
from pyopenvba.interpreter import _values as V
from pyopenvba.interpreter._objects import VBAObject
from xlwings import base_classes, constants, utils

XLWINGS_DIR = Path(xlwings.__file__).parent
WINDOWS_SOURCE = XLWINGS_DIR / "_xlwindows.py"
MAC_SOURCE = XLWINGS_DIR / "_xlmac.py"


class com_error(Exception):
    """What pywin32 raises for a failed COM call (here: a run-time error of the object model)."""


# ---------------------------------------------------------------------------------------------
# The method sets of the real backends, derived from their source


def _decorator_kind(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    for d in node.decorator_list:
        text = ast.unparse(d)
        if text == "property":
            return "get"
        if text.endswith(".setter"):
            return "set"
        if text in ("staticmethod", "classmethod"):
            return "method"
    return "method"


def backend_members(source: Path) -> dict[str, set[str]]:
    """``{class name: {member, …, "name=" for a setter}}`` of a backend module, inheriting from the
    module's own base classes (``class Tables(Collection, base_classes.Tables)`` gets Collection's).

    Only what the file itself defines counts: a member inherited from ``xlwings.base_classes`` is
    the ``NotImplementedError`` stub, not an implementation."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    own: dict[str, set[str]] = {}
    bases: dict[str, list[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        members: set[str] = set()
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                kind = _decorator_kind(item)
                members.add(f"{item.name}=" if kind == "set" else item.name)
                if item.name == "__init__":  # attributes set on the instance: self.xl = xl
                    for sub in ast.walk(item):
                        if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store):
                            if isinstance(sub.value, ast.Name) and sub.value.id == "self":
                                members.add(sub.attr)
            elif isinstance(item, ast.Assign):  # api = xl
                members.update(t.id for t in item.targets if isinstance(t, ast.Name))
        own[node.name] = members
        bases[node.name] = [ast.unparse(b) for b in node.bases]

    @functools.cache
    def resolved(name: str) -> frozenset[str]:
        out = set(own.get(name, ()))
        for base in bases.get(name, ()):
            if base in own:
                out |= resolved(base)
        return frozenset(out)

    return {name: set(resolved(name)) for name in own}


WINDOWS_MEMBERS = backend_members(WINDOWS_SOURCE)
MAC_MEMBERS = backend_members(MAC_SOURCE)


# ---------------------------------------------------------------------------------------------
# pywin32-style dispatch over pyOpenVBA's Excel object model


def _to_py(value: Any, via: tuple[Any, str] | None = None) -> Any:
    """An object-model value as pywin32 hands it to Python."""
    if isinstance(value, VBAObject):
        return Com(value, via)
    if isinstance(value, V.VBAArray):
        if value.dimensions == 2:
            (r0, r1), (c0, c1) = value.bounds
            return tuple(tuple(_to_py(value.get([r, c])) for c in range(c0, c1 + 1)) for r in range(r0, r1 + 1))
        return tuple(_to_py(x) for x in value.elements())
    if value is V.EMPTY or value is V.NOTHING or value is None:
        return None
    if isinstance(value, V.VBAInt):
        return int(value)
    if isinstance(value, V.VBADate):
        return dt.datetime(1899, 12, 30) + dt.timedelta(days=float(value.serial))
    return value


def _to_vba(value: Any) -> Any:
    """A Python value as pywin32 would marshal it (lists of lists become 2-D SAFEARRAYs)."""
    if isinstance(value, Com):
        return value._o
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        arr = V.VBAArray([(1, len(value)), (1, len(value[0]))])
        for i, row in enumerate(value, start=1):
            for j, x in enumerate(row, start=1):
                arr.set([i, j], _to_vba(x))
        return arr
    if isinstance(value, (list, tuple)):
        arr = V.VBAArray([(0, len(value) - 1)])
        for i, x in enumerate(value):
            arr.set([i], _to_vba(x))
        return arr
    if value is None:
        return V.EMPTY
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
        return V.VBADate((value - dt.datetime(1899, 12, 30)).total_seconds() / 86400)
    return value


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except VBAUnsupportedError:
        raise  # a real Excel member pyOpenVBA does not implement: not an Excel error
    except Exception as exc:
        if type(exc).__module__.startswith("pyopenvba"):
            raise com_error(str(exc)) from exc
        raise


def _international(o: Any) -> tuple[Any, ...]:
    """``Application.International`` without an index: every setting, as pywin32 returns an array
    (a tuple, indexed by the ``xlApplicationInternational`` constants); en-US values where it matters."""
    values: list[Any] = [None] * 46
    values[constants.ApplicationInternational.xlListSeparator] = ","
    values[constants.ApplicationInternational.xlDecimalSeparator] = "."
    values[constants.ApplicationInternational.xlThousandsSeparator] = ","
    return tuple(values)


def _special_cells(rng: Any) -> Callable[..., Any]:
    """``Range.SpecialCells`` for ``xlCellTypeAllValidation`` (pyOpenVBA leaves that type out): the
    validated cells, or Excel's run-time error 1004 "No cells were found" when there are none."""
    real = _Method(rng, "SpecialCells")

    def special_cells(cell_type: Any, value: Any = V.MISSING) -> Any:
        if cell_type != constants.CellType.xlCellTypeAllValidation:
            return real(cell_type) if value is V.MISSING else real(cell_type, value)
        validated = []
        for cell in rng.vba_get("Cells").vba_iterate():
            try:
                cell.vba_get("Validation").vba_get("Type")
                validated.append(cell)
            except Exception:
                continue
        if not validated:
            raise com_error("run-time error 1004: No cells were found.")
        cells = list(rng.vba_get("Cells").vba_iterate())
        if len(validated) == len(cells):
            return Com(rng)
        # Some cells: the validated ones as one (multi-area) range, in runs down each column.
        by_col: dict[int, list[int]] = {}
        for cell in validated:
            by_col.setdefault(int(cell.vba_get("Column")), []).append(int(cell.vba_get("Row")))
        areas = []
        for col, rows in sorted(by_col.items()):
            rows.sort()
            start = prev = rows[0]
            for r in [*rows[1:], None]:
                if r is not None and r == prev + 1:
                    prev = r
                    continue
                letters = utils.col_name(col)
                areas.append(f"{letters}{start}" if start == prev else f"{letters}{start}:{letters}{prev}")
                if r is not None:
                    start = prev = r
        return Com(rng.vba_get("Worksheet").vba_get("Range", [",".join(areas)]))

    return special_cells


def _get_address(rng: Any) -> Callable[..., Any]:
    """``Range.GetAddress(RowAbsolute, ColumnAbsolute, ReferenceStyle, External)`` (pywin32's name for
    ``Address`` with arguments). pyOpenVBA drops the book from an external address
    (``''Nhiệm vụ'!$A$4``); Excel answers ``'[Book1]Nhiệm vụ'!$A$4``."""
    real = _Method(rng, "Address")

    def get_address(row_abs: Any = True, col_abs: Any = True, style: Any = 1, external: Any = False) -> Any:
        local = real(row_abs, col_abs, style, False)
        if not external:
            return local
        sheet = rng.vba_get("Worksheet")
        book, name = sheet.vba_get("Parent").vba_get("Name"), sheet.vba_get("Name")
        plain = __import__("re").fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", f"{book}{name}") is not None
        qualified = f"[{book}]{name}" if plain else "'" + f"[{book}]{name}".replace("'", "''") + "'"
        return f"{qualified}!{local}"

    return get_address


#: Members real Excel answers that pyOpenVBA does not model, answered as Excel would.
SHIMS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("Application", "Hwnd"): lambda o: 0x10010,
    ("Application", "International"): _international,
    ("Range", "SpecialCells"): _special_cells,
    ("Range", "GetAddress"): _get_address,
}


def _visible_sheets(sheet: Any) -> list[Any]:
    book = sheet.vba_get("Parent")
    return [s for s in book.vba_get("Worksheets").vba_iterate() if s.vba_get("Visible") == -1]


def _last_visible(sheet: Any) -> bool:
    return _visible_sheets(sheet) == [sheet]


#: Rules of Excel that pyOpenVBA does not enforce, checked before the call: (type, member) →
#: a test of (object, arguments) that is True when Excel refuses (run-time error 1004).
RULES: dict[tuple[str, str], Callable[[Any, tuple[Any, ...]], bool]] = {
    # "A workbook must contain at least one visible worksheet."
    ("Worksheet", "Delete"): lambda o, args: _last_visible(o),
    ("Worksheet", "Visible="): lambda o, args: args[0] in (False, 0, 2) and _last_visible(o),
}


def _check(o: Any, member: str, args: tuple[Any, ...]) -> None:
    rule = RULES.get((o.vba_type_name, member))
    if rule is not None and rule(o, args):
        raise com_error(f"run-time error 1004: {o.vba_type_name}.{member.rstrip('=')} refused by Excel")


class _Method:
    def __init__(self, o: Any, name: str):
        self._o, self._name = o, name

    def __call__(self, *args: Any, **named: Any) -> Any:
        _check(self._o, self._name, args)
        return _to_py(_call(self._o.vba_call, self._name, [_to_vba(a) for a in args], {k: _to_vba(v) for k, v in named.items()} or None))


class Com:
    """``win32com.client.dynamic.CDispatch`` over a pyOpenVBA object: properties read on access,
    methods and parameterised properties callable, the default member on call, For Each on iteration."""

    __slots__ = ("_o", "_via")

    def __init__(self, o: Any, via: tuple[Any, str] | None = None):
        object.__setattr__(self, "_o", o)
        object.__setattr__(self, "_via", via)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        shim = SHIMS.get((self._o.vba_type_name, name))
        if shim is not None:
            return shim(self._o)
        spec = self._o.vba_member(name)
        if spec is None and name[:3] in ("Get", "Set") and self._o.vba_member(name[3:]) is not None:
            # pywin32 exposes a property that takes arguments as GetX(...)/SetX(...): Range.GetAddress.
            target = self._o.vba_member(name[3:])
            if name.startswith("Get"):
                return _Method(self._o, target.name)
            return lambda *args: _call(self._o.vba_set, target.name, _to_vba(args[-1]), [_to_vba(a) for a in args[:-1]])
        if spec is None:
            # What the object model says: a real member it does not implement, or no such member
            # (pywin32 raises AttributeError for a name the type library does not have).
            error = self._o.vba_no_member(name)
            if isinstance(error, VBAUnsupportedError):
                raise error
            raise AttributeError(str(error))
        if spec.kind == "method":
            return _Method(self._o, spec.name)
        try:
            got = _call(self._o.vba_get, spec.name)
        except com_error:
            if spec.parameters:  # a property that needs its arguments: Worksheet.Range("A1")
                return _Method(self._o, spec.name)
            raise
        return _to_py(got, (self._o, spec.name) if spec.parameters else None)

    def __setattr__(self, name: str, value: Any) -> None:
        _check(self._o, f"{name}=", (value,))
        _call(self._o.vba_set, name, _to_vba(value))

    def __call__(self, *args: Any, **named: Any) -> Any:
        if not args and not named:
            return self
        if self._via is not None:  # Cells(1, 2): the property with its arguments
            owner, name = self._via
            return _Method(owner, name)(*args, **named)
        member = self._o.vba_member("Item") or self._o.vba_default_member()
        return _Method(self._o, member.name)(*args, **named)

    def __iter__(self) -> Iterator[Any]:
        for x in _call(self._o.vba_iterate):
            yield _to_py(x)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Com) and other._o is self._o

    def __hash__(self) -> int:
        return id(self._o)

    def __repr__(self) -> str:
        return f"<COM {self._o.vba_type_name}>"


# ---------------------------------------------------------------------------------------------
# xlwings' Windows backend, re-hosted

#: Module-level statements of _xlwindows.py that the re-hosting drops, by their first characters.
DROPPED = (
    "import ", "from ", "cwd = os.getcwd()", "if not hasattr(sys, 'frozen')", "os.chdir(cwd)", "try:\n    import",
    "try:\n    from PIL", "win32com.client.CoClassBaseClass = ", "oledll.ole32.CLSIDFromString(",
    "_PyCom_PyObjectFromIUnknown = ", "_PyCom_PyObjectFromIUnknown.restype",
)


@dataclass
class _Recorder:
    alerts: list[tuple[str, str, int]] = field(default_factory=list)
    used: set[tuple[str, str]] = field(default_factory=set)


_BACKEND_MODULE = "xlwings._xlwindows_standin"


def _from_outside() -> bool:
    """The call comes from xlwings' public API (``xlwings.main``, conversion), not from inside the
    backend: those are the members another backend must have too."""
    frame = sys._getframe(2)
    return frame.f_globals.get("__name__") != _BACKEND_MODULE


def _instrument(cls: type, recorder: _Recorder) -> None:
    """Record every member of ``cls`` defined by _xlwindows.py that xlwings' API calls (the macOS check)."""
    for name, value in list(vars(cls).items()):
        if name.startswith("__") and name not in ("__call__", "__len__", "__iter__", "__contains__"):
            continue
        if isinstance(value, property):
            fget, fset = value.fget, value.fset

            def wrap_get(f: Any, n: str = name) -> Any:
                @functools.wraps(f)
                def g(self: Any) -> Any:
                    if _from_outside():
                        recorder.used.add((cls.__name__, n))
                    return f(self)

                return g

            def wrap_set(f: Any, n: str = name) -> Any:
                @functools.wraps(f)
                def s(self: Any, v: Any) -> None:
                    if _from_outside():
                        recorder.used.add((cls.__name__, f"{n}="))
                    f(self, v)

                return s

            setattr(cls, name, property(wrap_get(fget) if fget else None, wrap_set(fset) if fset else None))
        elif isinstance(value, types.FunctionType):

            def wrap(f: Any, n: str = name) -> Any:
                @functools.wraps(f)
                def m(self: Any, *a: Any, **k: Any) -> Any:
                    if _from_outside():
                        recorder.used.add((cls.__name__, n))
                    return f(self, *a, **k)

                return m

            setattr(cls, name, wrap(value))


@functools.cache
def _windows_code() -> types.CodeType:
    """``_xlwindows.py`` without the statements in :data:`DROPPED`, compiled (once per test run)."""
    tree = ast.parse(WINDOWS_SOURCE.read_text(encoding="utf-8"))
    kept = []
    for node in tree.body:
        text = ast.unparse(node)
        if any(text.startswith(prefix) for prefix in DROPPED):
            continue
        if isinstance(node, ast.FunctionDef):
            node.decorator_list = [d for d in node.decorator_list if ast.unparse(d) != "atexit.register"]
        kept.append(node)
    tree.body = kept
    return compile(tree, str(WINDOWS_SOURCE), "exec")


def windows_backend(recorder: _Recorder, application: Any) -> types.ModuleType:
    """A fresh copy of ``xlwings._xlwindows`` whose Windows plumbing is replaced (module docstring),
    talking to ``application`` (a pyOpenVBA Excel ``Application``) as the one Excel on the desktop."""
    import ctypes
    import locale
    import numbers
    import os
    import re
    import subprocess
    import sys
    from shlex import split
    from warnings import warn

    code = _windows_code()

    def message_box(hwnd: int, prompt: str, title: str, style: int) -> int:
        recorder.alerts.append((prompt, title, style))
        return 1  # IDOK

    def unavailable(*_a: Any, **_k: Any) -> Any:
        raise com_error("not available without a Windows desktop")

    class _TimeZoneInfo:
        @staticmethod
        def utc() -> dt.tzinfo:
            return dt.UTC

    user32 = types.SimpleNamespace(
        GetForegroundWindow=lambda: 0x10010, SetForegroundWindow=lambda hwnd: 1, SetWindowPos=lambda *a: 1,
        GetTopWindow=lambda h: 0, GetWindow=lambda h, n: 0,
    )
    ns: dict[str, Any] = {
        "__name__": _BACKEND_MODULE,
        "__file__": str(WINDOWS_SOURCE),
        "atexit": __import__("atexit"), "locale": locale, "os": os, "subprocess": subprocess, "sys": sys, "split": split,
        "ctypes": ctypes, "dt": dt, "numbers": numbers, "re": re, "types": types, "Path": Path, "warn": warn,
        "pywintypes": types.SimpleNamespace(com_error=com_error, error=com_error, TimeType=dt.datetime, IID=str),
        "win32api": types.SimpleNamespace(MessageBox=message_box),
        "win32con": types.SimpleNamespace(
            MB_OK=0, MB_OKCANCEL=1, MB_YESNOCANCEL=3, MB_YESNO=4, MB_ICONINFORMATION=0x40, MB_ICONWARNING=0x30
        ),
        "pythoncom": types.SimpleNamespace(CoInitialize=lambda: None),
        "win32process": types.SimpleNamespace(GetWindowThreadProcessId=lambda hwnd: (1, 4242)),
        "win32gui": types.SimpleNamespace(FindWindowEx=unavailable),
        "win32timezone": types.SimpleNamespace(TimeZoneInfo=_TimeZoneInfo),
        "win32com": None, "CoClassBaseClass": object, "CDispatch": object, "DispatchBaseClass": object,
        "Dispatch": unavailable, "DispatchEx": unavailable, "PyDLL": unavailable, "byref": unavailable,
        "oledll": None, "py_object": None, "windll": types.SimpleNamespace(user32=user32),
        "xlwings": xlwings, "base_classes": base_classes, "constants": constants, "utils": utils,
        "pd": None, "np": __import__("numpy"), "PIL": None,
        "WindowsError": OSError,  # a builtin of Python on Windows only
    }
    for name in (
        "AxisCrosses", "AxisGroup", "AxisType", "ColorIndex", "ConsolidationFunction", "DeleteShiftDirection",
        "FileFormat", "FixedFormatType", "HAlign", "HtmlType", "InsertFormatOrigin", "InsertShiftDirection",
        "LayoutFormType", "LayoutRowType", "LegendPosition", "ListObjectSourceType", "PivotFieldOrientation",
        "PivotTableSourceType", "ReferenceStyle", "RowCol", "SourceType", "UpdateLinks", "VAlign",
    ):
        ns[name] = getattr(constants, name)
    for name in (
        "col_name", "fullname_url_to_local_path", "hex_to_rgb", "int_to_rgb", "np_datetime_to_datetime",
        "read_config_sheet", "rgb_to_int",
    ):
        ns[name] = getattr(utils, name)
    exec(code, ns)
    # Finding Excel windows on the desktop (EnumWindows, AccessibleObjectFromWindow): one Excel here.
    hwnd = SHIMS[("Application", "Hwnd")](None)
    ns["get_excel_hwnds"] = lambda: iter([hwnd])
    ns["get_xl_app_from_hwnd"] = lambda h: Com(application)
    ns["get_xl_apps"] = lambda: iter([Com(application)])
    module = types.ModuleType(_BACKEND_MODULE)
    module.__dict__.update(ns)
    for name in WINDOWS_MEMBERS:
        cls = ns.get(name)
        if isinstance(cls, type):
            _instrument(cls, recorder)
    return module


# ---------------------------------------------------------------------------------------------
# An Excel session


class StandIn:
    """One Excel "session": pyOpenVBA's Excel application driven through xlwings' Windows backend.

    ``StandIn(excel)`` wraps an existing :class:`~pyopenvba.apps.excel.ExcelApplication` (the one a
    VBA test clicks in), or a fresh one. :meth:`open` loads an ``.xlsx`` as Excel would open it and
    returns the ``xlwings.Book``; :meth:`caller` makes a book ``xw.Book.caller()`` (xlwings' own
    ``set_mock_caller``); :meth:`save` writes a book back to an ``.xlsx`` for comparison."""

    def __init__(self, excel: ExcelApplication | None = None):
        self.excel = excel or ExcelApplication()
        self.recorder = _Recorder()
        self.backend = windows_backend(self.recorder, self.excel.application)
        self._engines = (list(xlwings.engines.engines), dict(xlwings.engines.engines_by_name), xlwings.engines.active)
        engine = xlwings.main.Engine(impl=self.backend.engine)
        xlwings.engines.add(engine)
        xlwings.engines.active = engine
        self.app = xlwings.App(impl=self.backend.App(xl=Com(self.excel.application)))

    def close(self) -> None:
        """Give xlwings its engines back and forget the mock caller."""
        engines, by_name, active = self._engines
        xlwings.engines.engines[:] = engines
        xlwings.engines.engines_by_name.clear()
        xlwings.engines.engines_by_name.update(by_name)
        xlwings.engines.active = active
        self.clear_caller()

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alerts(self) -> list[tuple[str, str, int]]:
        """(prompt, title, MessageBox style) of every message box shown."""
        return self.recorder.alerts

    @property
    def used(self) -> set[tuple[str, str]]:
        return self.recorder.used

    def book(self, workbook: Any) -> xlwings.Book:
        return xlwings.Book(impl=self.backend.Book(xl=Com(workbook)))

    def open(self, path: Path) -> xlwings.Book:
        workbook = self.excel.open_workbook(path)
        self.excel.activate_workbook(workbook)
        return self.book(workbook)

    def new(self) -> xlwings.Book:
        return self.app.books.add()

    def caller(self, book: xlwings.Book) -> xlwings.Book:
        book.set_mock_caller()
        return book

    def save(self, book: xlwings.Book, path: Path) -> Path:
        return self.excel.save(path, workbook=book.impl.xl._o)

    @staticmethod
    def clear_caller() -> None:
        if hasattr(xlwings.Book, "_mock_caller"):
            del xlwings.Book._mock_caller


# ---------------------------------------------------------------------------------------------
# The built add-in in pyOpenVBA's VBA interpreter, clicked as Excel clicks it

_DIRECTIVE = __import__("re").compile(r"""^(?P<code>\s*#(?:Const|If|ElseIf|Else|End\s+If)\b(?:[^'"]|"[^"]*")*?)\s*'.*$""", __import__("re").I)

RUNPYTHON_INTERCEPT = '''
' Stands in for xlwings' RunPython (renamed RunPython_xlwings in the xlwings module): the command is
' handed to the test instead of a new Python process.
Public Captured As String
Public Calls As Long

Public Function RunPython(PythonCommand As String)
    Captured = PythonCommand
    Calls = Calls + 1
End Function
'''

FAKE_CONTROL = '''
' IRibbonControl as Excel passes it to a callback.
Public Id As String
Public Tag As String
'''

HARNESS = '''
Public Function Click(ByVal callback As String, ByVal controlId As String) As String
    Dim control As New FakeRibbonControl
    control.Id = controlId
    Captured = ""
    Application.Run callback, control
    Click = Captured
End Function

' Excel calls getLabel-style callbacks with returnedVal ByRef; Application.Run passes arguments by
' value, so the harness calls them directly.
Public Function TextOf(ByVal callback As String, ByVal controlId As String) As String
    Dim control As New FakeRibbonControl
    Dim text As Variant
    control.Id = controlId
    Select Case callback
        Case "BudgetlibRibbon.GetLabel": GetLabel control, text
        Case "BudgetlibRibbon.GetScreentip": GetScreentip control, text
        Case "BudgetlibRibbon.GetSupertip": GetSupertip control, text
        Case Else: Err.Raise 5, , "unknown callback " & callback
    End Select
    TextOf = text
End Function
'''


def strip_directive_comments(source: str) -> tuple[str, int]:
    """pyOpenVBA rejects a comment after a ``#Const``/``#If`` directive, which VBA accepts
    (``#Const App = "Microsoft Excel" 'Adjust when …`` in xlwings' module): drop those comments,
    and only those. Returns the source and how many lines changed."""
    lines = source.replace("\r\n", "\n").split("\n")
    changed = 0
    for i, line in enumerate(lines):
        m = _DIRECTIVE.match(line)
        if m:
            lines[i] = m.group("code").rstrip()
            changed += 1
    return "\r\n".join(lines), changed


def intercept_runpython(xlwings_source: str) -> str:
    """xlwings' module with its ``RunPython`` renamed, so the interceptor's answers the call."""
    import re

    out, n = re.subn(r"(?m)^Public Function RunPython\(", "Public Function RunPython_xlwings(", xlwings_source)
    if n != 1:
        raise AssertionError("xlwings' VBA module has no single 'Public Function RunPython('")
    return out


class _LanguageSettings(VBAObject):
    """Office's ``LanguageSettings`` (pyOpenVBA leaves it out): ``LanguageID(msoLanguageIDUI)``."""

    vba_type_name = "LanguageSettings"

    def __init__(self, ui: int):
        self.ui = ui

    def LanguageID(self, Id: Any = V.MISSING) -> Any:
        return V.VBAInt(self.ui, "Long")


def _register_language_settings() -> None:
    from pyopenvba.apps.excel._model import Application
    from pyopenvba.interpreter._objects import MemberSpec

    def getter(app: Any) -> Any:
        ui = _UI_LANGUAGE.get(id(app))
        if ui is None:
            raise VBAUnsupportedError("Application.LanguageSettings is a real member that pyOpenVBA does not implement")
        return _LanguageSettings(ui)

    Application.vba_add_member(MemberSpec(name="LanguageSettings", kind="property", getter=getter))
    _LanguageSettings.vba_add_member(
        MemberSpec(name="LanguageID", kind="property", getter=_LanguageSettings.LanguageID, parameters=("Id",))
    )


_UI_LANGUAGE: dict[int, int] = {}
_register_language_settings()


class VbaSession:
    """The built add-in open in pyOpenVBA's Excel with *every* module of its VBA project loaded
    (xlwings' own included), ``RunPython`` intercepted, and a workbook to click in.

    The host gives the VBA what pyOpenVBA leaves out on purpose, as Excel would: an environment for
    ``Environ`` (``environ``; e.g. ``USERPROFILE`` for xlwings' user config file), a file system
    with no files for ``GetAttr`` (so xlwings finds no user ``budgetlib.conf``; pyOpenVBA has no
    file I/O to read one) and Office's UI language (``ui_language``, 1066 Vietnamese, 1033 English)
    for ``Application.LanguageSettings``.
    Nothing of the add-in's own VBA is replaced except ``RunPython``.

    :meth:`click` runs the control's ``onAction`` as Excel does (with an ``IRibbonControl`` whose
    ``Id`` is the button's) and returns the command ``RunPython`` received; :meth:`run_command`
    executes that command in this Python process with the workbook that was active as
    ``xw.Book.caller()`` — the whole path from the ribbon to the result sheets."""

    def __init__(
        self, addin: Path, workbook: Path | None = None, *, environ: dict[str, str] | None = None, ui_language: int = 1066
    ):
        import zipfile

        from pyopenvba import ExcelFile
        from pyopenvba.vba import VBAModuleKind

        from budgetlib.addin.build import ribbon_callbacks, ribbon_text_callbacks

        self.excel = ExcelApplication.open(addin, with_vba=False)
        self.environ = dict(environ or {})
        _UI_LANGUAGE[id(self.excel.application)] = ui_language

        def environ_fn(interpreter: Any, args: list[Any], named: dict[str, Any]) -> Any:
            return self.environ.get(V.to_text(args[0]), "") if args else ""

        def getattr_fn(interpreter: Any, args: list[Any], named: dict[str, Any]) -> Any:
            raise V.error(53, f"File not found: {V.to_text(args[0]) if args else ''}")

        self.excel.interpreter._intrinsics["environ"] = environ_fn
        # xlwings' FileExists asks GetAttr; this host has no files (no user budgetlib.conf).
        self.excel.interpreter._intrinsics["getattr"] = getattr_fn
        with ExcelFile(addin) as f:
            modules = [(m.name, m.kind, m.source) for m in f.vba_project().modules]
        self.loaded: list[str] = []
        self.stripped = 0
        for name, kind, source in modules:
            how = "standard" if kind is VBAModuleKind.standard else "class"
            if how == "class" and isinstance(self.excel.interpreter.host.global_object(name.lower()), VBAObject):
                how = "document"
            if name == "xlwings":
                source, self.stripped = strip_directive_comments(source)
                source = intercept_runpython(source)
            self.excel.add_module(source, name=name, kind=how)
            self.loaded.append(name)
        self.excel.add_module(RUNPYTHON_INTERCEPT, name="RunPythonIntercept")
        self.excel.add_module(FAKE_CONTROL, name="FakeRibbonControl", kind="class")
        self.excel.add_module(HARNESS, name="RibbonHarness")
        with zipfile.ZipFile(addin) as z:
            ribbon = z.read("customUI/customUI.xml")
        self.callbacks = ribbon_callbacks(ribbon)
        self.text_callbacks = ribbon_text_callbacks(ribbon)
        self.workbook_path = workbook
        self.workbook = self.excel.open_workbook(workbook) if workbook is not None else None
        if self.workbook is not None:
            self.excel.activate_workbook(self.workbook)
        self.standin = StandIn(self.excel)

    def open(self, workbook: Path) -> xlwings.Book:
        """Open another workbook in this Excel and make it the active one (the one a click acts on);
        the one opened before is closed unsaved (Excel holds one workbook per file name)."""
        if self.workbook is not None:
            _call(self.workbook.vba_call, "Close", [False])
        self.workbook_path = workbook
        self.workbook = self.excel.open_workbook(workbook)
        self.excel.activate_workbook(self.workbook)
        return self.standin.book(self.workbook)

    def click(self, control_id: str) -> str:
        return str(self.excel.run("Click", self.callbacks[control_id], control_id))

    def text(self, control_id: str, kind: int = 0) -> str:
        return str(self.excel.run("TextOf", self.text_callbacks[control_id][kind], control_id))

    def active_book(self) -> xlwings.Book:
        return self.standin.book(self.excel.application.vba_get("ActiveWorkbook"))

    def run_command(self, command: str) -> None:
        """What ``RunPython`` does with the command, minus the new process: ``xw.Book.caller()`` is
        the workbook that was active (xlwings passes ``--wb=ActiveWorkbook.Name``)."""
        self.standin.caller(self.active_book())
        try:
            exec(command, {})
        finally:
            self.standin.clear_caller()

    def close(self) -> None:
        _UI_LANGUAGE.pop(id(self.excel.application), None)
        self.standin.close()
