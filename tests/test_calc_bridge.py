"""Both ends of the bridge between LibreOffice and budgetlib, with real processes: the extension's
own ``budgetlib_lo.bridge`` (run here in budgetlib's Python: it is stdlib only) finding and
starting ``python -m budgetlib.calc.bridge``; and ``budgetlib lo doctor`` / ``lo install``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from budgetlib import __version__
from budgetlib.calc import paths as bl_paths
from budgetlib.calc.doctor import diagnose, extension_module
from budgetlib.calc.install import InstallError, install_extension, is_root, unopkg_args
from budgetlib.calc.protocol import PROTOCOL_VERSION

from .conftest import EXAMPLES, ROOT

EXAMPLE = EXAMPLES / "haiphong_2011_2015" / "plan.xlsx"


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("BUDGETLIB_LO_LOG", str(tmp_path / "lo.log"))
    monkeypatch.setenv("BUDGETLIB_LO_CONFIG", str(tmp_path / "lo.json"))
    monkeypatch.delenv("BUDGETLIB_PYTHON", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))


@pytest.fixture(scope="module")
def python_without_budgetlib(tmp_path_factory) -> Path:
    """A real interpreter that cannot import budgetlib's dependencies (a bare venv)."""
    folder = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    return folder / "bin" / "python"


def _allocate_request() -> dict:
    from budgetlib.io.workbook import OpenpyxlBook

    book = OpenpyxlBook(EXAMPLE)
    sheets = [{"name": n, "marked": False, "origin": [1, 1], "rows": [[v if v is not None else "" for v in r] for r in book.grid(n).rows]}
              for n in book.sheet_names()]
    return {"protocol": PROTOCOL_VERSION, "command": "btnAllocate", "lang": "vi", "extension_version": __version__,
            "book": {"name": "plan.xlsx", "sheets": sheets, "tables": [t.__dict__ for t in book.tables()]}}


def test_bridge_process_streams_progress_then_one_reply():
    done = subprocess.run([sys.executable, "-m", "budgetlib.calc.bridge"], input=json.dumps(_allocate_request()).encode(),
                          capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode("ascii").splitlines()]  # every stdout line is protocol
    assert all("progress" in m for m in lines[:-1]) and len(lines) > 2
    assert "budgetlib: Giải bài toán phân bổ …" in [m["progress"] for m in lines[:-1]]  # the allocator's step, in Vietnamese
    assert "reply" in lines[-1] and lines[-1]["reply"]["exit_code"] == 0


def test_whatever_else_prints_to_stdout_goes_to_stderr():
    """Solvers write banners to file descriptor 1 from C; the protocol has its own copy of it."""
    code = ("import os, sys; from budgetlib.calc.bridge import _protocol_stream; out = _protocol_stream(); "
            "os.write(1, b'from C\\n'); print('from Python'); sys.stdout.flush(); out.write('{}\\n'); out.flush()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == "{}\n"
    assert "from C" in done.stderr and "from Python" in done.stderr


def test_bridge_probe_and_bad_input():
    probe = subprocess.run([sys.executable, "-m", "budgetlib.calc.bridge", "--probe"], capture_output=True, text=True, timeout=120, check=True)
    info = json.loads(probe.stdout)["probe"]
    assert info["budgetlib"] == __version__ and info["protocol"] == PROTOCOL_VERSION and info["python"] == sys.executable
    bad = subprocess.run([sys.executable, "-m", "budgetlib.calc.bridge"], input=b"not json", capture_output=True, timeout=120, check=False)
    assert json.loads(bad.stdout)["reply"]["exit_code"] == 4


# ---------------------------------------------------------------------------------------------
# The extension's side


def test_both_sides_agree_on_the_log_and_the_settings_file(monkeypatch, tmp_path):
    lo_paths = extension_module("paths")
    for log, config in ((None, None), (tmp_path / "a.log", tmp_path / "b.json")):
        for key, value in (("BUDGETLIB_LO_LOG", log), ("BUDGETLIB_LO_CONFIG", config)):
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, str(value))
        assert Path(lo_paths.log_path()) == bl_paths.log_path()
        assert Path(lo_paths.config_path()) == bl_paths.config_path()
    assert (lo_paths.LOG_ENV, lo_paths.CONFIG_ENV, lo_paths.PYTHON_ENV) == (bl_paths.LOG_ENV, bl_paths.CONFIG_ENV, bl_paths.PYTHON_ENV)
    config = tmp_path / "b.json"
    bl_paths.write_config({"python": "/x/python"}, config)
    assert lo_paths.read_config(str(config)) == bl_paths.read_config(config) == {"python": "/x/python"}
    config.write_text("{broken", encoding="utf-8")
    assert lo_paths.read_config(str(config)) == {} == bl_paths.read_config(config)


