"""One message catalogue per language; every user-visible string is looked up by a stable code.

Messages live in ``budgetlib/locales/<lang>/*.toml`` (one file per domain — ``core.toml``,
``allocator.toml``, …; tables flatten into dotted codes, so ``[task] lead = "…"`` is the code
``task.lead``). Vietnamese and English are complete: a test fails on a code, or a placeholder,
that one language has and the other lacks. Code never matches message text; it passes codes and
parameters, and a renderer (terminal, sheet, dialog, JSON) asks for the text in the user's language.

Placeholders are ``str.format`` fields with budgetlib's own format specs, so numbers and money are
written the way each language writes them:

========================  ==========================================  ============================
spec                      vi                                          en
========================  ==========================================  ============================
``{x:money}``             ``22.500.000.000 đ``                         ``22,500,000,000 VND``
``{x:money_short}``       ``22,5 tỷ đồng``                             ``22.5 billion VND``
``{x:int}``               ``1.234``                                    ``1,234``
``{x:num}``/``{x:num3}``  ``42,19`` (up to 2 / 3 decimals)             ``42.19``
``{x:pct}``/``{x:pct2}``  ``12,5%`` (a fraction shown as percent)      ``12.5%``
``{x:q}``                 ``«x»`` (user text, quoted, cut at 80 chars) ``“x”``
``{x:list}``              items joined by ``, `` (each as ``q``)
``{x:term}``              the catalogue's ``term.<x>`` (a kind, a severity, a field name)
``{n:plural|one|other}``  ``n other`` (vi has no plural)               ``1 one`` / ``2 other``
========================  ==========================================  ============================

A parameter may itself be a :class:`Msg` (a code with parameters), rendered in the same language:
messages compose without concatenating translated strings.

>>> tr("severity.error", "vi"), tr("severity.error", "en")
('lỗi', 'error')
>>> tr("money.total", "en", amount=22_500_000_000)
'total 22,500,000,000 VND'
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .lang import Lang, as_lang

__all__ = ["Msg", "tr", "catalogue", "placeholders", "echo", "format_number", "STRICT_ENV", "LocalizedError"]

STRICT_ENV = "BUDGETLIB_STRICT_I18N"
"""With this environment variable set (the test suite sets it), an unknown code raises ``KeyError``
instead of rendering as ``code {params}``."""

ECHO_MAX = 80
"""User text echoed in a message is cut to this many characters (a 50 MB cell must not become a
50 MB message)."""

_QUOTES = {Lang.VI: ("«", "»"), Lang.EN: ("“", "”")}


@dataclass(frozen=True)
class Msg:
    """A message not yet rendered: a catalogue code and its parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, code: str, /, **params: Any) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "params", dict(params))

    def render(self, lang: str | Lang) -> str:
        return tr(self.code, lang, **self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": {k: jsonable(v) for k, v in self.params.items()}}


class LocalizedError(ValueError):
    """An error about user data that knows its catalogue code and parameters.

    ``str(exc)`` is the English text (for logs and programmers); front ends call
    :meth:`message` with the user's language.
    """

    def __init__(self, code: str, /, **params: Any) -> None:
        self.code = code
        self.params = dict(params)
        super().__init__(tr(code, Lang.EN, **params))

    @property
    def msg(self) -> Msg:
        return Msg(self.code, **self.params)

    def message(self, lang: str | Lang) -> str:
        return tr(self.code, lang, **self.params)

    # Transitional: callers not yet moved to ``message(lang)`` (removed once none is left).
    @property
    def message_vi(self) -> str:
        return self.message(Lang.VI)

    @property
    def message_en(self) -> str:
        return self.message(Lang.EN)


def _flatten(table: Mapping[str, Any], prefix: str, out: dict[str, str], origin: str) -> None:
    for key, value in table.items():
        code = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, code + ".", out, origin)
        elif isinstance(value, str):
            if code in out:
                raise ValueError(f"message code {code!r} defined twice (second time in {origin})")
            out[code] = value
        else:
            raise ValueError(f"message {code!r} in {origin} must be text, got {type(value).__name__}")


@cache
def catalogue(lang: str | Lang) -> Mapping[str, str]:
    """Every message of one language, code → template (all ``locales/<lang>/*.toml`` files)."""
    lang = as_lang(lang)
    out: dict[str, str] = {}
    folder = resources.files("budgetlib") / "locales" / lang.value
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            _flatten(tomllib.loads(entry.read_text(encoding="utf-8")), "", out, f"{lang.value}/{entry.name}")
    return out


