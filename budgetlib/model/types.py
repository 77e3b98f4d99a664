"""Field types shared by the plan and the policy models: money, NFC text, codes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from ..core.money import AmountError, parse_amount
from ..core.text import nfc

__all__ = ["Money", "Text", "Code"]


def _to_money(value: Any) -> Any:
    """Accept integer đồng or amount text (``"22,5 tỷ đồng"``); refuse floats with fractions."""
    if isinstance(value, bool):
        raise ValueError("số tiền phải là số nguyên đồng / amount must be whole đồng")
    if isinstance(value, str):
        try:
            return parse_amount(value)
        except AmountError as exc:
            raise ValueError(f"{exc.message_vi} / {exc.message_en}") from None
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("số tiền phải là số nguyên đồng / amount must be whole đồng")
        return int(value)
    return value


Money = Annotated[int, BeforeValidator(_to_money)]
"""Integer đồng; text such as ``"450 triệu đồng"`` is parsed on input."""

Text = Annotated[str, AfterValidator(nfc)]
"""Unicode NFC text with surrounding blanks removed."""


def _check_code(value: str) -> str:
    value = nfc(value)
    if not value:
        raise ValueError("mã không được để trống / code must not be empty")
    return value


Code = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v), AfterValidator(_check_code)]
"""An identifier (task code, official unit code, …); integers are read as text so ``303`` == ``"303"``."""
