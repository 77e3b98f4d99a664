"""Converting cells: one plain cell value in, the plan value out — or a :class:`CellError`.

Officers type numbers the Vietnamese way (``1.234,5``), amounts as text (``22,5 tỷ đồng``,
``12 tỷ 500 triệu``), dropdown values in either language, yes/no as ``Có``/``x``. A cell that
cannot be read raises :class:`CellError` with a catalogue code (``workbook.cell.*``); the reader
adds the column's label and the cell's location. Nothing here knows about sheets or tables.

>>> to_number("1.234,5")
1234.5
>>> to_enum("Phối hợp", "role"), to_enum("lead", "role")
('support', 'lead')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...core.i18n import Msg
from ...core.money import AmountError, MoneyUnit, amount_from_number, parse_amount
from ...core.text import fold, nfc
from ...model.attributes import resolve_attribute
from .fields import ENUMS, Field, Kind, enum_lookup

__all__ = [
    "CellError",
    "CellContext",
    "convert",
    "to_text",
    "to_int",
    "to_number",
    "to_money",
    "to_bool",
    "to_enum",
    "to_list",
    "to_years",
    "to_money_unit",
    "is_blank",
    "strip_paren",
    "shown",
    "shown_params",
    "column_msg",
]


class CellError(ValueError):
    """A cell that cannot be read: a ``workbook.cell.*`` code and its parameters. Not rendered
    here: the message needs the column's label, which the reader adds (``column``)."""

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class CellContext:
    """What reading a cell depends on: the workbook's money unit and how attribute names resolve
    (a known label such as ``Dân số``, or a column of the Địa bàn sheet)."""

    unit: MoneyUnit = MoneyUnit.DONG
    attribute: Callable[[str], str] = resolve_attribute


def is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def strip_paren(text: str) -> str:
    """``Diện tích (km²)`` → ``Diện tích``."""
    return re.sub(r"\s*\([^)]*\)\s*", " ", text).strip()