def test_which_python_the_extension_tries():
    bridge = extension_module("bridge")
    assert bridge.candidates({"BUDGETLIB_PYTHON": "/a"}, {"python": "/b"}, {"python": "/c"})[0][:2] == (["/a"], "BUDGETLIB_PYTHON")
    assert [c[0] for c in bridge.candidates({}, {"python": "/b"}, {"python": "/c"})] == [["/b"]]
    assert bridge.candidates({}, {}, {"python": "/c"}) == [(["/c"], "budgetlib.oxt", True)]
    assert [c[0] for c in bridge.candidates({}, {}, None, windows=True)] == [["py", "-3"], ["python"]]
    assert [c[0] for c in bridge.candidates({}, {}, None, windows=False)] == [["python3"], ["python"]]


def test_child_environment_drops_libreoffices_own_python(tmp_path):
    bridge = extension_module("bridge")
    office = tmp_path / "LibreOffice"
    mine = tmp_path / "mine"
    env = {
        "PYTHONHOME": str(office / "program" / "python-core-3.8"),
        "PYTHONPATH": os.pathsep.join([str(office / "program"), str(mine)]),
        "PATH": os.pathsep.join([str(office / "program"), "/usr/bin"]),
        "LD_LIBRARY_PATH": str(office / "program"),
        "OTHER": "kept",
    }
    child = bridge.child_environment(env, [str(office)])
    assert "PYTHONHOME" not in child and "LD_LIBRARY_PATH" not in child
    assert child["PYTHONPATH"] == str(mine) and child["PATH"] == "/usr/bin" and child["OTHER"] == "kept"
    assert child["PYTHONIOENCODING"] == "utf-8"
    assert bridge.child_environment({"PYTHONHOME": "/opt/py"}, [str(office)])["PYTHONHOME"] == "/opt/py"


def test_extension_runs_budgetlib_and_streams_progress(monkeypatch):
    bridge = extension_module("bridge")
    monkeypatch.setenv("BUDGETLIB_PYTHON", sys.executable)
    seen = []
    reply, argv = bridge.run(_allocate_request(), lambda text, done, total: seen.append((text, done, total)))
    assert argv == [sys.executable] and reply["exit_code"] == 0
    assert seen and all(isinstance(t, str) for t, _, _ in seen) and seen[-1][1] == seen[-1][2]


def test_missing_python_and_missing_budgetlib(monkeypatch, tmp_path, python_without_budgetlib):
    bridge = extension_module("bridge")
    request = {"protocol": PROTOCOL_VERSION, "command": "btnVersion", "lang": "vi", "book": {"sheets": []}}
    monkeypatch.setenv("BUDGETLIB_PYTHON", str(tmp_path / "no" / "python"))
    with pytest.raises(bridge.BridgeError) as exc:
        bridge.run(request, lambda *a: None)
    assert exc.value.kind == "not_found" and "BUDGETLIB_PYTHON" in exc.value.details["tried"]
    monkeypatch.setenv("BUDGETLIB_PYTHON", str(python_without_budgetlib))
    with pytest.raises(bridge.BridgeError) as exc:
        bridge.run(request, lambda *a: None)
    assert exc.value.kind == "missing" and "No module named" in exc.value.details["error"]
    assert "budgetlib stderr" in (tmp_path / "lo.log").read_text(encoding="utf-8")


