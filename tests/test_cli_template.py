"""``budgetlib template``: help with an example, messages in the user's language, --force, --units."""

from __future__ import annotations

import io
import re

import pytest

from budgetlib.cli.app import main
from budgetlib.io import load_plan
from budgetlib.io.workbook import read_workbook

from .conftest import EXAMPLES

UNITS = "Mã địa bàn,Tên địa bàn,Loại,Dân số\n303,Quận Hồng Bàng,Quận,96111\n304,Quận Ngô Quyền,Quận,165000\n"


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())  # the console wraps long lines


@pytest.mark.parametrize(("lang", "words"), [("vi", ("Ví dụ: budgetlib template", "Ghi đè")), ("en", ("Example: budgetlib template", "Overwrite"))])
def test_help_has_an_example_in_the_users_language_and_no_bool_placeholder(capsys, lang, words):
    code, text = run(capsys, "template", "--help", "--lang", lang)
    assert code == 0
    assert all(w in text for w in words)
    assert "<bool>" not in text
    assert ("Tệp Excel" in text) == (lang == "vi")


def test_blank_template_then_force(capsys, tmp_path):
    out = tmp_path / "kehoach.xlsx"
    code, text = run(capsys, "template", str(out))
    assert code == 0 and "Đã tạo" in text and out.exists()
    code, text = run(capsys, "template", str(out), "--lang", "en")
    assert code == 3 and "exists; use --force" in text
    before = out.read_bytes()
    code, text = run(capsys, "template", str(out), "--force")
    assert code == 0 and out.read_bytes() == before  # the same bytes again
    code, text = run(capsys, "template", str(out), "--force", "--lang", "en")
    assert code == 0 and "Created" in text and "(0 units)" in text
    code, text = run(capsys, "template", str(out), "--force", "true")
    assert code == 3 and "«true»" in text  # a flag takes no value, as the help shows


def test_usage_errors_before_any_work(capsys, tmp_path):
    code, text = run(capsys, "template", str(tmp_path / "x.csv"))
    assert code == 3 and ".xlsx" in text
    code, text = run(capsys, "template", str(tmp_path), "--lang", "en")
    assert code == 3  # a folder (its suffix is not .xlsx either)
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    code, text = run(capsys, "template", str(folder), "--lang", "en")
    assert code == 3 and "is a folder" in text


def test_example_with_units_from_a_csv_file(capsys, tmp_path):
    csv = tmp_path / "diaban.csv"
    csv.write_text('Mã địa bàn,Tên địa bàn,Loại,Dân số,"Số xã, phường",Ven biển,Số xã chưa lành mạnh\n'
                   "303,Quận Hồng Bàng,Quận,96111,11,0,3\n304,Quận Ngô Quyền,Quận,165000,13,1,2\n", encoding="utf-8")
    out = tmp_path / "hp.xlsx"
    code, text = run(capsys, "template", str(out), "--example", "haiphong", "--units", str(csv))
    assert code == 0 and "(2 địa bàn)" in text
    plan = read_workbook(out)
    assert [u.code for u in plan.units] == ["303", "304"] and plan.tasks == load_plan(EXAMPLES / "haiphong_2011_2015" / "plan.json").tasks


def test_units_pasted_on_standard_input(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(UNITS.replace(",", "\t")))
    out = tmp_path / "dan.xlsx"
    code, _ = run(capsys, "template", str(out), "--units", "-")
    assert code == 0 and [u.name for u in read_workbook(out).units] == ["Quận Hồng Bàng", "Quận Ngô Quyền"]


def test_units_with_mistakes_give_every_problem_and_write_nothing(capsys, tmp_path):
    csv = tmp_path / "diaban.csv"
    csv.write_text(UNITS + "305,Quận Lê Chân,Tỉnh,abc\n303,Trùng,Quận,5\n", encoding="utf-8")
    out = tmp_path / "kehoach.xlsx"
    code, text = run(capsys, "template", str(out), "-u", str(csv), "--lang", "en")
    assert code == 1 and not out.exists()
    assert "diaban.csv:4: Kind must be one of" in text and "diaban.csv:4: Population must be a number" in text
    assert "diaban.csv:5: duplicate unit code" in text


def test_the_units_file_is_never_the_output(capsys, tmp_path):
    out = tmp_path / "units.xlsx"
    out.write_bytes(b"not mine to overwrite")
    code, text = run(capsys, "template", str(out), "--units", str(out), "--force", "--lang", "en")
    assert code == 3 and "both the table of units and the file to create" in text
    assert out.read_bytes() == b"not mine to overwrite"


_VIETNAMESE = re.compile("[ăâđêôơưĂÂĐÊÔƠƯ\u0300-\u0323àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)


_PROPER_NAMES = ("Hải Phòng", "Hồng Bàng")  # place names in examples stay as they are


def _vietnamese(text: str) -> bool:
    for name in _PROPER_NAMES:
        text = text.replace(name, "")
    return bool(_VIETNAMESE.search(text))


def test_an_english_template_speaks_english():
    """Every text of a blank English workbook is English: sheet names, titles, hints, headers,
    dropdowns, the guide, the notes — but for the column that shows each header in Vietnamese."""
    from budgetlib.io.workbook import template_sheets

    found = []
    for spec in template_sheets(lang="en"):
        guide = spec.name == "Guide"
        for r, row in enumerate(spec.rows):
            for c, v in enumerate(row):
                if isinstance(v, str) and _vietnamese(v) and not (guide and c == 2 and r > 8):
                    found.append((spec.name, r + 1, c + 1, v))
        found += [(spec.name, ref, "note", text) for ref, text in spec.comments.items() if _vietnamese(text.partition("\n")[2])]
        found += [(spec.name, v.ref, "list", v.values) for v in spec.validations if any(_vietnamese(x) for x in v.values)]
        if _vietnamese(spec.name):
            found.append((spec.name, "name"))
    assert not found
