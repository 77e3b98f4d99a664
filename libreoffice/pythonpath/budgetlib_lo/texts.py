"""The extension's messages and build facts, generated from budgetlib when the extension is built.

``texts.json`` holds ``{"vi": {code: text}, "en": {code: text}}`` (the ``calc.lo.*``, ``calc.button.*``,
``calc.menu.*`` and ``calc.title`` entries of budgetlib's catalogue); ``build.json`` the version,
the commands and the result-sheet marker. Placeholders are plain ``{name}`` fields.
"""

from __future__ import annotations

import json
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_CACHE: dict = {}


def _load(name):
    if name not in _CACHE:
        with open(os.path.join(_HERE, name), encoding="utf-8") as fh:
            _CACHE[name] = json.load(fh)
    return _CACHE[name]


def build():
    return _load("build.json")


def t(message_code, lang, **params):
    table = _load("texts.json")
    text = table.get(lang, {}).get(message_code) or table.get("vi", {}).get(message_code)
    if text is None:
        return message_code
    return text.format(**params) if params else text


def label(command_id, lang):
    return t("calc.button." + command_id, lang)
