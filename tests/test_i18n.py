"""The message catalogue: both languages complete, placeholders agree, formats per language."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from budgetlib.core.i18n import Msg, catalogue, echo, format_number, placeholders, tr
from budgetlib.core.lang import Lang, as_lang

ROOT = Path(__file__).resolve().parent.parent / "budgetlib"


def test_every_code_in_both_languages_with_the_same_placeholders():
    vi, en = catalogue(Lang.VI), catalogue(Lang.EN)
    assert set(vi) - set(en) == set(), "codes without English"
    assert set(en) - set(vi) == set(), "codes without Vietnamese"
    differ = {code: (placeholders(vi[code]), placeholders(en[code])) for code in vi if placeholders(vi[code]) != placeholders(en[code])}
    assert not differ


def test_every_template_renders_in_both_languages():
    # Format every template with dummy parameters of a plausible type: a broken spec fails here,
    # not in front of an officer.
    samples = {"money": 1_500_000, "money_short": 1_500_000, "int": 12345, "num": 1.5, "pct": 0.25, "q": "x", "list": ["a", "b"],
               "term": "unit"}
    for lang in Lang:
        for code, template in catalogue(lang).items():
            params = {}
            for _, name, spec, _ in __import__("string").Formatter().parse(template):
                if not name:
                    continue
                base = (spec or "").split("|")[0]
                base = re.sub(r"\d$", "", base)
                params[name] = samples.get(base, 3 if base.startswith("plural") else "v")
            tr(code, lang, **params)


def _codes_used_in_source() -> set[str]:
    """Literal codes passed to tr()/Msg()/LocalizedError()/Problem() in the package source."""
    found: set[str] = set()
    calls = {"tr", "Msg", "LocalizedError", "AmountError", "ApportionError", "Problem"}
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                fn = node.func
                name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
                if name in calls and re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+", node.args[0].value):
                    found.add(node.args[0].value)
    return found


def test_every_literal_code_in_the_source_is_in_the_catalogue():
    missing = sorted(_codes_used_in_source() - set(catalogue(Lang.VI)))
    assert not missing


def test_language_is_checked():
    assert as_lang("EN") is Lang.EN
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        as_lang("fr")
    from budgetlib import format_amount

    with pytest.raises(ValueError):
        format_amount(1000, lang="fr")


def test_formats_per_language():
    assert tr("money.total", "vi", amount=22_500_000_000) == "tổng 22.500.000.000 đ"
    assert tr("money.total", "en", amount=22_500_000_000) == "total 22,500,000,000 VND"
    assert format_number(1234.5, "vi") == "1.234,5" and format_number(1234.5, "en") == "1,234.5"
    assert format_number(-0.001, "vi") == "0"
    assert tr("log.outcome_errors", "en", count=1) == "1 error" and tr("log.outcome_errors", "en", count=3) == "3 errors"
    assert tr("log.outcome_errors", "vi", count=3) == "3 lỗi"


def test_nested_messages_render_in_the_outer_language():
    inner = Msg("plan.more_units", count=2)
    assert "và 2 địa bàn khác" in tr("plan.missing_attribute", "vi", task="TT", attribute="x", units=["A"], more=inner)
    assert "and 2 more" in tr("plan.missing_attribute", "en", task="TT", attribute="x", units=["A"], more=inner)


def test_echoed_user_text_is_quoted_escaped_and_cut():
    shown = echo("=cmd|' /C calc'!A0\x07" + "x" * 500, "vi")
    assert shown.startswith("«=cmd") and "\\x07" in shown and len(shown) < 100 and shown.endswith("…»")


def test_a_long_path_keeps_its_file_name():
    """A message about a file deep in a folder tree names the file (found running the suite under
    pytest-xdist, whose temporary folders are longer: "khong_c…" told nobody which file)."""
    deep = "/tmp/pytest-of-root/pytest-419/popen-gw0/test_a_missing_file_is_a_locat0/khong_co.xlsx"
    shown = echo(deep, "vi")
    assert shown.endswith("/khong_co.xlsx»") and "…" in shown and len(shown) <= 84
    windows = "C:\\Users\\can_bo\\Documents\\Kế hoạch 2011–2015\\Phân bổ\\một thư mục rất dài\\kehoach.xlsx"
    assert echo(windows, "en").endswith("\\kehoach.xlsx”")
