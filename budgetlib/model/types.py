"""Field types shared by the plan and the policy models: money, NFC text, codes.

Errors raised here are :class:`~budgetlib.core.i18n.LocalizedError`: pydantic carries them to
:func:`budgetlib.planning.validation.problems_from_validation_error`, which keeps their codes.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from ..core.i18n import LocalizedError
from ..core.money import SAFE_AMOUNT, AmountError, parse_amount
from ..core.text import nfc

__all__ = ["Money", "Text", "Code", "check_printable"]

_ALLOWED_CONTROLS = {"\n", "\t"}


def check_printable(value: str) -> str:
    """Refuse control characters (a ``\\x07`` in a name would break every workbook writer)."""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs", "Co") and ch not in _ALLOWED_CONTROLS:
            raise LocalizedError("plan.control_character", char=f"U+{ord(ch):04X}", value=value)
    return value


def _to_money(value: Any) -> Any:
    """Accept integer đồng or amount text (``"22,5 tỷ đồng"``); refuse floats with fractions,
    NaN, infinities and amounts beyond :data:`~budgetlib.core.money.SAFE_AMOUNT`."""
    if isinstance(value, bool):
        raise AmountError("money.whole")
    if isinstance(value, str):
        return parse_amount(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise AmountError("money.not_finite", value=str(value))
        if not value.is_integer():
            raise AmountError("money.fraction", value=repr(value))
        value = int(value)
    if isinstance(value, int) and abs(value) > SAFE_AMOUNT:
        raise AmountError("money.out_of_range", value=str(value), limit=SAFE_AMOUNT)
    return value


Money = Annotated[int, BeforeValidator(_to_money)]
"""Integer đồng; text such as ``"450 triệu đồng"`` is parsed on input."""

Text = Annotated[str, AfterValidator(nfc), AfterValidator(check_printable)]
"""Unicode NFC text with surrounding blanks removed and no control characters but newline and tab."""


def _check_code(value: str) -> str:
    value = nfc(value)
    if not value:
        raise LocalizedError("plan.code_empty")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise LocalizedError("plan.control_character", char="", value=value)
    return value


Code = Annotated[
    str,
    BeforeValidator(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v),
    AfterValidator(_check_code),
]
"""An identifier (task code, official unit code, …); integers are read as text so ``303`` == ``"303"``."""
