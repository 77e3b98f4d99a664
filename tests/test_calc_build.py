"""``budgetlib lo build``: byte-identical rebuilds, one source of truth for ids and labels, an
extension LibreOffice's own Python (3.7+) can run, packed sources that never drift."""

from __future__ import annotations

import ast
import io
import json
import re
import sys
import zipfile
from xml.etree import ElementTree as ET

import pytest

from budgetlib.addin.buttons import BUTTON_IDS
from budgetlib.calc import build as calc_build
from budgetlib.calc.build import RESOURCES, BuildError, build_extension, extension_files, source_dir
from budgetlib.calc.buttons import COMMANDS, GROUPS, command_url
from budgetlib.core.i18n import catalogue
from budgetlib.io.grid import RESULT_MARKER_NAME

from .conftest import ROOT

SOURCES = ROOT / "libreoffice"
OOR = "{http://openoffice.org/2001/registry}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STDLIB = set(sys.stdlib_module_names)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, bytes]:
    path = build_extension(tmp_path_factory.mktemp("oxt") / "budgetlib.oxt").path
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_rebuilds_are_byte_identical(tmp_path):
    a = build_extension(tmp_path / "a.oxt").path.read_bytes()
    (tmp_path / "sub").mkdir()
    b = build_extension(tmp_path / "sub").path  # a folder gets budgetlib.oxt
    assert b.name == "budgetlib.oxt"
    assert a == b.read_bytes()
    with zipfile.ZipFile(io.BytesIO(a)) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert z.namelist() == sorted(z.namelist())


def test_cli_build(tmp_path):
    from budgetlib.cli import main

    out = tmp_path / "x.oxt"
    assert main(["lo", "build", "-o", str(out)]) == 0
    assert out.read_bytes() == build_extension(tmp_path / "y.oxt").path.read_bytes()
    (tmp_path / "a_file").write_text("x")
    assert main(["lo", "build", "-o", str(tmp_path / "a_file" / "x.oxt")]) == 3


def test_the_python_option_only_changes_build_json():
    plain, embedded = extension_files(), extension_files(python="/opt/py/bin/python3")
    assert [k for k in plain if plain[k] != embedded[k]] == ["pythonpath/budgetlib_lo/build.json"]
    assert json.loads(embedded["pythonpath/budgetlib_lo/build.json"])["python"] == "/opt/py/bin/python3"
    assert "python" not in json.loads(plain["pythonpath/budgetlib_lo/build.json"])


def test_manifest_lists_what_is_packed(built):
    root = ET.fromstring(built["META-INF/manifest.xml"])
    entries = {e.get("{http://openoffice.org/2001/manifest}full-path"): e.get("{http://openoffice.org/2001/manifest}media-type") for e in root}
    assert entries == {
        "budgetlib_calc.py": "application/vnd.sun.star.uno-component;type=Python",
        "ProtocolHandler.xcu": "application/vnd.sun.star.configuration-data",
        "Addons.xcu": "application/vnd.sun.star.configuration-data",
        "CalcWindowState.xcu": "application/vnd.sun.star.configuration-data",
    }
    assert set(entries) <= set(built)
    desc = ET.fromstring(built["description.xml"])
    ns = {"d": "http://openoffice.org/extensions/description/2006"}
    from budgetlib import __version__

    assert desc.find("d:version", ns).get("value") == __version__
    assert desc.find("d:identifier", ns).get("value") == calc_build.IDENTIFIER
    for src in desc.find("d:extension-description", ns):
        assert src.get("{http://www.w3.org/1999/xlink}href") in built


def _items(node) -> list[str]:
    return [p.findtext("value") for item in node for p in item if p.get(f"{OOR}name") == "URL"]


def _titles(node) -> dict[str, dict[str, str]]:
    out = {}
    for item in node:
        props = {p.get(f"{OOR}name"): p for p in item}
        if "Title" in props:
            out[props["URL"].findtext("value")] = {v.get(XML_LANG): v.text for v in props["Title"]}
    return out


