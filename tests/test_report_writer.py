"""Result workbooks are written safely: user text stays text, user sheets stay, nothing is lost.

Issue 10, writer side: only :class:`~budgetlib.io.grid.Formula` values become formulas; control
characters never crash the writer; result sheets carry budgetlib's mark and only marked sheets are
replaced; concurrent ``--in-place`` runs take turns; the ``.bak`` holds the user's last bytes;
every write error is a located message (exit 3 in the CLI); no temporary file outlives a run, even
one killed with SIGKILL at a random moment; outputs get the user's umask; ``.xlsm`` keeps macros.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from budgetlib.io.atomic import TEMP_PREFIX, OutputError, atomic_write_text, backup_path
from budgetlib.io.grid import RESULT_MARKER_NAME, Formula, SheetSpec
from budgetlib.io.workbook import CalamineBook, write_plan_workbook, write_result_workbook, write_sheets, xlsx
from budgetlib.pipeline import run_allocate
from budgetlib.planning.validation import load_plan_data

from .conftest import tiny_plan_data

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /C calc'!A0", "=WEBSERVICE(\"http://x\")", "+1+1", "@SUM(1)", "-2+3"]


@pytest.fixture(scope="module")
def tiny_plan():
    return load_plan_data(tiny_plan_data())


@pytest.fixture(scope="module")
def tiny_outcome(tiny_plan):
    outcome = run_allocate(tiny_plan)
    assert outcome.exit_code == 0
    return outcome


def _formula_cells(path: Path) -> dict[str, set[str]]:
    """Sheet name → cells holding a formula, read from the package XML itself."""
    out: dict[str, set[str]] = {}
    with zipfile.ZipFile(path) as z:
        members = xlsx._sheet_members(z)
        for name, member in members.items():
            xml = z.read(member).decode("utf-8")
            cells = re.findall(r'<c r="([A-Z]+\d+)"[^>]*?(?:/>|>(.*?)</c>)', xml, re.S)
            out[name] = {ref for ref, body in cells if "<f>" in body}
    return out


def _specs_formulas(specs: list[SheetSpec]) -> dict[str, set[str]]:
    return {s.name: {ref for ref, _ in s.iter_formulas()} for s in specs}


# ---------------------------------------------------------------------------------------------
# Text is text


@pytest.mark.parametrize("fast", [False, True], ids=["openpyxl", "generated_rows"])
def test_user_text_is_never_a_formula(tmp_path, monkeypatch, fast):
    if fast:
        monkeypatch.setattr(xlsx, "FAST_ROWS", 3)
        monkeypatch.setattr(xlsx, "FAST_HEAD", 2)
    rows = [["Tên", "Số"], *[[text, i] for i, text in enumerate(HOSTILE)], [Formula("=SUM(B2:B7)"), None]]
    spec = SheetSpec("Thử", rows)
    path = tmp_path / "t.xlsx"
    write_sheets([spec], path)
    assert _formula_cells(path) == {"Thử": {"A8"}}
    values = [r[0] for r in CalamineBook(path).grid("Thử").rows[1:7]]
    assert values == HOSTILE
    ws = load_workbook(path)["Thử"]
    assert [ws.cell(r, 1).data_type for r in range(2, 8)] == ["s"] * 6


def test_hostile_names_from_a_plan_reach_every_sheet_as_text(tmp_path, tiny_plan):
    units = [u.model_copy(update={"name": HOSTILE[i]}) for i, u in enumerate(tiny_plan.units)]
    tasks = [t.model_copy(update={"name": HOSTILE[2 + i]}) for i, t in enumerate(tiny_plan.tasks)]
    plan = tiny_plan.model_copy(update={"units": units, "tasks": tasks})
    outcome = run_allocate(plan)
    assert outcome.exit_code == 0
    out = tmp_path / "ket_qua.xlsx"
    write_result_workbook(outcome.sheets, out, plan=plan)
    # Only the formulas budgetlib wrote: every formula cell in the file is one of ours.
    got = _formula_cells(out)
    ours = _specs_formulas(outcome.sheets)
    for name, cells in got.items():
        assert cells == ours.get(name, set()), name
    texts = {v for name in CalamineBook(out).sheet_names() for row in CalamineBook(out).grid(name).rows for v in row if isinstance(v, str)}
    assert set(HOSTILE[:4]) <= texts


@pytest.mark.parametrize("fast", [False, True], ids=["openpyxl", "generated_rows"])
def test_control_characters_never_crash_the_writer(tmp_path, monkeypatch, fast):
    if fast:
        monkeypatch.setattr(xlsx, "FAST_ROWS", 2)
        monkeypatch.setattr(xlsx, "FAST_HEAD", 1)
    bad = "Xã\x07 Chuông\x00\x1b[31m"
    spec = SheetSpec("Lỗi ký tự", [["Tên"], [bad], [bad + "2"]], comments={"A1": "chú thích\x0b"})
    path = tmp_path / "c.xlsx"
    write_sheets([spec], path)
    shown = CalamineBook(path).grid("Lỗi ký tự").rows
    assert shown[1][0] == "Xã\ufffd Chuông\ufffd\ufffd[31m"
    assert load_workbook(path)["Lỗi ký tự"]["A3"].value == "Xã\ufffd Chuông\ufffd\ufffd[31m2"


# ---------------------------------------------------------------------------------------------
# Marked sheets, placement, .bak


def _user_workbook(tmp_path: Path, plan) -> Path:
    path = tmp_path / "kehoach.xlsx"
    write_plan_workbook(plan, path)
    wb = load_workbook(path)
    wb.create_sheet("Tổng hợp")["A1"] = "Bảng tổng hợp riêng của phòng"
    wb.create_sheet("Nhật ký")["B2"] = 42
    wb.save(path)
    return path


def test_user_sheets_with_result_names_are_kept_and_ours_are_placed_beside(tmp_path, tiny_plan, tiny_outcome):
    path = _user_workbook(tmp_path, tiny_plan)
    for _ in range(2):  # the second run replaces our own sheets, never the user's
        write_result_workbook(tiny_outcome.sheets, path, source=path, in_place=True)
        wb = load_workbook(path)
        assert wb["Tổng hợp"]["A1"].value == "Bảng tổng hợp riêng của phòng"
        assert wb["Nhật ký"]["B2"].value == 42
        assert RESULT_MARKER_NAME not in wb["Tổng hợp"].defined_names
        assert RESULT_MARKER_NAME in wb["Tổng hợp (2)"].defined_names and RESULT_MARKER_NAME in wb["Nhật ký (2)"].defined_names
        assert wb.sheetnames.count("Phân bổ") == 1 and "Tổng hợp (3)" not in wb.sheetnames
        assert all(RESULT_MARKER_NAME in wb[s.name if s.name not in ("Tổng hợp", "Nhật ký") else f"{s.name} (2)"].defined_names for s in tiny_outcome.sheets)


def test_bak_keeps_the_users_last_bytes(tmp_path, tiny_plan, tiny_outcome):
    path = tmp_path / "kehoach.xlsx"
    write_plan_workbook(tiny_plan, path)
    original = path.read_bytes()
    write_result_workbook(tiny_outcome.sheets, path, source=path, in_place=True)
    assert backup_path(path).read_bytes() == original
    assert xlsx.is_unchanged_output(path)
    write_result_workbook(tiny_outcome.sheets, path, source=path, in_place=True)
    assert backup_path(path).read_bytes() == original  # not our first output
    # The officer edits and saves (as a spreadsheet would): that is the new last input.
    wb = load_workbook(path)
    wb["Chương trình"]["C30"] = "ghi chú mới"
    wb.save(path)
    edited = path.read_bytes()
    assert not xlsx.is_unchanged_output(path)
    write_result_workbook(tiny_outcome.sheets, path, source=path, in_place=True)
    assert backup_path(path).read_bytes() == edited


def test_same_inputs_give_the_same_bytes(tmp_path, tiny_plan, tiny_outcome):
    specs = [s for s in tiny_outcome.sheets if s.name != "Nhật ký"]
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_result_workbook(specs, a, plan=tiny_plan)
    write_result_workbook(specs, b, plan=tiny_plan)
    assert a.read_bytes() == b.read_bytes()


# ---------------------------------------------------------------------------------------------
# Concurrency, kill -9, litter


_CHILD = """
import sys
from budgetlib.planning.validation import load_plan_data
from budgetlib.pipeline import run_allocate
from budgetlib.io.workbook import write_result_workbook
import json
plan = load_plan_data(json.loads(sys.argv[2]))
outcome = run_allocate(plan)
write_result_workbook(outcome.sheets, sys.argv[1], source=sys.argv[1], in_place=True)
"""


def test_concurrent_in_place_runs_take_turns(tmp_path, tiny_plan):
    path = tmp_path / "kehoach.xlsx"
    write_plan_workbook(tiny_plan, path)
    original = path.read_bytes()
    data = json.dumps(tiny_plan_data(), ensure_ascii=False)
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, str(path), data], stderr=subprocess.PIPE) for _ in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    assert backup_path(path).read_bytes() == original
    assert xlsx.is_unchanged_output(path)
    assert sorted(load_workbook(path).sheetnames).count("Phân bổ") == 1
    assert not [f for f in os.listdir(tmp_path) if f.startswith(TEMP_PREFIX)]


def _litter(folder: Path) -> list[str]:
    return sorted(f for f in os.listdir(folder) if f.startswith(TEMP_PREFIX) or f.endswith((".splice", ".edit")))


def test_kill_9_at_random_moments_never_loses_the_input(tmp_path, tiny_plan, tiny_outcome):
    """≥ 20 SIGKILLs at random moments of an in-place write: the workbook is always either the
    original or the complete new one with a .bak equal to the original; the next run tidies up."""
    path = tmp_path / "kehoach.xlsx"
    write_plan_workbook(tiny_plan, path)
    original = path.read_bytes()

    def child() -> int:
        pid = os.fork()
        if pid == 0:  # the child writes in place until it is done or killed
            try:
                write_result_workbook(tiny_outcome.sheets, path, source=path, in_place=True)
            finally:
                os._exit(0)
        return pid

    # How long a whole in-place write takes here and now (the machine may be busy): kills are
    # spread over that span and a little past it.
    started = time.perf_counter()
    os.waitpid(child(), 0)
    duration = time.perf_counter() - started
    rng = random.Random(20260101)
    outcomes = {"original": 0, "replaced": 0}
    for _trial in range(24):
        path.write_bytes(original)
        backup_path(path).unlink(missing_ok=True)
        pid = child()
        time.sleep(rng.uniform(0, duration * 1.2))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        now = path.read_bytes()
        if now == original:
            outcomes["original"] += 1
        else:
            outcomes["replaced"] += 1
            assert xlsx.is_unchanged_output(path), "a replaced workbook is a complete one"
            assert backup_path(path).read_bytes() == original
            load_workbook(path)
    # The next run leaves nothing behind (and removes what the killed runs left).
    write_result_workbook(tiny_outcome.sheets, path, source=path, in_place=True)
    assert _litter(tmp_path) == []
    print(f"kill -9 trials: {outcomes}")
    assert sum(outcomes.values()) == 24  # (how many landed after the rename depends on the machine's load)


def test_leftovers_of_dead_runs_are_removed(tmp_path, tiny_plan, tiny_outcome):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    leftover = tmp_path / f"{TEMP_PREFIX}{dead}.abcdef012345.kehoach.xlsx"
    leftover.write_bytes(b"half a workbook")
    mine = tmp_path / f"{TEMP_PREFIX}{os.getpid()}.abcdef012345.other.xlsx"  # a live run's file stays
    mine.write_bytes(b"busy")
    write_result_workbook(tiny_outcome.sheets, tmp_path / "kehoach.xlsx", plan=tiny_plan)
    assert not leftover.exists() and mine.exists()


# ---------------------------------------------------------------------------------------------
# Located write errors, permissions, macros


def test_output_path_that_is_a_directory(tmp_path, tiny_plan, tiny_outcome):
    target = tmp_path / "ket_qua.xlsx"
    target.mkdir()
    with pytest.raises(OutputError) as err:
        write_result_workbook(tiny_outcome.sheets, target, plan=tiny_plan)
    assert err.value.code == "output.is_directory" and str(target) in err.value.message("vi")


def _mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def full_disk(tmp_path):
    folder = tmp_path / "full"
    if not _mount_tmpfs(folder, "size=48k"):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def read_only_dir(tmp_path):
    folder = tmp_path / "ro"
    if os.geteuid() != 0:
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if not _mount_tmpfs(folder, "ro,size=16k"):
        pytest.skip("cannot mount a read-only tmpfs here")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def _cli(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "budgetlib", *args], capture_output=True, text=True, timeout=120, **kw)


def _plan_json(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(tiny_plan_data(), ensure_ascii=False), encoding="utf-8")
    return path


def test_disk_full_is_a_located_exit_3(tmp_path, full_disk):
    filler = full_disk / "filler"
    filler.write_bytes(b"\0" * 40_000)
    out = full_disk / "ket_qua.xlsx"
    done = _cli(["allocate", str(_plan_json(tmp_path)), "-o", str(out)])
    assert done.returncode == 3, done.stderr
    assert str(out) in done.stderr and "đĩa đã đầy" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert not out.exists() and _litter(full_disk) == []


def test_read_only_folder_is_a_located_exit_3(tmp_path, read_only_dir):
    out = read_only_dir / "ket_qua.xlsx"
    done = _cli(["allocate", str(_plan_json(tmp_path)), "-o", str(out), "--lang", "en"])
    assert done.returncode == 3, done.stderr
    assert str(out) in done.stderr and "read-only" in done.stderr and "Traceback" not in done.stderr


def test_file_size_limit_is_a_located_exit_3(tmp_path):
    import resource

    out = tmp_path / "ket_qua.xlsx"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    done = _cli(["allocate", str(_plan_json(tmp_path)), "-o", str(out)], preexec_fn=limit)
    assert done.returncode == 3, done.stderr
    assert str(out) in done.stderr and "giới hạn kích thước" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists() and _litter(tmp_path) == []


def test_outputs_get_the_users_umask(tmp_path, tiny_plan, tiny_outcome):
    old = os.umask(0o027)
    try:
        out = tmp_path / "ket_qua.xlsx"
        write_result_workbook(tiny_outcome.sheets, out, plan=tiny_plan)
        js = tmp_path / "ket_qua.json"
        atomic_write_text(js, "{}")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o640 and js.stat().st_mode & 0o777 == 0o640
    out.chmod(0o604)  # a replaced file keeps its own mode
    write_result_workbook(tiny_outcome.sheets, out, plan=tiny_plan)
    assert out.stat().st_mode & 0o777 == 0o604


def _xlsm(tmp_path: Path, plan) -> Path:
    """A macro-enabled planning workbook: the add-in's VBA project with the plan's sheets."""
    from budgetlib.io.workbook import plan_sheets, render_sheet

    xlam = Path(__file__).parents[1] / "budgetlib" / "addin" / "resources" / "budgetlib.xlam"
    copy = tmp_path / "addin.xlsm"  # the add-in's package, typed as a macro-enabled workbook
    with zipfile.ZipFile(xlam) as zin, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"ms-excel.addin.macroEnabled.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
            zout.writestr(item, data)
    wb = load_workbook(copy, keep_vba=True)
    for name in list(wb.sheetnames):
        del wb[name]
    for spec in plan_sheets(plan):
        render_sheet(wb, spec)
    path = tmp_path / "kehoach.xlsm"
    wb.save(path)
    return path


def test_xlsm_keeps_its_macros_and_xlsx_output_is_macro_free(tmp_path, tiny_plan, tiny_outcome):
    path = _xlsm(tmp_path, tiny_plan)
    with zipfile.ZipFile(path) as z:
        vba = z.read("xl/vbaProject.bin")
    write_result_workbook(tiny_outcome.sheets, path, source=path, in_place=True)
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/vbaProject.bin") == vba
        assert b"macroEnabled" in z.read("[Content_Types].xml")
    out = tmp_path / "kehoach_ket_qua.xlsx"
    write_result_workbook(tiny_outcome.sheets, out, source=path)
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" not in z.namelist()
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
    load_workbook(out)