def test_path_search_skips_a_python_without_budgetlib(monkeypatch, tmp_path, python_without_budgetlib):
    bridge = extension_module("bridge")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in (("python3", python_without_budgetlib), ("python", sys.executable)):
        (bin_dir / name).write_text(f'#!/bin/sh\nexec "{target}" "$@"\n')
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    request = {"protocol": PROTOCOL_VERSION, "command": "btnVersion", "lang": "vi", "book": {"sheets": []}}
    reply, argv = bridge.run(request, lambda *a: None, environ=dict(os.environ))
    assert argv == [str(bin_dir / "python")] and reply["exit_code"] == 0


def test_extension_texts_fill_plain_placeholders():
    from budgetlib.calc.build import extension_files

    texts = json.loads(extension_files()["pythonpath/budgetlib_lo/texts.json"])
    for lang in ("vi", "en"):
        for code, text in texts[lang].items():
            assert "{" not in text.format(**{k: "x" for k in ("tried", "config", "python", "error", "command", "status", "detail", "log",
                                                              "left", "sheet", "path", "label", "n", "total", "version")}), code


# ---------------------------------------------------------------------------------------------
# lo doctor, lo install


def test_doctor_reports_the_python_the_extension_will_use(monkeypatch, tmp_path):
    monkeypatch.setenv("BUDGETLIB_PYTHON", sys.executable)
    checks = {c.key: c for c in diagnose(lang="vi")}
    assert checks["python"].ok is True and f"budgetlib {__version__}" in checks["python"].detail
    assert "BUDGETLIB_PYTHON" in checks["python"].detail
    monkeypatch.setenv("BUDGETLIB_PYTHON", str(tmp_path / "no" / "python"))
    failed = [c for c in diagnose(lang="en") if c.ok is False]
    assert any(c.key == "python" and "BUDGETLIB_PYTHON" in c.fix for c in failed)
    from budgetlib.cli import main

    assert main(["lo", "doctor", "--json"]) == 1


def test_doctor_finds_libreoffice_and_its_python():
    from budgetlib.calc.install import find_office

    if find_office() is None:
        pytest.skip("LibreOffice is not installed")
    checks = {c.key: c for c in diagnose(lang="en")}
    assert checks["soffice"].ok is True and "LibreOffice" in checks["soffice"].detail
    assert checks["office_python"].ok is True and "3." in checks["office_python"].detail


def test_unopkg_command_lines(tmp_path):
    assert unopkg_args("/lo/unopkg", "add", target="/x/budgetlib.oxt") == ["/lo/unopkg", "add", "--force", "--suppress-license", "/x/budgetlib.oxt"]
    assert unopkg_args("/lo/unopkg", "remove", shared=True) == ["/lo/unopkg", "remove", "org.budgetlib.calc", "--shared"]
    listed = unopkg_args("/lo/unopkg", "list", profile=tmp_path)
    assert listed[:3] == ["/lo/unopkg", "list", "org.budgetlib.calc"] and listed[3] == f"-env:UserInstallation={tmp_path.resolve().as_uri()}"
    with pytest.raises(ValueError):
        unopkg_args("/lo/unopkg", "add")


def test_install_for_this_user(tmp_path):
    """As root, unopkg refuses per-user installs: so does ``lo install``, saying what to do. As
    anyone else, a real install into a throw-away profile."""
    from budgetlib.calc.install import find_office
    from budgetlib.cli import main

    if is_root():
        with pytest.raises(InstallError) as exc:
            install_extension(profile=tmp_path / "profile")
        assert "--shared" in exc.value.message("vi") and "root" in exc.value.message("en")
        assert main(["lo", "install", "--profile", str(tmp_path / "profile")]) == 3
        return
    if find_office() is None:
        pytest.skip("LibreOffice is not installed")
    result = install_extension(profile=tmp_path / "profile", folder=tmp_path)
    assert result.extension.is_file() and result.config is not None
    assert json.loads(result.config.read_text(encoding="utf-8"))["python"] == sys.executable
    listed = subprocess.run(unopkg_args(result.unopkg, "list", profile=tmp_path / "profile"), capture_output=True, text=True, check=False)
    assert "org.budgetlib.calc" in listed.stdout
