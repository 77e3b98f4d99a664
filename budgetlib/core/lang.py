"""The languages budgetlib speaks. Every user-visible string is chosen by a :class:`Lang`.

>>> as_lang("en")
<Lang.EN: 'en'>
>>> as_lang("fr")
Traceback (most recent call last):
...
ValueError: unknown language 'fr'; budgetlib speaks: vi, en
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Lang", "as_lang", "DEFAULT_LANG"]


class Lang(StrEnum):
    VI = "vi"
    EN = "en"


DEFAULT_LANG = Lang.VI


def as_lang(lang: str | Lang) -> Lang:
    """The :class:`Lang` for ``"vi"``/``"en"`` (any case); an unknown language is a programmer error."""
    if isinstance(lang, Lang):
        return lang
    try:
        return Lang(str(lang).strip().lower())
    except ValueError:
        raise ValueError(f"unknown language {lang!r}; budgetlib speaks: {', '.join(x.value for x in Lang)}") from None