def test_menu_and_toolbar_have_the_ribbons_commands_in_order_with_catalogue_labels(built):
    root = ET.fromstring(built["Addons.xcu"])
    menu = root.find(f".//node[@{OOR}name='org.budgetlib.calc.menu']")
    toolbar = root.find(f".//node[@{OOR}name='org.budgetlib.calc.toolbar']")
    submenu = menu.find(f"node[@{OOR}name='Submenu']")
    expected: list[str] = []
    for i, group in enumerate(GROUPS):
        if i:
            expected.append("private:separator")
        expected += [command_url(c.id) for c in COMMANDS if c.group == group]
    assert _items(submenu) == expected == _items(toolbar)
    assert [c.id for c in COMMANDS] == list(BUTTON_IDS)  # the Excel ribbon's ids, in its order
    ribbon = (ROOT / "excel" / "customUI.xml").read_text(encoding="utf-8")
    assert re.findall(r'<button id="(\w+)"', ribbon) == list(BUTTON_IDS)
    vi, en = catalogue("vi"), catalogue("en")
    for titles in (_titles(submenu), _titles(toolbar)):
        assert titles == {command_url(c.id): {"vi": vi[f"calc.button.{c.id}"], "en-US": en[f"calc.button.{c.id}"]} for c in COMMANDS}
    assert {v.get(XML_LANG): v.text for v in menu.find(f"prop[@{OOR}name='Title']")} == {"vi": "Ngân sách", "en-US": "Budget"}
    assert vi["calc.button.btnNew"] == "Sổ mới" and vi["calc.button.btnCompare"] == "So sánh phương án"
    state = ET.fromstring(built["CalcWindowState.xcu"])
    node = state.find(f".//node[@{OOR}name='private:resource/toolbar/addon_org.budgetlib.calc.toolbar']")
    assert {v.get(XML_LANG): v.text for v in node.find(f"prop[@{OOR}name='UIName']")} == {"vi": "Ngân sách", "en-US": "Budget"}


def test_the_menu_source_is_generated_from_the_command_table():
    from budgetlib.addin.buttons import BUTTONS
    from budgetlib.addin.buttons import GROUPS as RIBBON_GROUPS
    from budgetlib.calc.menu import addons_xcu, menu_items

    assert (ROOT / "libreoffice" / "Addons.xcu").read_text(encoding="utf-8") == addons_xcu()
    assert (RESOURCES / "Addons.xcu").read_text(encoding="utf-8") == addons_xcu()
    assert [g.key for g in RIBBON_GROUPS] == list(GROUPS)  # the ribbon's groups, in its order
    assert [c.group for c in COMMANDS] == [b.group[3:].lower() for b in BUTTONS]
    items = menu_items()
    assert items[0] is not None and items[-1] is not None and items.count(None) == len(GROUPS) - 1
    assert [i for i in items if i is not None] == [c.id for c in COMMANDS]
    desk = {c.id: c.pipeline for c in COMMANDS if c.action == "desk"}
    assert desk == {b.id: b.pipeline for b in BUTTONS if b.action == "desk"}  # the same shared work behind both
    from budgetlib.pipeline import desktop

    assert all(callable(getattr(desktop, name)) for name in desk.values())


def test_protocol_handler_routes_the_menus_scheme(built):
    text = built["ProtocolHandler.xcu"].decode("utf-8")
    assert "<value>org.budgetlib.calc:*</value>" in text
    component = built["budgetlib_calc.py"].decode("utf-8")
    assert 'IMPLEMENTATION = "org.budgetlib.calc.ProtocolHandler"' in component and 'PROTOCOL = "org.budgetlib.calc:"' in component


