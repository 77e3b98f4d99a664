"""The cycle commands end to end on the worked examples: exit codes, located messages, JSON and
workbook inputs giving the same results, and the chain's reconciliation and conflicts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from budgetlib.cli import main
from budgetlib.cycle import chain
from budgetlib.io import load_plan
from budgetlib.io.actuals import read_actuals
from budgetlib.model.actuals import Actuals, Disbursement
from budgetlib.pipeline.cycle import run_chain, run_progress, run_revise

from .cycle_support import HP_CYCLE, ROOT, TN_CHAIN

PLAN = HP_CYCLE / "plan.json"
ACTUALS = HP_CYCLE / "actuals.json"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys):
    """Run ``budgetlib ARGS`` in-process (the console-script entry ``main``) and capture its output."""

    def run(*args: str) -> Ran:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return run


def real_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BUDGETLIB_STRICT_I18N": "1"}
    return subprocess.run([sys.executable, "-m", "budgetlib", *args], cwd=ROOT, capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)


@pytest.fixture(scope="module")
def progress_h1():
    return run_progress(load_plan(PLAN), "2013H1", actuals=str(ACTUALS))


def test_progress_from_json_and_from_the_workbooks_agree(progress_h1):
    from budgetlib.io.workbook import open_book

    assert progress_h1.ok, [p.render("en") for p in progress_h1.problems]
    book = open_book(HP_CYCLE / "plan.xlsx")
    try:
        from_books = run_progress(book, "2013H1", actuals=str(HP_CYCLE / "actuals.xlsx"), source_name="plan.xlsx")
    finally:
        book.close()
    assert from_books.ok
    assert from_books.actuals.content_hash() == progress_h1.actuals.content_hash()
    a, b = progress_h1.progress.to_dict(), from_books.progress.to_dict()
    assert a == b
    assert a["illustrative"] is True
    assert [r["due"] for r in a["reports"]] == ["2013-06-20", "2013-06-30"]
    ct2 = next(i for i in a["indicators"] if i["target"] == "CT2")
    assert ct2["actual"] == 162 and ct2["expected"] == pytest.approx(163.5) and ct2["status"] == "off_track"


def test_the_cli_prints_the_report_in_both_languages(cli, tmp_path):
    out = tmp_path / "td.xlsx"
    vi = cli("progress", str(PLAN), "--actuals", str(ACTUALS), "--period", "2013H1", "-o", str(out))
    assert vi.returncode == 0, vi.stderr
    assert "Tiến độ giải ngân 6 tháng đầu năm 2013" in vi.stdout and "hạn nộp 20/06/2013" in vi.stdout and "CHẬM so với lộ trình" in vi.stdout
    en = cli("progress", str(PLAN), "--actuals", str(ACTUALS), "--period", "2013H1", "--lang", "en")
    assert en.returncode == 0 and "due 20/06/2013" in en.stdout and "BEHIND schedule" in en.stdout
    assert "Tiến độ" not in en.stdout
    from openpyxl import load_workbook

    names = load_workbook(out, read_only=True).sheetnames
    assert names[:4] == ["Tiến độ", "Tiến độ nhiệm vụ", "Tiến độ chỉ tiêu", "Báo cáo 6 tháng"] and names[-1] == "Nhật ký"


def _bad_actuals(tmp_path: Path) -> Path:
    doc = Actuals.from_json(ACTUALS.read_text(encoding="utf-8"))
    first = doc.disbursements[0]
    bad = [
        first.model_copy(update={"amount": 10**12, "period": first.period}),  # over-disbursed (replaces the real record)
        *doc.disbursements[1:],
        Disbursement(unit="999", task="TT", source="NS_TP", period="2013H1", amount=1),
        Disbursement(unit="303", task="TT", source="NS_TP", period="2016", amount=1),
    ]
    data = json.loads(doc.model_copy(update={"disbursements": bad}).to_json())
    data["disbursements"].append({"unit": "303", "task": "KT", "source": "NS_TP", "period": "2013H1", "amount": -5})
    data["disbursements"].append({"unit": "303", "task": "KT", "source": "NS_TP", "period": "2013Q3", "amount": 5})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_bad_actuals_give_every_located_message_and_exit_1(cli, tmp_path):
    path = _bad_actuals(tmp_path)
    run = real_cli("progress", str(PLAN), "--actuals", str(path), "--period", "2013H1")  # the installed entry point
    assert run.returncode == 1, run.stdout + run.stderr
    err = run.stderr
    read = read_actuals(path, plan="HP-PCMD-2011-2015")
    index = {d.unit: i for i, d in enumerate(read.actuals.disbursements)}
    assert "disbursements[" in err
    assert "không có trong kế hoạch" in err and "«999»" in err  # unknown unit
    assert "nằm ngoài giai đoạn chương trình 2011–2015" in err  # period outside
    assert "không được âm" in err  # negative
    assert "không đọc được kỳ báo cáo «2013Q3»" in err  # malformed period
    assert index  # the file was readable
    # Structural errors stop before the allocation is compared; alone, the over-disbursement is reported too.
    doc = Actuals.from_json(ACTUALS.read_text(encoding="utf-8"))
    over = doc.model_copy(update={"disbursements": [doc.disbursements[0].model_copy(update={"amount": 10**12}), *doc.disbursements[1:]]})
    (tmp_path / "over.json").write_text(over.to_json(), encoding="utf-8")
    run = cli("progress", str(PLAN), "--actuals", str(tmp_path / "over.json"), "--period", "2013H1", "--lang", "en")
    assert run.returncode == 1
    assert "more than the allocation" in run.stderr and "too much" in run.stderr
    assert run.stderr.count("more than the allocation") == 1  # later years are not checked against a replay built on it


def test_bad_actuals_in_a_workbook_are_located_at_their_cells(cli, tmp_path):
    from openpyxl import load_workbook

    src = tmp_path / "actuals.xlsx"
    shutil.copy(HP_CYCLE / "actuals.xlsx", src)
    wb = load_workbook(src)
    ws = wb["Thực hiện"]
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Mã địa bàn")
    ws.cell(header + 1, 7).value = -1000  # Đã giải ngân
    ws.cell(header + 2, 1).value = "999"
    ws.cell(header + 3, 5).value = "2016"
    wb.save(src)
    run = cli("progress", str(PLAN), "--actuals", str(src), "--period", "2013H1")
    assert run.returncode == 1
    assert f"Thực hiện!G{header + 1}" in run.stderr
    assert f"Thực hiện!A{header + 2}" in run.stderr
    assert f"Thực hiện!E{header + 3}" in run.stderr


def test_revise_saves_the_state_that_carry_over_continues_from(cli, tmp_path):
    state = tmp_path / "rev.json"
    rev = cli("revise", str(PLAN), "--actuals", str(ACTUALS), "--period", "2013H1", "--save", str(state), "--json", str(tmp_path / "rev_result.json"))
    assert rev.returncode == 0, rev.stderr
    assert "ước thực hiện cả năm của đơn vị" in rev.stdout
    result = json.loads((tmp_path / "rev_result.json").read_text(encoding="utf-8"))
    assert result["revision"]["ok"] and sum(u["change"] for u in result["revision"]["units"]) == 0
    assert all(c["revised"] >= c["disbursed"] for c in result["revision"]["cells"])
    # The second half of 2013 was disbursed against the revised allocation: closing 2013 needs it.
    co = cli("carry-over", str(PLAN), "--actuals", str(ACTUALS), "--year", "2013", "--allocation", str(state), "--save", str(tmp_path / "2014.json"))
    assert co.returncode == 0, co.stderr
    assert "Khóa sổ năm 2013" in co.stdout and "Phân bổ năm 2014 sau khi khóa sổ năm 2013" in co.stdout
    without = cli("carry-over", str(PLAN), "--actuals", str(ACTUALS), "--year", "2013", "--lang", "en")
    assert without.returncode == 1 and "more than the allocation" in without.stderr  # the original 2013 split is not the one in force


def test_a_revision_that_contradicts_the_plan_is_infeasible_and_says_why(tmp_path):
    doc = Actuals.from_json(ACTUALS.read_text(encoding="utf-8"))
    # Bạch Long Vĩ says it will spend only half its propaganda money: below the plan's 20 million floor.
    upd = [d.model_copy(update={"forecast": d.amount}) if (d.unit, d.task, str(d.period)) == ("318", "TT", "2013H1") else d for d in doc.disbursements]
    outcome = run_revise(load_plan(PLAN), "2013H1", actuals=doc.model_copy(update={"disbursements": upd}))
    assert outcome.exit_code == 2
    text = " ".join(p.message("vi") for p in outcome.problems)
    assert "Sàn tuyên truyền 20 triệu đồng" in text and "Ước thực hiện cả năm 2013: Huyện Bạch Long Vĩ – TT" in text


def test_usage_errors_exit_3(cli):
    assert cli("revise", str(PLAN), "--actuals", str(ACTUALS), "--period", "2013").returncode == 3
    assert cli("progress", str(PLAN), "--actuals", str(ACTUALS), "--period", "2013Q2").returncode == 3
    assert cli("progress", str(PLAN), "--actuals", str(ACTUALS), "--period", "2019").returncode == 3


def test_the_chain_example_reconciles_from_json_and_workbooks(cli, tmp_path):
    a = run_chain([str(TN_CHAIN)])
    b = run_chain([str(TN_CHAIN / "xlsx")])
    assert a.exit_code == 0 and b.exit_code == 0, [p.render("en") for p in a.problems]
    assert a.to_dict()["chain"] == b.to_dict()["chain"]
    rows = a.carry.rows
    assert rows and all(r.from_above == r.allocated_below for r in rows)
    province = a.carry.nodes[0].allocation
    assert sum(r.from_above for r in rows if r.unit in ("705", "706")) == int(province.by("unit")[[province.units.index("705"), province.units.index("706")]].sum())
    run = cli("chain", str(TN_CHAIN), "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "huyen_tan_chau_tu_cap_tren.json").exists() and (tmp_path / "out" / "lien_cap.xlsx").exists()
    fed = load_plan(tmp_path / "out" / "huyen_tan_chau_tu_cap_tren.json")
    province_mh = int(province.amounts[province.units.index("706"), province.tasks.index("MH")].sum())
    assert sum(ln.amount for ln in fed.budget_lines if ln.source == "NS_TINH" and ln.task == "MH") == province_mh == 100_000_000


def test_a_conflict_at_commune_level_names_the_district_and_the_level():
    plans = [(p.name, load_plan(p)) for p in sorted(TN_CHAIN.glob("*.json"))]
    tinh = next(p for n, p in plans if n == "tinh.json")
    # The province gives the pilot model 80 million; Tân Châu's own plan earmarks 100 million for it.
    cons = [c.model_copy(update={"amount": 80_000_000}) if c.type == "earmark" else c for c in tinh.allocation.constraints]
    lines = [ln.model_copy(update={"amount": 80_000_000}) if ln.task == "MH" else ln for ln in tinh.budget_lines]
    total = sum(ln.amount for ln in lines)
    tinh = tinh.model_copy(update={"allocation": tinh.allocation.model_copy(update={"constraints": cons}), "budget_lines": lines,
                                   "program": tinh.program.model_copy(update={"total": total})})
    result = chain([(n, tinh if n == "tinh.json" else p) for n, p in plans])
    assert result.infeasible
    p = next(p for p in result.problems if p.code == "cycle.chain.infeasible")
    assert p.source.file == "huyen_tan_chau.json"
    assert "kế hoạch cấp xã/phường của Huyện Tân Châu (706)" in p.message("vi")
    assert "the commune-level plan of Huyện Tân Châu (706)" in p.message("en")
    assert any("Thị trấn Tân Châu" in q.message("vi") for q in result.problems if q.code == "cycle.chain.conflict")


def test_the_plan_workbook_can_hold_its_own_actuals_sheets(cli, tmp_path):
    from budgetlib.cycle import original_state
    from budgetlib.io.workbook import write_plan_workbook
    from budgetlib.io.workbook.actuals import actuals_sheets

    plan = load_plan(PLAN)
    doc = Actuals.from_json(ACTUALS.read_text(encoding="utf-8"))
    book = write_plan_workbook(plan, tmp_path / "kehoach.xlsx", extra=actuals_sheets(plan, original_state(plan), actuals=doc))
    run = cli("progress", str(book), "--period", "2013H1", "--json", str(tmp_path / "p.json"), "-q")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "kehoach_tien_do.xlsx").exists()  # default output beside a workbook plan
    got = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert got["actuals_sha256"] == doc.content_hash()


def test_english_messages_of_the_cycle_have_no_vietnamese_words():
    import re
    import tomllib

    from budgetlib.core.i18n import catalogue

    letters = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
    own = tomllib.loads((ROOT / "budgetlib" / "locales" / "en" / "cycle.toml").read_text(encoding="utf-8"))

    def codes(table, prefix=""):
        for k, v in table.items():
            yield from codes(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"]

    en = catalogue("en")
    assert [c for c in codes(own) if letters.search(en[c])] == []
