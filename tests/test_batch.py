"""Batches: isolated failures and the worst exit code, collisions refused before work, resume,
serial vs a real dask.distributed LocalCluster (worker processes) giving byte-identical files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import budgetlib
from budgetlib.cli import main
from budgetlib.pipeline.batch import MANIFEST_NAME, BatchOptions, discover, plan_batch, run_batch

from .conftest import EXAMPLES, ROOT, tiny_plan_data

RUN_TIME = "2026-03-01T08:00:00+00:00"


def _tiny(name: str, unit_name: str = "Quận Một", **policy) -> dict:
    data = tiny_plan_data()
    data["program"]["code"] = name
    data["units"][0]["name"] = unit_name
    if policy:
        data["allocation"] = policy
    return data


def _write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _folder(root: Path) -> Path:
    """Good plans (JSON, a workbook with a scenario, one in a sub-folder), a corrupt workbook, an
    unreadable JSON, an infeasible plan, and files a batch must never take as plans."""
    plans = root / "ke_hoach"
    _write(plans / "a.json", _tiny("A"))
    tc = budgetlib.load_plan(EXAMPLES / "tanchau_2022" / "plan.json")
    from budgetlib.io.workbook import write_plan_workbook

    plans.mkdir(parents=True, exist_ok=True)
    write_plan_workbook(tc, plans / "tanchau.xlsx")
    _write(plans / "huyen" / "b.json", _tiny("B", "Quận [dự thảo]"))
    (plans / "hong.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (plans / "cu_phap.json").write_text('{"program": ', encoding="utf-8")
    _write(plans / "khong_kha_thi.json", _tiny("C", constraints=[{"type": "floor", "name": "Sàn quá cao", "amount": 10**12}]))
    # never plans: results, backups, Excel lock files, hidden files, a manifest
    (plans / "a_ket_qua.xlsx").write_bytes(b"")
    (plans / "a.bak.xlsx").write_bytes(b"")
    (plans / "~$tanchau.xlsx").write_bytes(b"")
    (plans / ".an.json").write_text("{}", encoding="utf-8")
    (plans / MANIFEST_NAME).write_text("{}", encoding="utf-8")
    return plans


def _manifest(out: Path) -> dict:
    return json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != MANIFEST_NAME}


def test_discovery_skips_results_backups_locks_and_output_folders(tmp_path):
    plans = _folder(tmp_path)
    (plans / "ket_qua").mkdir()
    (plans / "ket_qua" / "x.json").write_text("{}", encoding="utf-8")
    flat = [f.relative_to(plans).as_posix() for _, f in discover([plans])]
    assert flat == ["a.json", "cu_phap.json", "hong.xlsx", "khong_kha_thi.json", "tanchau.xlsx"]
    deep = [f.relative_to(plans).as_posix() for _, f in discover([plans], recursive=True, skip=[plans / "ket_qua"])]
    assert deep == ["a.json", "cu_phap.json", "hong.xlsx", "huyen/b.json", "khong_kha_thi.json", "tanchau.xlsx"]


def test_a_batch_finishes_the_good_plans_reports_the_others_and_exits_with_the_worst(tmp_path, capsys):
    plans = _folder(tmp_path)
    out = tmp_path / "ket_qua"
    code = main(["allocate", str(plans), "-o", str(out), "--json", str(out), "--recursive", "--workers", "1",
                 "--scenario", "Không có kinh phí tỉnh"])
    printed = capsys.readouterr()
    m = _manifest(out)
    status = {t["key"]: t["status"] for t in m["tasks"]}
    # tanchau.xlsx has the scenario, a.json and b.json do not: asking for it is their (located) error
    assert status["tanchau.xlsx"] == "ok" and status["tanchau.xlsx#khong-co-kinh-phi-tinh"] == "ok"
    assert status["hong.xlsx"] == status["cu_phap.json"] == "invalid"
    assert status["a.json"] == status["huyen/b.json"] == "invalid"
    assert code == max(t["exit_code"] for t in m["tasks"]) == 1 and m["exit_code"] == 1
    assert {"tanchau_ket_qua.xlsx", "tanchau_ket_qua__khong-co-kinh-phi-tinh.xlsx", "tanchau_ket_qua.json"} <= {p.name for p in out.iterdir()}
    assert "không có kịch bản tên" in printed.out.lower()

    # without the scenario: the infeasible plan makes the batch's code 2, every good plan is written
    out2 = tmp_path / "ket_qua2"
    code = main(["allocate", str(plans), "-o", str(out2), "--recursive", "--workers", "1", "-q"])
    m = _manifest(out2)
    status = {t["key"]: (t["status"], t["exit_code"]) for t in m["tasks"]}
    assert status["khong_kha_thi.json"] == ("infeasible", 2) and status["hong.xlsx"][1] == 1 and status["cu_phap.json"][1] == 1
    assert status["a.json"] == status["huyen/b.json"] == status["tanchau.xlsx"] == ("ok", 0)
    assert code == 2
    assert (out2 / "huyen" / "b_ket_qua.xlsx").is_file() and (out2 / "a_ket_qua.xlsx").is_file()
    printed = capsys.readouterr().out
    assert "a.json" not in printed and "khong_kha_thi.json" in printed  # -q: only what did not go well
    for task in m["tasks"]:
        assert len(task["input_sha256"]) == 64
        assert task["timings"]["total"] >= 0
        for o in task["outputs"]:
            assert budgetlib.pipeline.sha256_file(o["path"]) == o["sha256"]


def test_a_collision_is_refused_before_any_work(tmp_path, capsys):
    plans = tmp_path / "kh"
    _write(plans / "plan.json", _tiny("A"))
    from budgetlib.io.workbook import write_plan_workbook

    write_plan_workbook(budgetlib.load_plan(plans / "plan.json"), plans / "Plan.XLSX")
    out = tmp_path / "ket_qua"
    assert main(["allocate", str(plans), "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "plan.json" in err and "Plan.XLSX" in err and "plan_ket_qua.xlsx" in err.replace("\n", "")
    assert not out.exists()  # nothing written, not even the manifest
    # JSON results: plan_ket_qua.json twice
    assert main(["allocate", str(plans), "--json", str(tmp_path / "js")]) == 3
    assert not (tmp_path / "js").exists() and not (plans / "Plan_ket_qua.xlsx").exists()
    files = discover([plans])
    _, collisions = plan_batch(files, BatchOptions(json=True), out_dir=out, json_dir=out)
    assert len(collisions) == 2  # the workbook and the JSON


def test_resume_recomputes_nothing_unchanged(tmp_path):
    plans = tmp_path / "kh"
    for name in ("a", "b", "c"):
        _write(plans / f"{name}.json", _tiny(name.upper()))
    out = tmp_path / "out"
    args = ["allocate", str(plans), "-o", str(out), "--json", str(out), "--workers", "1", "-q"]
    assert main(args) == 0
    stamp = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main([*args, "--resume"]) == 0
    assert all(t["reused"] for t in _manifest(out)["tasks"])
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != MANIFEST_NAME} == {k: v for k, v in stamp.items() if k != MANIFEST_NAME}
    # change one plan, delete another's output: only those two are computed again
    _write(plans / "b.json", _tiny("B", "Quận Một mới"))
    (out / "c_ket_qua.json").unlink()
    assert main([*args, "--resume"]) == 0
    reused = {t["key"]: t["reused"] for t in _manifest(out)["tasks"]}
    assert reused == {"a.json": True, "b.json": False, "c.json": False}
    assert (out / "a_ket_qua.xlsx").stat().st_mtime_ns == stamp["a_ket_qua.xlsx"]
    assert (out / "b_ket_qua.xlsx").stat().st_mtime_ns != stamp["b_ket_qua.xlsx"]
    # other options: nothing is reused
    assert main([*args, "--resume", "--policy", "proportional"]) == 0
    assert not any(t["reused"] for t in _manifest(out)["tasks"])


def _first_difference(a: dict[str, bytes], b: dict[str, bytes], names: list[str]) -> str:
    """Where the first differing file first differs: text lines for JSON, sheet XML for workbooks."""
    import io
    import zipfile

    if not names or names[0] not in a or names[0] not in b:
        return ""
    x, y = a[names[0]], b[names[0]]
    if names[0].endswith((".xlsx", ".xlsm")):
        za, zb = zipfile.ZipFile(io.BytesIO(x)), zipfile.ZipFile(io.BytesIO(y))
        for member in za.namelist():
            if member in zb.namelist() and za.read(member) != zb.read(member):
                x, y = za.read(member), zb.read(member)
                break
    i = next((k for k, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
    return f"{names[0]}: …{x[max(0, i - 120):i + 120]!r} != …{y[max(0, i - 120):i + 120]!r}"


@pytest.mark.parametrize("whole_plans", [True, False], ids=["plan-per-task", "run-per-task"])
def test_serial_and_local_cluster_give_byte_identical_outputs(tmp_path, monkeypatch, whole_plans):
    """The test starts a real LocalCluster of worker *processes* and runs the batch on it: small
    plans as one task each, and (size limit 0) a task per plan × scenario."""
    import distributed

    from budgetlib.pipeline import batch as batch_module

    if not whole_plans:
        monkeypatch.setattr(batch_module, "WHOLE_PLAN_MAX_BYTES", 0)
    plans = tmp_path / "kh"
    for name in ("a", "b", "c"):
        _write(plans / f"{name}.json", _tiny(name.upper()))
    tc = budgetlib.load_plan(EXAMPLES / "tanchau_2022" / "plan.json")
    budgetlib.save_plan(tc, plans / "tanchau.json")
    from fractions import Fraction

    from budgetlib.planning.scenarios import budget_grid

    files = discover([plans])
    results = {}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        for kind in ("allocate", "scenarios"):
            opts = BatchOptions(kind=kind, json=True, run_time=RUN_TIME, scenarios=("Không có kinh phí tỉnh",) if kind == "allocate" else None,
                                extra=tuple(budget_grid([Fraction(11, 10)])) if kind == "scenarios" else ())
            for how in ("serial", "cluster"):
                out = tmp_path / f"{kind}_{how}"
                jobs, collisions = plan_batch(files, opts, out_dir=out)
                assert collisions == []
                report = run_batch(jobs, opts, workers=1, scheduler=cluster.scheduler_address if how == "cluster" else None, manifest=out / MANIFEST_NAME)
                results[kind, how] = (report, _outputs(out))
    for kind in ("allocate", "scenarios"):
        (serial, a), (clustered, b) = results[kind, "serial"], results[kind, "cluster"]
        differing = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
        assert a and not differing, (kind, differing, _first_difference(a, b, differing))  # same files, same bytes
        assert clustered.executor["type"] == "scheduler" and serial.executor["type"] == "serial"
        workers = {r.worker for r in clustered.records}
        assert all(w.split(":")[-1] != str(os.getpid()) for w in workers)  # ran in the worker processes
        assert {r.key: r.status for r in serial.records} == {r.key: r.status for r in clustered.records}
        if whole_plans:  # a plan's runs (and comparison) ran in one task, so on one worker
            by_plan: dict[str, set[str]] = {}
            for r in clustered.records:
                by_plan.setdefault(r.key.split("#")[0], set()).add(r.worker)
            assert all(len(w) == 1 for w in by_plan.values()), by_plan
    assert "tanchau_ket_qua__khong-co-kinh-phi-tinh.xlsx" in results["allocate", "serial"][1]
    assert "tanchau_kich_ban.xlsx" in results["scenarios", "serial"][1]


def test_cli_workers_start_and_stop_a_local_cluster(tmp_path, capsys):
    plans = tmp_path / "kh"
    for name in ("a", "b"):
        _write(plans / f"{name}.json", _tiny(name.upper()))
    out = tmp_path / "out"
    assert main(["allocate", str(plans), "-o", str(out), "--workers", "2", "-q", "--lang", "en"]) == 0
    executor = _manifest(out)["executor"]
    assert (executor["type"], executor["workers"]) == ("local-cluster", 2) and executor["startup_seconds"] > 0
    assert "dask LocalCluster, 2 processes" in capsys.readouterr().out


def test_a_serial_batch_never_imports_dask(tmp_path):
    plans = tmp_path / "kh"
    _write(plans / "a.json", _tiny("A"))
    _write(plans / "b.json", _tiny("B"))
    code = (
        "import sys; from budgetlib.cli import main; "
        f"rc = main(['allocate', {str(plans)!r}, '-o', {str(tmp_path / 'out')!r}, '--workers', '1', '-q']); "
        "print(rc, any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.split()[-2:] == ["0", "False"], done.stderr


def test_batch_outputs_must_be_folders(tmp_path, capsys):
    plans = tmp_path / "kh"
    _write(plans / "a.json", _tiny("A"))
    _write(plans / "b.json", _tiny("B"))
    assert main(["allocate", str(plans), "-o", str(tmp_path / "kq.xlsx")]) == 3
    assert main(["allocate", str(plans / "a.json"), "-s", "x", "--json", str(tmp_path / "kq.json")]) == 3
    assert "kq.json" in capsys.readouterr().err and not (tmp_path / "kq.json").exists()
