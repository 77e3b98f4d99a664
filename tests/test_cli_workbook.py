"""End to end: ``budgetlib template | allocate | report`` and ``validate`` on workbooks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from budgetlib.cli import main
from budgetlib.io import load_plan
from budgetlib.io.workbook import OpenpyxlBook, read_workbook
from budgetlib.io.workbook.results import read_allocation_records

from .conftest import EXAMPLES, tiny_plan_data

HAIPHONG = EXAMPLES / "haiphong_2011_2015" / "plan.json"


@pytest.fixture(scope="module")
def plan_xlsx(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "kehoach.xlsx"
    assert main(["template", str(path), "--example", "haiphong"]) == 0
    return path


def test_template_from_example_name_and_json_path(tmp_path, plan_xlsx, capsys):
    assert read_workbook(plan_xlsx) == load_plan(HAIPHONG)
    en = tmp_path / "plan_en.xlsx"
    assert main(["template", str(en), "--example", str(HAIPHONG), "--lang", "en"]) == 0
    assert load_workbook(en, read_only=True).sheetnames[:3] == ["Guide", "Program", "Funding sources"]
    assert main(["template", str(en), "--example", "haiphong"]) == 3  # exists: --force needed
    assert main(["template", str(en), "--example", "no_such_place"]) == 3
    blank = tmp_path / "blank.xlsx"
    assert main(["template", str(blank)]) == 0
    assert main(["validate", str(blank)]) == 0


def test_validate_workbook(plan_xlsx, capsys):
    assert main(["validate", str(plan_xlsx)]) == 0
    assert "Kế hoạch hợp lệ" in capsys.readouterr().out


def test_allocate_workbook_default_output_and_json(tmp_path, plan_xlsx, capsys):
    src = tmp_path / "kehoach.xlsx"
    src.write_bytes(plan_xlsx.read_bytes())
    js = tmp_path / "ket_qua.json"
    assert main(["allocate", str(src), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "Theo địa bàn" in out and "Tổng cộng" in out and "CÓ LỜI GIẢI" in out
    result = tmp_path / "kehoach_ket_qua.xlsx"
    assert result.exists()
    data = json.loads(js.read_text(encoding="utf-8"))
    expected = {(r["unit"], r["task"], r["year"], r["source"]): r["amount"] for r in data["allocations"]}
    assert read_allocation_records(OpenpyxlBook(result)) == expected
    assert data["total"] == 22_500_000_000


def test_allocate_json_plan_with_policy_years_and_output(tmp_path, capsys):
    out = tmp_path / "tl.xlsx"
    plan = tmp_path / "tiny.json"
    plan.write_text(json.dumps(tiny_plan_data(), ensure_ascii=False), encoding="utf-8")
    code = main(["allocate", str(plan), "--policy", "proportional", "--year", "2021", "-o", str(out), "-q", "--lang", "en"])
    assert code == 0, capsys.readouterr()
    names = load_workbook(out, read_only=True).sheetnames
    assert "Year 2021" in names and "Year 2022" not in names and "Program" in names


def test_allocate_invalid_workbook_exit_1_with_cells(tmp_path, plan_xlsx, capsys):
    bad = tmp_path / "bad.xlsx"
    wb = load_workbook(plan_xlsx)
    wb["Địa bàn"]["E5"] = "abc"
    wb.save(bad)
    assert main(["allocate", str(bad)]) == 1
    assert "Địa bàn!E5" in capsys.readouterr().err
    # The error sheet is written beside the input, input sheets untouched.
    errors = load_workbook(tmp_path / "bad_ket_qua.xlsx", read_only=True)["Lỗi"]
    assert any(row[0] == "Địa bàn!E5" for row in errors.iter_rows(values_only=True))
    assert main(["validate", str(bad), "--lang", "en"]) == 1


def _infeasible_json(tmp_path):
    data = json.loads(HAIPHONG.read_text(encoding="utf-8"))
    data["allocation"]["constraints"] = [{"type": "floor", "name": "Sàn quá cao", "amount": 10_000_000_000}]
    path = tmp_path / "khong_kha_thi.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_allocate_infeasible_exit_2(tmp_path, capsys):
    assert main(["allocate", str(_infeasible_json(tmp_path)), "-o", str(tmp_path / "kq.xlsx")]) == 2
    captured = capsys.readouterr()
    assert "Sàn quá cao" in captured.out + captured.err
    assert "Giải thích" in load_workbook(tmp_path / "kq.xlsx", read_only=True).sheetnames


def test_batch_folder_summary_and_worst_exit_code(tmp_path, plan_xlsx, capsys):
    folder = tmp_path / "ke_hoach"
    folder.mkdir()
    (folder / "a.xlsx").write_bytes(plan_xlsx.read_bytes())
    (folder / "b.json").write_text(json.dumps(tiny_plan_data(), ensure_ascii=False), encoding="utf-8")
    _infeasible_json(tmp_path).rename(folder / "c.json")
    outdir = tmp_path / "ket_qua"
    assert main(["allocate", str(folder), "-o", str(outdir), "--json", str(outdir), "--workers", "1"]) == 2
    out = capsys.readouterr().out
    assert "a.xlsx" in out and "b.json" in out and "không khả thi" in out
    assert {p.name for p in outdir.iterdir()} >= {"a_ket_qua.xlsx", "b_ket_qua.xlsx", "a_ket_qua.json", "b_ket_qua.json", "c_ket_qua.xlsx"}


def test_in_place_and_locked(tmp_path, plan_xlsx, capsys):
    src = tmp_path / "kehoach.xlsx"
    src.write_bytes(plan_xlsx.read_bytes())
    assert main(["allocate", str(src), "--in-place", "-q"]) == 0
    assert "Phân bổ" in load_workbook(src, read_only=True).sheetnames
    assert (tmp_path / "kehoach.bak.xlsx").exists()
    before = src.read_bytes()
    (tmp_path / "~$kehoach.xlsx").write_bytes(b"")
    assert main(["allocate", str(src), "--in-place", "-q", "--lang", "en"]) == 3
    assert "open in another program" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_report_and_usage_errors(plan_xlsx, capsys):
    assert main(["report", str(plan_xlsx), "--by", "unit", "--by", "year"]) == 0
    out = capsys.readouterr().out
    assert "Theo địa bàn" in out and "Theo năm" in out and "Theo nhiệm vụ" not in out
    assert main(["allocate", str(plan_xlsx), "--policy", "fastest"]) == 3
    assert main(["report", str(plan_xlsx), "--by", "agency"]) == 3


def test_console_script_runs_allocate(tmp_path, plan_xlsx):
    out = subprocess.run(
        [sys.executable, "-m", "budgetlib", "allocate", str(HAIPHONG), "-q", "--lang", "en"], capture_output=True, text=True, encoding="utf-8"
    )
    assert out.returncode == 0, out.stderr
    assert "SOLVED" in out.stdout.upper() or "optimal" in out.stdout.lower() or "Total allocated" in out.stdout or "allocated" in out.stdout.lower()


# --- issue 10: outputs never collide with inputs, messages not markup, usage errors -------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["{hp}", "-o", "{hp}"], ["hp.json"]),
        (["{hpx}", "--json", "{hpx}"], ["hp.xlsx"]),
        (["{hp}", "--json", "{hp}"], ["hp.json"]),
        (["{hp}", "-o", "{dir}"], ["{dir}"]),
        (["{hp}", "-o", "{dir}/kq.csv"], ["kq.csv", ".xlsx"]),
        (["{hp}", "-o", "{dir}/kq.xlsx", "--json", "{dir}/kq.xlsx"], ["kq.xlsx"]),
    ],
)
def test_outputs_never_overwrite_inputs_or_each_other(tmp_path, plan_xlsx, capsys, args, named):
    hp = tmp_path / "hp.json"
    hp.write_text(HAIPHONG.read_text(encoding="utf-8"), encoding="utf-8")
    hpx = tmp_path / "hp.xlsx"
    hpx.write_bytes(plan_xlsx.read_bytes())
    before = {p: p.read_bytes() for p in (hp, hpx)}
    fill = lambda a: a.format(hp=hp, hpx=hpx, dir=tmp_path)  # noqa: E731
    assert main(["allocate", *map(fill, args), "-q"]) == 3
    err = capsys.readouterr().err
    for n in named:
        assert fill(n) in err.replace("\n", "")
    assert {p: p.read_bytes() for p in (hp, hpx)} == before
    assert not (tmp_path / "kq.csv").exists() and not (tmp_path / "kq.xlsx").exists()


def test_missing_file_is_the_same_usage_error_for_every_command(tmp_path, capsys):
    missing = str(tmp_path / "khong_co.xlsx")
    assert main(["allocate", missing]) == 3
    assert main(["scenarios", missing]) == 3
    assert main(["allocate", missing, str(tmp_path)]) == 3  # in a batch too
    assert "khong_co.xlsx" in capsys.readouterr().err


def test_names_print_as_typed_and_quiet_prints_only_what_matters(tmp_path, capsys):
    data = tiny_plan_data()
    data["units"][0]["name"] = "Quận [dự thảo] [bold]Một[/]"
    plan = tmp_path / "kh.json"
    plan.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["allocate", str(plan)]) == 0
    assert "Quận [dự thảo] [bold]Một[/]" in capsys.readouterr().out
    assert main(["allocate", str(plan), "-q", "-o", str(tmp_path / "kq.xlsx"), "--lang", "en"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["Allocated 1,200,000,000 VND", f"✓ Wrote {tmp_path / 'kq.xlsx'}"]


def test_year_outside_the_program_is_a_usage_error(tmp_path, plan_xlsx, capsys):
    src = tmp_path / "kehoach.xlsx"
    src.write_bytes(plan_xlsx.read_bytes())
    assert main(["allocate", str(src), "--year", "2019", "-q"]) == 3
    assert "2019" in capsys.readouterr().err
    assert not (tmp_path / "kehoach_ket_qua.xlsx").exists()


@pytest.mark.parametrize("command", ["allocate", "scenarios"])
def test_help_screens_show_examples(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"budgetlib {command} " in out and ("Ví dụ" in out or "Examples" in out)


def test_a_failed_write_prints_no_exception_ignored_tracebacks(tmp_path):
    """A write that fails (file-size limit) leaves no "Exception ignored" noise after the message."""
    script = (
        "import resource, sys\n"
        "from budgetlib import pipeline\n"
        "from budgetlib.io.workbook import write_result_workbook\n"
        f"o = pipeline.run_allocate(pipeline.load_book_or_plan({str(HAIPHONG)!r}))\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))\n"
        "try:\n"
        f"    write_result_workbook(o.sheets, {str(tmp_path / 'big.xlsx')!r}, plan=o.plan)\n"
        "except OSError as exc:\n"
        "    print('write failed:', exc.errno, file=sys.stderr)\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3 and "write failed: 27" in done.stderr, done.stderr
    assert "Exception ignored" not in done.stderr
