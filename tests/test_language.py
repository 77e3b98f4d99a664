"""Switching the language changes every user-visible string on every surface.

A plan whose own names are neutral (no Vietnamese letters, no English words) runs through each
surface — CLI output, result and error sheets, the planning template, JSON messages — in both
languages. Vietnamese output may not contain English words; English output may not contain
Vietnamese letters. Identifiers (codes, file names, policy keys such as ``min_deviation``) and the
currency word ``đồng`` in amount examples are allowed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from budgetlib.core.lang import Lang

from .conftest import tiny_plan_data

VIETNAMESE_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
ENGLISH_WORDS = re.compile(
    r"\b(the|and|of|is|are|not|error|errors|warning|budget|floor|cap|stability|target|targets|total|file|value|"
    r"missing|unit|units|task|tasks|source|sources|optimal|infeasible|allocation|allocated|amount|year|years|plan|"
    r"policy|must|with|for|to|in|by|from|no|none|found|invalid|unknown|usage|options|arguments|commands|help|"
    r"show|default|required|sheet|page|run|time|version|outcome|solver|objective|proportional share|difference|"
    r"need|share|name|code|kind|level|district|commune|yes)\b",
    re.IGNORECASE,
)
# Words a Vietnamese text may legitimately contain although they look English: identifiers and names.
ALLOWED_IN_VI = {"budgetlib", "json", "xlsx", "xlsm", "highs", "highspy", "python", "sha", "utc", "excel", "pulp", "id"}
ALLOWED_IN_EN = {"đồng", "tỷ", "triệu", "nghìn", "đ"}  # amount notation in examples of what may be typed


def neutral_plan() -> dict[str, Any]:
    data = tiny_plan_data()
    data["program"].update(code="P1", name="Alpha Omega", authority="Delta")
    data["units"][0].update(name="Kappa")
    data["units"][1].update(name="Lambda")
    data["agencies"] = [{"code": "LD", "name": "Sigma"}, {"code": "CA", "name": "Tau"}]
    data["tasks"][0].update(name="Rho")
    data["tasks"][1].update(name="Phi")
    data["sources"][0].update(name="Zeta")
    data["targets"][0].update(name="Psi")
    return data


# Identifiers shown on purpose: JSON paths and message codes (``budget_lines[0].amount``, ``plan.task_lead``),
# file names, and the values the unit ``kind`` field accepts (Vietnamese in every language: they are data).
IDENTIFIER = re.compile(r"\S*(\[\d+\]|_|\.[a-z])\S*|--[a-z-]+")
UNIT_KINDS = ("Thành phố", "Thị trấn", "Thị xã", "Quận", "Huyện", "Xã", "Phường")
PLACE_NAMES = ("Hải Phòng", "Hồng Bàng", "Ủy ban nhân dân thành phố")  # proper names in examples of what to type


def _without_identifiers(text: str) -> str:
    for name in (*PLACE_NAMES, *UNIT_KINDS):
        text = text.replace(name, "")
    return IDENTIFIER.sub(" ", text)


def english_leaks(text: str) -> list[str]:
    text = _without_identifiers(text)
    return [m.group(0) for m in ENGLISH_WORDS.finditer(text) if m.group(0).lower() not in ALLOWED_IN_VI]


def vietnamese_leaks(text: str) -> list[str]:
    words = re.findall(r"\S+", _without_identifiers(text))
    return [w for w in words if VIETNAMESE_LETTERS.search(w) and w.strip(".,:;()«»“”").lower() not in ALLOWED_IN_EN]


def check(text: str, lang: Lang, where: str) -> None:
    leaks = english_leaks(text) if lang is Lang.VI else vietnamese_leaks(text)
    assert not leaks, f"{where} ({lang.value}): {sorted(set(leaks))[:20]}\n{text[:2000]}"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "COLUMNS": "200"}
    env.pop("BUDGETLIB_LANG", None)
    return subprocess.run([sys.executable, "-m", "budgetlib", *args], capture_output=True, text=True, encoding="utf-8", env=env)


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lang") / "p1.json"
    path.write_text(json.dumps(neutral_plan(), ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bad_plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = neutral_plan()
    data["tasks"][1]["agencies"] = []  # no lead agency
    data["units"][0]["kind"] = "Ward-ish"  # not a kind
    data["budget_lines"][0]["amount"] = "twelve"  # unreadable amount
    data["budget_lines"][1]["year"] = 2030  # outside the period
    path = tmp_path_factory.mktemp("lang") / "p2.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _strip_values(text: str, *values: str) -> str:
    for v in values:
        text = text.replace(v, "")
    return text


@pytest.mark.parametrize("lang", list(Lang))
def test_cli_output(lang, plan_file, bad_plan_file, tmp_path):
    out = cli("validate", str(plan_file), "--lang", lang.value)
    assert out.returncode == 0, out.stderr
    check(out.stdout + out.stderr, lang, "validate")
    out = cli("validate", str(bad_plan_file), "--lang", lang.value)
    assert out.returncode == 1
    check(_strip_values(out.stderr, "Ward-ish", "twelve"), lang, "validate (errors)")
    out = cli("summary", str(plan_file), "--lang", lang.value)
    assert out.returncode == 0, out.stderr
    check(out.stdout + out.stderr, lang, "summary")
    result = tmp_path / "r.xlsx"
    out = cli("allocate", str(plan_file), "-o", str(result), "--lang", lang.value)
    assert out.returncode == 0, out.stderr
    check(_strip_values(out.stdout + out.stderr, str(result), "min_deviation"), lang, "allocate")


@pytest.mark.parametrize("lang", list(Lang))
def test_result_and_error_sheets(lang, plan_file, bad_plan_file):
    from budgetlib import pipeline

    outcome = pipeline.run_allocate(plan_file, lang=lang)
    assert outcome.ok
    for spec in outcome.sheets:
        text = "\n".join(str(v) for row in spec.rows for v in row if isinstance(v, str) and not v.startswith("="))
        text = _strip_values(text, str(plan_file.name), "min_deviation", "highspy", "pulp-highs")
        check(spec.name + "\n" + text, lang, f"sheet {spec.name}")
    bad = pipeline.run_validate(bad_plan_file, lang=lang)
    for spec in bad.sheets:
        text = "\n".join(str(v) for row in spec.rows for v in row if isinstance(v, str))
        check(_strip_values(spec.name + "\n" + text, "Ward-ish", "twelve", bad_plan_file.name), lang, f"sheet {spec.name}")


@pytest.mark.parametrize("lang", list(Lang))
def test_template_sheets(lang):
    from budgetlib.io.workbook import template_sheets

    for spec in template_sheets(lang=lang):
        text = "\n".join(str(v) for row in spec.rows for v in row if isinstance(v, str))
        comments = "\n".join(spec.comments.values())
        check(spec.name + "\n" + text + "\n" + comments, lang, f"template {spec.name}")


def test_json_messages_have_both_languages(bad_plan_file):
    out = cli("validate", str(bad_plan_file), "--json")
    problems = json.loads(out.stdout)
    assert problems
    for p in problems:
        check(_strip_values(p["message"]["vi"], "Ward-ish", "twelve"), Lang.VI, "json vi")
        check(_strip_values(p["message"]["en"], "Ward-ish", "twelve"), Lang.EN, "json en")
