"""``budgetlib addin doctor``: what the installed add-in will use, where each setting comes from (in
xlwings' own order), and what to fix."""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import pytest

import budgetlib.addin.doctor as doctor
from budgetlib import __version__
from budgetlib.addin.build import ADDIN_NAME
from budgetlib.addin.doctor import diagnose, read_config_file, render, xlwings_supported
from budgetlib.addin.install import install_addin
from budgetlib.cli import main


@pytest.fixture(scope="module")
def xlstart(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("XLSTART")
    install_addin(target_dir=folder, interpreter=sys.executable)
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def _user_file(home: Path, lines: list[str]) -> None:
    path = home / ".budgetlib" / "budgetlib.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _source(d: doctor.Diagnosis, key: str) -> tuple[object, str]:
    c = next(c for c in d.config if c.key == key)
    return c.value, c.source


def test_a_healthy_installation(xlstart: Path, home: Path) -> None:
    d = diagnose(target_dir=xlstart, home=home, environ={"USERPROFILE": str(home)})
    assert d.ok, [f.msg.render("en") for f in d.findings]
    assert d.addin == xlstart / ADDIN_NAME and d.addin_version == __version__
    assert d.interpreter == sys.executable and d.probe and d.probe["budgetlib"] == __version__
    assert _source(d, "INTERPRETER_WIN") == (sys.executable, "addin.doctor.source.addin_sheet")
    assert _source(d, "ADD_WORKBOOK_TO_PYTHONPATH") == (False, "addin.doctor.source.addin_sheet")
    assert _source(d, "SHOW CONSOLE") == (False, "addin.doctor.source.default")
    text = render(d, "vi")
    assert "Mọi thứ ổn" in text and str(xlstart) in text and f"budgetlib {__version__}" in text


def test_the_users_file_fills_what_the_addin_leaves_out_and_no_more(xlstart: Path, home: Path) -> None:
    _user_file(home, ['"PYTHONPATH","D:\\\\thu-vien"', '"Interpreter_Win","C:\\\\khac\\\\python.exe"', '"Show Console","True"'])
    d = diagnose(target_dir=xlstart, home=home, environ={"USERPROFILE": str(home)}, probe=False)
    assert _source(d, "PYTHONPATH") == ("D:\\\\thu-vien", "addin.doctor.source.user_file")
    assert _source(d, "SHOW CONSOLE") == ("True", "addin.doctor.source.user_file")
    assert _source(d, "INTERPRETER_WIN")[1] == "addin.doctor.source.addin_sheet"  # the sheet comes first
    assert read_config_file(home / ".budgetlib" / "budgetlib.conf")["PYTHONPATH"] == "D:\\\\thu-vien"


def test_a_workbooks_own_config_sheet_comes_first(xlstart: Path, home: Path, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Kế hoạch"
    conf = wb.create_sheet("budgetlib.conf")
    conf.append(["Interpreter_Win", str(tmp_path / "khong-co" / "python.exe")])
    conf.append(["Conda Path", "C:\\mc"])
    wb.create_sheet("tinh_toan.py")
    path = tmp_path / "so.xlsx"
    wb.save(path)
    d = diagnose(target_dir=xlstart, home=home, environ={"USERPROFILE": str(home)}, workbook=path)
    assert _source(d, "INTERPRETER_WIN")[1] == "addin.doctor.source.workbook_sheet"
    codes = {f.msg.code for f in d.findings}
    assert {"addin.doctor.interpreter_missing", "addin.doctor.conda_half", "addin.doctor.py_sheet"} <= codes
    assert not d.ok


def test_what_to_fix(tmp_path: Path, home: Path, monkeypatch) -> None:
    xlstart = tmp_path / "XLSTART"
    d = diagnose(target_dir=xlstart, home=home, environ={"USERPROFILE": str(home)}, probe=False)
    assert {f.msg.code for f in d.findings} >= {"addin.doctor.not_installed"} and not d.ok
    install_addin(target_dir=xlstart, interpreter=sys.executable)
    (xlstart / f".{ADDIN_NAME}.tmp").write_bytes(b"")
    monkeypatch.setattr(doctor, "__version__", "9.9.9")  # as if the package were upgraded after the install
    d = diagnose(target_dir=xlstart, home=home, environ={"USERPROFILE": str(home)}, probe=False)
    codes = {f.msg.code for f in d.findings}
    assert {"addin.doctor.leftover", "addin.doctor.addin_version"} <= codes
    text = render(d, "en")
    assert "To fix:" in text and "budgetlib addin install" in text and ".budgetlib.xlam.tmp" in text


def test_supported_xlwings_versions() -> None:
    assert xlwings_supported("0.37.5") and xlwings_supported("0.37.8")
    assert not xlwings_supported("0.37.4") and not xlwings_supported("0.38.0") and not xlwings_supported("0.30.1")


def test_cli_doctor_in_both_languages(xlstart: Path, capsys) -> None:
    assert main(["addin", "doctor", "--dir", str(xlstart), "--no-probe"]) == 0  # the probe: test_a_healthy_installation
    vi = capsys.readouterr().out
    assert "phần bổ trợ sẽ dùng gì" in vi and "trang budgetlib.conf của phần bổ trợ" in vi
    assert main(["addin", "doctor", "--dir", str(xlstart), "--lang", "en", "--no-probe"]) == 0
    en = capsys.readouterr().out
    assert "what the add-in will use" in en and "the add-in's budgetlib.conf sheet" in en and "(not run)" in en


def test_cli_doctor_exit_code_when_something_must_be_fixed(tmp_path: Path, capsys) -> None:
    assert main(["addin", "doctor", "--dir", str(tmp_path / "none"), "--no-probe"]) == 1
    assert "budgetlib addin install" in capsys.readouterr().out
