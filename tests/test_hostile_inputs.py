"""Hostile and degenerate input files through the CLI: a located message, exit 1 or 3, bounded.

Every case of ``tests/hostile_corpus.py`` (zip bombs, billion laughs, XXE, a far cell, damaged
XML, encryption, wrong encodings, deep nesting, huge strings, NaN/∞/huge numbers, markup, control
characters, formula payloads — as ``.xlsx`` and ``.json``) is given to ``budgetlib validate`` and
``budgetlib allocate`` in a child process limited to 1 GiB of address space and 10 s of CPU
(``resource.setrlimit``; exceeding either kills the child, and the test fails). The child must
exit 1 or 3 with no traceback, print a located message, never echo a huge value, and never show
the contents of the file an XXE entity points at.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from budgetlib.io import load_plan
from budgetlib.io.workbook import read_workbook

from .hostile_corpus import ACCEPTED_CASES, HAIPHONG, JSON_CASES, SECRET, XLSX_CASES

ROOT = Path(__file__).resolve().parent.parent
CASES = {**XLSX_CASES, **JSON_CASES}
MEMORY = 1 << 30
CPU_SECONDS = 10

_DRIVER = """
import contextlib, io, json, sys
from budgetlib.cli.app import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append({"code": code, "out": out.getvalue(), "err": err.getvalue()})
sys.__stdout__.write(json.dumps(results))
"""


def _limits() -> None:  # runs in the child, before Python starts
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def run_cli(*commands: list[str]) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, json.dumps(list(commands))],
        capture_output=True, text=True, preexec_fn=_limits, env=env, timeout=600,
    )
    assert proc.returncode == 0, f"child died (signal {-proc.returncode})" if proc.returncode < 0 else proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


_LOCATED = re.compile(r"^\s*• (\S.*?): ", re.M)


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_file_gets_a_located_message_within_memory_and_time(corpus, case):
    path = CASES[case](corpus)
    out = corpus / f"{case}_ket_qua.xlsx"
    commands = [["validate", str(path)]]
    if not path.is_dir():  # ``allocate FOLDER`` is a batch run over the folder's plans, by design
        commands.append(["allocate", str(path), "-o", str(out), "--json", str(corpus / f"{case}_ket_qua.json"), "-q", "--lang", "en"])
    for result in run_cli(*commands):
        text = result["out"] + result["err"]
        assert result["code"] in (1, 3), text[-2000:]
        assert "Traceback" not in text and "Error:" not in text, text[-2000:]
        assert SECRET not in text
        assert len(text) < 20_000, "a huge value was echoed"
        located = _LOCATED.findall(text)
        if result["code"] == 3 and not located:  # a usage error names the file it is about
            assert re.search(rf"✗ .*{re.escape(path.name)}", text), text[-2000:]
            continue
        assert located, text[-2000:]
        assert all(place.startswith((path.name, "units", "tasks", "budget", "agencies", "program", "allocation")) or "!" in place or place in {"Địa bàn", "Dự toán", "Cơ quan"} for place in located), located
    if out.exists():  # the error workbook of a readable but invalid plan
        assert SECRET.encode() not in out.read_bytes()


def test_xxe_is_refused_before_any_entity_is_resolved(corpus):
    path = XLSX_CASES["xxe"](corpus)
    (result,) = run_cli(["validate", str(path), "--json"])
    problems = json.loads(result["out"])
    assert result["code"] == 1 and [p["code"] for p in problems] == ["workbook.file.xml_entities"]
    assert SECRET not in result["out"]


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("zip_bomb", "workbook.file.part_too_large"),
        ("zip_bomb_lying_sizes", "workbook.file.corrupt_zip"),
        ("billion_laughs", "workbook.file.xml_entities"),
        ("billion_laughs_late", "workbook.file.xml_entities"),
        ("far_cell", "workbook.file.far_cell"),
        ("wide_rows", "workbook.file.far_cell"),
        ("garbage_sheet_xml", "workbook.file.corrupt_part"),
        ("garbage_styles_xml", "workbook.file.corrupt_part"),
        ("garbage_zip", "workbook.file.not_zip"),
        ("not_a_workbook", "workbook.file.not_zip"),
        ("encrypted", "workbook.file.encrypted"),
        ("legacy_xls", "workbook.file.legacy_xls"),
        ("invalid_utf8_part", "workbook.file.corrupt_part"),
        ("control_character", "workbook.file.corrupt_part"),
    ],
)
def test_each_hostile_workbook_gets_its_own_message(corpus, case, code):
    """In process (no limits needed: the file is refused before it is parsed)."""
    from budgetlib import PlanInvalid

    path = XLSX_CASES[case](corpus)
    with pytest.raises(PlanInvalid) as info:
        read_workbook(path)
    assert [p.code for p in info.value.problems] == [code]
    (p,) = info.value.problems
    assert p.source.file == path.name
    if code in ("workbook.file.far_cell",):
        assert p.location in ("Địa bàn!XFD1048576", "Dự toán!WB200")
    assert p.message("vi") and p.message("en")


def test_the_far_cell_limit_is_named(corpus):
    from budgetlib import PlanInvalid

    with pytest.raises(PlanInvalid) as info:
        read_workbook(XLSX_CASES["far_cell"](corpus))
    assert "100.000 dòng × 500 cột" in info.value.problems[0].message("vi")
    assert "100,000 rows × 500 columns" in info.value.problems[0].message("en")


def test_values_in_cells_are_cut_and_numbers_bounded(corpus):
    from budgetlib import PlanInvalid

    with pytest.raises(PlanInvalid) as info:
        read_workbook(XLSX_CASES["nan_inf_huge_numbers"](corpus))
    codes = {p.location: p.code for p in info.value.problems}
    assert codes == {
        "Địa bàn!E4": "workbook.cell.not_number",
        "Địa bàn!E5": "workbook.cell.not_number",
        "Dự toán!E4": "workbook.cell.amount",
        "Dự toán!C5": "workbook.cell.not_int",
    }
    with pytest.raises(PlanInvalid) as info:
        read_workbook(XLSX_CASES["huge_string"](corpus))
    (p,) = info.value.problems
    assert p.location == "Địa bàn!C4" and len(json.dumps(p.to_dict())) < 2_000


@pytest.mark.parametrize("case", sorted(ACCEPTED_CASES))
def test_unusual_but_valid_files_are_read_within_memory_and_time(corpus, case):
    path = ACCEPTED_CASES[case](corpus)
    (result,) = run_cli(["validate", str(path)])
    assert result["code"] == 0, result


def test_an_xlsm_is_read_like_an_xlsx(corpus):
    path = ACCEPTED_CASES["xlsm_with_macros"](corpus)
    assert read_workbook(path) == load_plan(HAIPHONG)


def test_names_that_look_like_formulas_are_read_as_text(corpus):
    """``=HYPERLINK(…)`` typed as a name is a name: read as text, never a reason to refuse."""
    from budgetlib.io.grid import DictBook
    from budgetlib.io.workbook import plan_sheets, read_plan_grids

    plan = load_plan(HAIPHONG)
    sheets = {s.name: [list(r) for r in s.rows] for s in plan_sheets(plan)}
    sheets["Cơ quan"][3][1] = "=cmd|' /C calc'!A0"
    sheets["Địa bàn"][3][1] = '=HYPERLINK("http://example.invalid","x")'
    again = read_plan_grids(DictBook(sheets))
    assert again.agencies[0].name == "=cmd|' /C calc'!A0" and again.units[0].name.startswith("=HYPERLINK(")
