"""``budgetlib store …`` end to end, in a subprocess as officers and batch jobs run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from budgetlib.cli import main

from .conftest import EXAMPLES

PLAN = EXAMPLES / "haiphong_2011_2015" / "plan.json"
CODE = "HP-PCMD-2011-2015"


def run(*args, cwd, env=None):
    """The real entry point, in a subprocess (``python -m budgetlib store …``)."""
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "budgetlib", "store", *map(str, args)], capture_output=True, text=True, encoding="utf-8", cwd=cwd, env=full)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch):
    """``budgetlib store …`` in this process (the same ``main`` as the console script, much faster)."""

    def call(*args, cwd, env=None):
        monkeypatch.chdir(cwd)
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        code = main(["store", *map(str, args)])
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return call


def test_a_plan_through_its_stages_from_the_command_line(tmp_path, store_url, cli):
    env = {"BUDGETLIB_STORE": store_url, "BUDGETLIB_USER": "Trần Văn Bình"}
    run = cli
    out = run("init", cwd=tmp_path, env=env)
    assert out.returncode == 0 and "Đã tạo kho phiên bản" in out.stdout, out.stderr
    out = run("save", PLAN, "-m", "bản đầu", "--allocate", "--json", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    saved = json.loads(out.stdout)
    assert saved["version"]["ref"] == f"{CODE}@1" and saved["version"]["created_by"] == "Trần Văn Bình"
    assert saved["run"]["input_sha256"] == saved["version"]["content_hash"]

    edited = json.loads(PLAN.read_text(encoding="utf-8"))
    edited["budget_lines"][0]["amount"] += 100_000_000
    edited["program"]["total"] += 100_000_000
    (tmp_path / "sua.json").write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")

    assert run("submit", f"{CODE}@1", cwd=tmp_path, env=env).returncode == 0
    out = run("approve", f"{CODE}@1", "-d", "Quyết định số 1234/QĐ-UBND", cwd=tmp_path, env=env)
    assert out.returncode == 0 and "Phê duyệt" in out.stdout
    out = run("approve", f"{CODE}@1", "--lang", "en", cwd=tmp_path, env=env)
    assert out.returncode == 1 and "is approved and cannot change" in out.stderr

    out = run("save", tmp_path / "sua.json", "--allocate", cwd=tmp_path, env=env)
    assert out.returncode == 0 and f"{CODE}@2 (Điều chỉnh)" in out.stdout, out.stderr

    out = run("diff", f"{CODE}@1", f"{CODE}@2", "--json", "--xlsx", tmp_path / "so_sanh.xlsx", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert {c["path"] for c in d["fields"]} == {"program.total", f"budget_lines[{edited['budget_lines'][0]['task']}/{edited['budget_lines'][0]['agency']}/{edited['budget_lines'][0]['year']}/{edited['budget_lines'][0]['source']}].amount"}
    assert sum(c["delta"] for c in d["allocations"]) == d["b"]["total"] - d["a"]["total"] == 100_000_000
    assert (tmp_path / "so_sanh.xlsx").stat().st_size > 0

    out = run("diff", f"{CODE}@1", f"{CODE}@1", "--lang", "en", cwd=tmp_path, env=env)
    assert out.returncode == 0 and "identical" in out.stdout and "0 changes to the plan, 0 allocation cells changed" in out.stdout

    out = run("history", CODE, "--lang", "en", cwd=tmp_path, env=env)
    assert out.returncode == 0 and "Draft → Submitted" in out.stdout and "Quyết định số 1234/QĐ-UBND" in out.stdout
    out = run("list", "--json", cwd=tmp_path, env=env)
    assert [v["stage"] for v in json.loads(out.stdout)] == ["approved", "revision"]
    out = run("show", f"{CODE}@approved", cwd=tmp_path, env=env)
    assert out.returncode == 0 and "Quyết định số 1234/QĐ-UBND" in out.stdout and "min_deviation" in out.stdout
    out = run("verify", cwd=tmp_path, env=env)
    assert out.returncode == 0 and "mọi mã kiểm tra đều khớp" in out.stdout


def test_store_errors_are_messages_and_exit_codes(tmp_path, cli):
    (tmp_path / "ghi_chu.txt").write_text("không phải kho", encoding="utf-8")
    out = run("list", "--store", tmp_path / "ghi_chu.txt", "--lang", "en", cwd=tmp_path)  # the console entry point
    assert out.returncode == 1 and "is not a budgetlib version store" in out.stderr and "Traceback" not in out.stderr
    out = cli("list", "--store", tmp_path / "chua_co.sqlite", cwd=tmp_path)
    assert out.returncode == 1 and "budgetlib store init" in out.stderr
    assert not (tmp_path / "chua_co.sqlite").exists()
    out = cli("show", "@@", "--store", tmp_path / "ghi_chu.txt", cwd=tmp_path)
    assert out.returncode == 1  # the store is refused before the reference is read
    assert cli("init", cwd=tmp_path, env={"BUDGETLIB_STORE": ""}).returncode == 0
    assert (tmp_path / "budgetlib-store.sqlite").exists()  # the default store
    out = cli("show", "@3", cwd=tmp_path)
    assert out.returncode == 3 and "MÃ@SỐ" in out.stderr
    out = cli("show", "KHONG@1", cwd=tmp_path)
    assert out.returncode == 1 and "KHONG@1" in out.stderr
    out = cli("save", tmp_path / "khong_co.json", cwd=tmp_path)
    assert out.returncode == 3


def test_commands_that_do_not_touch_a_store_do_not_import_sqlalchemy():
    code = "import sys, budgetlib, budgetlib.cli, budgetlib.pipeline; assert 'sqlalchemy' not in sys.modules, 'eager import'"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
