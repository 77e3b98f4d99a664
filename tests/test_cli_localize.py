"""The CLI speaks the user's language: help screens, usage errors, and the same exit code for the
same situation in every command."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from budgetlib.cli.localize import lang_from_argv
from budgetlib.core.lang import Lang

# Words typer/click print in English; none may appear in Vietnamese output.
# What typer/click print in English (panel titles, usage prefix, metavars, messages); none may
# appear in Vietnamese output. Help texts of each command are checked by the language test of the
# whole product (tests/test_language.py).
CLICK_ENGLISH = re.compile(r"Usage:|\bOptions\b|\bArguments\b|\bCommands\b|Show this message|\bError\b|Invalid value|No such|"
                           r"Missing|\[default:|\[required\]|\bTry\b|<bool>|<path>|<text>|<int(eger)?>|\[OPTIONS\]|COMMAND")
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)


class Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run(capsys, monkeypatch):
    """The CLI in this process (as ``budgetlib …`` would run it): exit code, stdout, stderr."""
    from budgetlib.cli import main

    monkeypatch.delenv("BUDGETLIB_LANG", raising=False)
    monkeypatch.setenv("COLUMNS", "120")

    def call(*args: str, env: dict[str, str] | None = None) -> Ran:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        for key in env or {}:
            monkeypatch.delenv(key)
        return Ran(code, out.out, out.err)

    return call


def test_the_console_script_runs_in_a_fresh_process():
    out = subprocess.run([sys.executable, "-m", "budgetlib", "nocmd", "--lang", "en"], capture_output=True, text=True, encoding="utf-8")
    assert out.returncode == 3 and "no such command" in out.stderr


COMMANDS = ["schema", "validate", "summary", "template", "allocate", "report", "progress", "revise", "carry-over", "chain",
            "actuals-template", "scenarios", "curve", "addin build", "addin install", "addin uninstall", "addin doctor",
            "lo build", "lo install", "lo uninstall", "lo doctor", "store save", "store submit", "store approve",
            "store diff", "store history", "store show", "store verify"]
# Names that are data, not English text's translation: the tab/menu name officers see in both
# languages, a scenario name of the Tân Châu example, the decision-number prefix of Vietnamese documents.
PROPER_NAMES = re.compile(r"Ngân sách|Không có kinh phí tỉnh|QĐ-UBND|đồng")


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_is_in_one_language(command, run):
    args = command.split() if command else []
    vi = run(*args, "--help")
    en = run("--lang", "en", *args, "--help")
    assert vi.returncode == 0 and en.returncode == 0, vi.stderr + en.stderr
    assert "Cách dùng:" in vi.stdout and "Usage:" in en.stdout
    assert not CLICK_ENGLISH.search(vi.stdout), vi.stdout
    assert not VIETNAMESE.search(PROPER_NAMES.sub("", en.stdout)), en.stdout
    assert " / " not in vi.stdout  # no "vi / en" double help texts


def test_help_of_own_commands_has_an_example(run):
    for command in ("schema", "validate", "summary"):
        assert "Ví dụ:" in run(command, "--help").stdout
        assert "Example:" in run(command, "--help", "--lang", "en").stdout


@pytest.mark.parametrize(
    ("args", "vi", "en"),
    [
        (["allocate", "--nope"], "không có tùy chọn --nope", "no such option --nope"),
        (["allocate", "--policy", "foo", "x.json"], "hãy chọn một trong", "choose one of"),
        (["nocmd"], "không có lệnh «nocmd»", "no such command “nocmd”"),
        (["validate", "a.json", "b.json"], "thừa tham số", "unexpected extra arguments"),
        (["validate"], "thiếu TỆP (Tệp kế hoạch", "missing FILE (Plan file"),  # the placeholder, not the Python name
        (["validate", "khong-co.json"], "không tìm thấy tệp «khong-co.json»", "file “khong-co.json” not found"),
    ],
)
def test_usage_errors_are_translated_and_exit_3(args, vi, en, run):
    out_vi = run(*args)
    out_en = run(*args, "--lang", "en")
    assert out_vi.returncode == 3 and out_en.returncode == 3
    assert vi in out_vi.stderr and en in out_en.stderr, out_vi.stderr + out_en.stderr
    assert not CLICK_ENGLISH.search(out_vi.stderr), out_vi.stderr
    assert not VIETNAMESE.search(out_en.stderr), out_en.stderr


def test_a_missing_file_is_the_same_usage_error_for_every_command(tmp_path, run):
    missing = str(tmp_path / "khong-co.json")
    codes = {cmd: run(cmd, missing).returncode for cmd in ("validate", "summary")}
    assert set(codes.values()) == {3}, codes


def test_a_folder_named_like_a_plan_is_a_usage_error(tmp_path, run):
    folder = tmp_path / "x.json"
    folder.mkdir()
    out = run("validate", str(folder))
    assert out.returncode == 3 and "là một thư mục" in out.stderr


def test_lang_is_read_before_the_command_and_from_the_environment(run):
    assert lang_from_argv(["validate", "--lang", "en", "p.json"]) is Lang.EN
    assert lang_from_argv(["--lang=en", "validate"]) is Lang.EN
    assert lang_from_argv(["validate"]) is Lang.VI
    out = run("validate", "--help", env={"BUDGETLIB_LANG": "en"})
    assert "Usage:" in out.stdout


@pytest.mark.parametrize("how", ["before", "env"])
def test_the_commands_output_follows_lang_before_the_command_and_the_environment(how, run, haiphong_path):
    """Not only help: ``budgetlib --lang en validate …`` and ``BUDGETLIB_LANG=en budgetlib report …``
    speak English (the commands' own --lang used to default to Vietnamese regardless)."""
    args, env = (["--lang", "en"], None) if how == "before" else ([], {"BUDGETLIB_LANG": "en"})
    valid = run(*args, "validate", str(haiphong_path), env=env)
    assert valid.returncode == 0 and "The plan is valid" in valid.stdout and "22,500,000,000 VND" in valid.stdout, valid.stdout
    report = run(*args, "report", str(haiphong_path), "--by", "year", env=env)
    assert report.returncode == 0 and "By year" in report.stdout and "Theo năm" not in report.stdout, report.stdout
    assert "Kế hoạch hợp lệ" in run("validate", str(haiphong_path)).stdout  # and Vietnamese stays the default


def test_user_names_are_not_rich_markup(tmp_path, run):
    import json

    from .conftest import tiny_plan_data

    data = tiny_plan_data()
    data["program"]["name"] = "Kế hoạch [dự thảo] [bold]x[/bold]"
    data["units"][0]["kind"] = "Làng"  # one error, so a problem line is printed too
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    bad = run("validate", str(path))
    assert bad.returncode == 1 and "Làng" in bad.stderr
    data["units"][0]["kind"] = "Quận"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    ok = run("validate", str(path))
    assert ok.returncode == 0 and "[dự thảo] [bold]x[/bold]" in ok.stdout, ok.stdout


@pytest.mark.parametrize("command", [["allocate", "examples/hanoi_2014/plan.json", "--json", "{tmp}/a.json"],
                                     ["curve", "examples/quangbinh_2017/plan.json"]])
def test_no_solver_banner_reaches_the_terminal(command, tmp_path):
    """HiGHS prints 'Running HiGHS … Copyright' from C on the first instance of a process: in a
    fresh process, no command's output may carry it (English text in a Vietnamese terminal)."""
    from .conftest import ROOT

    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    out = subprocess.run([sys.executable, "-m", "budgetlib", *args], cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    assert out.returncode == 0, out.stderr
    assert "HiGHS" not in out.stdout + out.stderr