def placeholders(template: str) -> set[str]:
    """The parameter names a template uses (``{unit}``, ``{amount:money}`` → ``{"unit", "amount"}``)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def _group(n: int, lang: Lang) -> str:
    return f"{n:,}".replace(",", "." if lang is Lang.VI else ",")


def format_number(x: float, lang: str | Lang, *, decimals: int = 2) -> str:
    """A number with at most ``decimals`` decimals, trailing zeros dropped, in the language's
    separators (``42,19`` / ``42.19``; ``1.234,5`` / ``1,234.5``)."""
    lang = as_lang(lang)
    x = float(x)
    if x != x:
        return "—"
    if x in (float("inf"), float("-inf")):
        return "∞" if x > 0 else "−∞"
    text = f"{abs(x):.{decimals}f}"
    integer, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    sign = "-" if x < 0 and (int(integer) or fraction) else ""
    dec = "," if lang is Lang.VI else "."
    return sign + _group(int(integer), lang) + (dec + fraction if fraction else "")


def echo(value: Any, lang: str | Lang = Lang.VI, *, limit: int = ECHO_MAX) -> str:
    """User text as it may appear inside a message: quoted, control characters escaped, cut."""
    lang = as_lang(lang)
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        # a long path keeps its file name, the part the user recognises: "/tmp/…/ke_hoach.xlsx"
        sep = max(text.rfind("/"), text.rfind("\\"))
        tail = text[sep:] if sep > 0 else ""
        text = text[: limit - len(tail)] + "…" + tail if tail and len(tail) <= limit // 2 else text[:limit] + "…"
    text = "".join(ch if ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" for ch in text)
    left, right = _QUOTES[lang]
    return f"{left}{text}{right}"


_NUM_SPEC = re.compile(r"^(num|pct)(\d?)$")


class _Formatter(string.Formatter):
    def __init__(self, lang: Lang):
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        lang = self.lang
        if isinstance(value, Msg):
            value = value.render(lang)
        spec = format_spec
        if spec == "money" or spec == "money_short":
            from .money import format_amount

            return format_amount(int(value), lang=lang, style="short" if spec == "money_short" else "full")
        if spec == "int":
            return ("-" if int(value) < 0 else "") + _group(abs(int(value)), lang)
        m = _NUM_SPEC.match(spec)
        if m:
            decimals = int(m.group(2)) if m.group(2) else (2 if m.group(1) == "num" else 1)
            if m.group(1) == "pct":
                return format_number(float(value) * 100, lang, decimals=decimals) + "%"
            return format_number(float(value), lang, decimals=decimals)
        if spec == "q":
            return echo(value, lang)
        if spec == "list":
            items = list(value) if not isinstance(value, str) else [value]
            return ", ".join(echo(v, lang) if isinstance(v, str) else self.format_field(v, "") for v in items)
        if spec == "term":
            return tr(f"term.{value}", lang)
        if spec.startswith("plural|"):
            _, one, other = spec.split("|")
            n = int(value)
            if lang is Lang.VI:
                return f"{_group(n, lang)} {other}"
            return f"{_group(n, lang)} {one if n == 1 else other}"
        if spec == "" and isinstance(value, float):
            return format_number(value, lang)
        if spec == "" and isinstance(value, (list, tuple)):
            return self.format_field(value, "list")
        return super().format_field(value, spec)


def tr(code: str, lang: str | Lang = Lang.VI, /, **params: Any) -> str:
    """The message ``code`` in ``lang`` with ``params`` filled in."""
    lang = as_lang(lang)
    template = catalogue(lang).get(code)
    if template is None:
        if os.environ.get(STRICT_ENV):
            raise KeyError(f"no message {code!r} in the {lang.value} catalogue")
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{code} ({shown})" if shown else code
    if not params:
        return template.replace("{{", "{").replace("}}", "}") if "{" in template else template
    return _Formatter(lang).vformat(template, (), dict(params))


def jsonable(value: Any) -> Any:
    """A parameter value as JSON (messages inside parameters become ``{code, params}``)."""
    if isinstance(value, Msg):
        return value.to_dict()
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(v) for v in value]
    return repr(value)
