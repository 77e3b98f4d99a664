"""End to end: the plan commands of the CLI on the example."""

from __future__ import annotations

import json
import subprocess
import sys

from budgetlib.cli import main

from .conftest import tiny_plan_data


def run(*args):
    return subprocess.run([sys.executable, "-m", "budgetlib", *args], capture_output=True, text=True, encoding="utf-8")


def test_version_and_help():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("budgetlib ")
    assert run("--help").returncode == 0


def test_summary_prints_years_tasks_and_reconciles(haiphong_path):
    out = run("summary", str(haiphong_path))
    assert out.returncode == 0, out.stderr
    assert "22.500.000.000" in out.stdout
    assert "Khớp tổng kinh phí chương trình: 22.500.000.000 đ" in out.stdout
    for year in range(2011, 2016):
        assert str(year) in out.stdout
    assert "Tuyên truyền" in out.stdout or "tuyên truyền" in out.stdout


def test_summary_english(haiphong_path):
    out = run("summary", str(haiphong_path), "--rows", "source", "--cols", "year", "--lang", "en")
    assert out.returncode == 0
    assert "22,500,000,000" in out.stdout and "Reconciles" in out.stdout


def test_validate_reports_all_problems_and_exit_code(tmp_path):
    data = tiny_plan_data()
    data["tasks"][1]["agencies"] = []
    data["budget_lines"][0]["year"] = 2030
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = run("validate", str(path))
    assert out.returncode == 1
    assert "tasks[1].agencies" in out.stderr and "budget_lines[0].year" in out.stderr
    out_json = run("validate", str(path), "--json")
    problems = json.loads(out_json.stdout)
    assert len(problems) >= 2 and all("en" in p["message"] for p in problems)


def test_usage_error_exit_code_3():
    assert main(["summary"]) == 3
    assert main(["no-such-command"]) == 3


def test_schema_is_json():
    out = run("schema")
    schema = json.loads(out.stdout)
    assert "program" in schema["properties"]