def to_text(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return nfc(str(v))


_INT = re.compile(r"\s*[-−]?\d{1,15}\s*")
_DECIMAL = re.compile(r"-?\d+(,\d+)?")
_GROUPED = re.compile(r"-?\d{1,3}(\.\d{3})+(,\d+)?")  # 1.234,5 (vi-VN)
_POINT = re.compile(r"-?\d+\.\d+")
_PERCENT = re.compile(r"-?\d+([.,]\d+)?%")


_MAX_INT = 10**15  # beyond any year, count or version a plan holds; floats are exact below 2**53


def to_int(v: Any) -> int:
    if isinstance(v, bool):
        raise CellError("workbook.cell.not_int")
    if isinstance(v, int) and abs(v) < _MAX_INT:
        return v
    if isinstance(v, float) and v.is_integer() and abs(v) < _MAX_INT:
        return int(v)
    if isinstance(v, str) and _INT.fullmatch(v):
        return int(v.strip().replace("−", "-"))
    raise CellError("workbook.cell.not_int")


def to_number(v: Any) -> float:
    """A finite number: a numeric cell, or text ``1,5`` / ``1.234,5`` / ``1.5`` / ``25%``."""
    if isinstance(v, bool):
        raise CellError("workbook.cell.not_number")
    if isinstance(v, (int, float)):
        x = float(v)
        if not math.isfinite(x):
            raise CellError("workbook.cell.not_number")
        return x
    if isinstance(v, str) and len(v) <= 64:
        s = v.strip().replace("\u00a0", "").replace(" ", "").replace("−", "-")
        if _DECIMAL.fullmatch(s):
            return float(s.replace(",", "."))
        if _GROUPED.fullmatch(s):
            return float(s.replace(".", "").replace(",", "."))
        if _POINT.fullmatch(s):
            return float(s)
        if _PERCENT.fullmatch(s):
            return float(s[:-1].replace(",", ".")) / 100
    raise CellError("workbook.cell.not_number")


def to_money(v: Any, unit: MoneyUnit) -> int:
    try:
        if isinstance(v, bool):
            raise AmountError("money.whole")
        if isinstance(v, str):
            return parse_amount(v, unit=unit)
        if not isinstance(v, (int, float)):
            raise AmountError("money.malformed", value=to_text(v))
        return amount_from_number(v, unit)
    except AmountError as exc:
        raise CellError("workbook.cell.amount", reason=Msg(exc.code, **shown_params(exc.params))) from None


_YES = frozenset({"co", "x", "yes", "true", "dung", "1", "y"})
_NO = frozenset({"khong", "no", "false", "sai", "0", "n"})


def to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    key = fold(to_text(v)) if isinstance(v, str) and len(v) <= 64 else ""
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise CellError("workbook.cell.not_bool")


def to_enum(v: Any, enum: str) -> str:
    text = to_text(v)
    value = enum_lookup(enum).get(fold(text)) if len(text) <= 200 else None
    if value is None:
        e = ENUMS[enum]
        raise CellError("workbook.cell.not_enum", options=[e.label_msg(x) for x in e.values])
    return value


def to_money_unit(v: Any) -> MoneyUnit:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer():
        try:
            return MoneyUnit(int(v))
        except ValueError:
            pass
    text = to_text(v)
    value = enum_lookup("money_unit").get(fold(text)) if len(text) <= 200 else None
    if value is not None:
        return MoneyUnit(int(value))
    try:
        return MoneyUnit.parse(text[:200])
    except AmountError:
        e = ENUMS["money_unit"]
        raise CellError("workbook.cell.not_enum", options=[e.label_msg(x) for x in e.values]) from None


_EMPTY_LIST = frozenset({"-", "—", "–", "[]"})


def to_list(v: Any) -> list[str]:
    """Codes separated by commas, semicolons or line breaks; ``-`` is an explicit empty list."""
    text = to_text(v).strip()
    if text in _EMPTY_LIST:
        return []
    return [p.strip() for p in re.split(r"[,;\n]", text) if p.strip()]


def to_years(v: Any) -> list[int]:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            return [to_int(v)]
        except CellError:
            raise CellError("workbook.cell.not_years") from None
    parts = to_list(v)
    if not all(re.fullmatch(r"\d{1,4}", p) for p in parts):
        raise CellError("workbook.cell.not_years")
    return [int(p) for p in parts]


def _attribute(v: Any, ctx: CellContext) -> str:
    return ctx.attribute(to_text(v))


_CONVERTERS: dict[Kind, Callable[[Any, CellContext], Any]] = {
    Kind.TEXT: lambda v, ctx: to_text(v),
    Kind.CODE: lambda v, ctx: to_text(v),
    Kind.NEED: lambda v, ctx: to_text(v),
    Kind.INT: lambda v, ctx: to_int(v),
    Kind.FLOAT: lambda v, ctx: to_number(v),
    Kind.MONEY: lambda v, ctx: to_money(v, ctx.unit),
    Kind.DONG: lambda v, ctx: to_money(v, MoneyUnit.DONG),
    Kind.BOOL: lambda v, ctx: to_bool(v),
    Kind.LIST: lambda v, ctx: to_list(v),
    Kind.YEARS: lambda v, ctx: to_years(v),
    Kind.ATTRIBUTE: _attribute,
    Kind.MONEY_UNIT: lambda v, ctx: to_money_unit(v),
}


def convert(f: Field, v: Any, ctx: CellContext) -> Any:
    """The plan value of a non-blank cell of column ``f``; raises :class:`CellError`."""
    if f.kind is Kind.ENUM:
        return to_enum(v, f.enum or "")
    return _CONVERTERS[f.kind](v, ctx)


def shown(v: Any, limit: int = 200) -> Any:
    """A cell value as recorded in a problem: long text is cut (a 50 MB cell is never copied)."""
    if isinstance(v, str) and len(v) > limit:
        return v[:limit] + "…"
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return to_text(v)[:limit]


def shown_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters of a problem with every piece of user text cut (messages inside included)."""
    return {k: _cut(v) for k, v in params.items()}


def _cut(v: Any) -> Any:
    if isinstance(v, Msg):
        return Msg(v.code, **shown_params(v.params))
    if isinstance(v, str):
        return shown(v)
    if isinstance(v, (list, tuple)):
        return [_cut(x) for x in v[:50]]
    return v


def column_msg(name: str) -> Msg:
    """The label of a column that is not declared (an attribute column named by the officer)."""
    return Msg("workbook.column.attribute", name=name)