def test_build_json_and_texts_json(built):
    info = json.loads(built["pythonpath/budgetlib_lo/build.json"])
    assert info["marker"] == RESULT_MARKER_NAME
    assert info["order"] == [c.id for c in COMMANDS]
    assert info["commands"] == {c.id: {"action": c.action, "where": c.where, "reads_book": c.reads_book} for c in COMMANDS}
    assert info["guide"] in built
    texts = json.loads(built["pythonpath/budgetlib_lo/texts.json"])
    assert set(texts) == {"vi", "en"} and set(texts["vi"]) == set(texts["en"])
    used = set()
    for path in (SOURCES / "pythonpath" / "budgetlib_lo").glob("*.py"):
        used |= set(re.findall(r'["\'](calc\.(?:lo|title|button|menu)[\w.]*)["\']', path.read_text(encoding="utf-8")))
    used.discard("calc.button.")  # texts.label() builds calc.button.<id>
    assert used and used <= set(texts["vi"]), used - set(texts["vi"])
    for c in COMMANDS:
        assert f"calc.button.{c.id}" in texts["vi"]


def test_guide_page_is_packed_with_its_images(built):
    page = built["help/HUONG_DAN.html"].decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page
    for src in re.findall(r'<img src="([^"]+)"', page):
        assert f"help/{src}" in built, src
    for h in ("Cài đặt", "Khắc phục sự cố"):
        assert h in page


def test_extension_python_runs_on_python_3_7_with_stdlib_and_uno_only():
    own = {"budgetlib_lo"}
    for path in [SOURCES / "budgetlib_calc.py", *(SOURCES / "pythonpath" / "budgetlib_lo").glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 7))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in STDLIB or top in own or top in ("uno", "unohelper", "com"), (path.name, name)
            assert not isinstance(node, ast.NamedExpr), path.name


def test_packed_sources_match_the_checkout():
    """Installed packages build from budgetlib/calc/resources; every build from a checkout refreshes
    it, and it must be committed fresh."""
    assert source_dir() == SOURCES
    for path in sorted(p for p in RESOURCES.rglob("*") if p.is_file()):
        rel = path.relative_to(RESOURCES).as_posix()
        original = SOURCES / rel if not rel.startswith("img/") else ROOT / "docs" / "img" / path.name
        assert original.is_file(), f"{rel} is packed but not in libreoffice/ any more"
        assert path.read_bytes() == original.read_bytes(), f"run `budgetlib lo build`: {rel} is stale in budgetlib/calc/resources/"
    for rel in calc_build._source_files(SOURCES):
        assert (RESOURCES / rel).is_file(), rel


def test_packed_sources_build_the_same_extension():
    assert extension_files(RESOURCES) == extension_files(SOURCES)


def test_unknown_placeholders_and_formatted_lo_texts_are_refused(monkeypatch, tmp_path):
    with pytest.raises(BuildError, match="unknown placeholder"):
        calc_build._expand("x.xcu", "<a>${wat}</a>")
    with pytest.raises(BuildError, match="not a calc"):
        calc_build._expand("x.xcu", "<a>${xcu:money.total}</a>")
    with pytest.raises(BuildError, match="well-formed"):
        calc_build._expand("x.xcu", "<a>${version}")
    assert calc_build._expand("x.xcu", "<!-- ${not expanded} --><a>${version}</a>").startswith("<!-- ${not expanded} -->")
    real = calc_build.catalogue

    def patched(lang):
        return {**real(lang), "calc.lo.bad": "tổng {amount:money}"}

    monkeypatch.setattr(calc_build, "catalogue", patched)
    with pytest.raises(BuildError, match="plain"):
        calc_build._texts()


def test_build_error_names_a_missing_image(tmp_path):
    src = tmp_path / "src"
    for rel in calc_build._source_files(SOURCES):
        dest = src / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((SOURCES / rel).read_bytes())
    (src / "HUONG_DAN.md").write_text("# Hướng dẫn\n\n![menu](img/khong_co.png)\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"khong_co\.png"):
        extension_files(src)
