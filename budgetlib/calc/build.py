"""Build ``budgetlib.oxt``, the LibreOffice extension, from its text sources — byte for byte the same
every time for the same sources and budgetlib version.

Sources (``libreoffice/`` in a checkout; copies in ``budgetlib/calc/resources/`` for installed
packages, refreshed by every build from a checkout and checked by a test):

* ``description.xml``, ``META-INF/manifest.xml``, ``ProtocolHandler.xcu``,
  ``CalcWindowState.xcu`` (the toolbar's name and place), and ``Addons.xcu`` (menu and toolbar),
  which is generated from the command table (:mod:`budgetlib.calc.menu`) and written back to
  ``libreoffice/`` by every build from a checkout;
* ``budgetlib_calc.py`` (the protocol handler) and ``pythonpath/budgetlib_lo/*.py``;
* ``HUONG_DAN.md``, the officers' guide, and the screenshots it shows.

What the build adds, so budgetlib stays the one source of truth:

* ``${version}`` → budgetlib's version; ``${xcu:CODE}`` → the ``<value xml:lang="vi">`` and
  ``<value xml:lang="en-US">`` texts of catalogue code ``CODE``; ``${names:CODE}`` → the same as
  ``<name lang=…>`` (``description.xml``);
* ``pythonpath/budgetlib_lo/texts.json`` — the catalogue entries the extension shows by itself
  (``calc.lo.*``, ``calc.button.*``, ``calc.menu.*``, ``calc.title``), in both languages;
* ``pythonpath/budgetlib_lo/build.json`` — version, protocol, commands, the result-sheet marker
  (and, when built with ``--python``, the interpreter to run budgetlib with);
* ``description/{vi,en}.txt`` and ``help/HUONG_DAN.html`` (with ``help/img/*.png``).

The archive is written with fixed timestamps and attributes (:mod:`budgetlib.io.reproducible`).
"""

from __future__ import annotations

import io
import json
import re
import string
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.dom import minidom
from xml.sax.saxutils import escape

from .._version import __version__
from ..core.i18n import catalogue
from ..io.grid import RESULT_MARKER_NAME
from ..io.reproducible import FIXED_ZIP_TIME, repack_zip
from .buttons import COMMANDS, PROTOCOL
from .guide import image_links, markdown_to_html, packed_name
from .menu import addons_xcu
from .protocol import PROTOCOL_VERSION

__all__ = [
    "EXTENSION_NAME",
    "IDENTIFIER",
    "BuildError",
    "BuildResult",
    "source_dir",
    "extension_files",
    "build_extension",
    "default_output",
    "sync_resources",
    "RESOURCES",
]

EXTENSION_NAME = "budgetlib.oxt"
IDENTIFIER = "org.budgetlib.calc"
GUIDE = "HUONG_DAN.md"
GUIDE_PAGE = "help/HUONG_DAN.html"
MENU_SOURCE = "Addons.xcu"  # generated from the command table (budgetlib.calc.menu)
_TEMPLATED = ("description.xml", "Addons.xcu", "CalcWindowState.xcu")
_COPIED = ("META-INF/manifest.xml", "ProtocolHandler.xcu", "budgetlib_calc.py")
_PACKAGE = "pythonpath/budgetlib_lo"
_EXPORTED = re.compile(r"^calc\.(lo|button|menu)\.|^calc\.title$")
_PLACEHOLDER = re.compile(r"\$\{([a-z]+)(?::([A-Za-z0-9_.]+))?\}")
_LANGS = (("vi", "vi"), ("en", "en-US"))  # catalogue language → LibreOffice xml:lang

_HERE = Path(__file__).resolve().parent
RESOURCES = _HERE / "resources"


class BuildError(ValueError):
    """The sources cannot make an extension (an unknown placeholder, malformed XML, …)."""


@dataclass(frozen=True)
class BuildResult:
    path: Path
    version: str
    sources: Path
    files: tuple[str, ...]


def _checkout() -> Path:
    return _HERE.parent.parent / "libreoffice"


def source_dir() -> Path:
    """``libreoffice/`` of the source checkout if there is one, else the packaged copies."""
    checkout = _checkout()
    if (checkout / "Addons.xcu").is_file() and (checkout / "description.xml").is_file():
        return checkout
    return RESOURCES


def default_output() -> Path:
    return Path.cwd() / EXTENSION_NAME


def _source_files(src: Path) -> list[str]:
    """Relative paths of every source file the extension is built from (sorted)."""
    files = [*_TEMPLATED, *_COPIED, GUIDE]
    files += sorted(p.relative_to(src).as_posix() for p in (src / _PACKAGE).glob("*.py"))
    return sorted(files)


def _texts() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for lang, _ in _LANGS:
        entries = {code: text for code, text in catalogue(lang).items() if _EXPORTED.search(code)}
        for code, text in entries.items():
            for _, name, spec, conversion in string.Formatter().parse(text):
                if name is not None and (spec or conversion or not name.isidentifier()):
                    raise BuildError(f"{lang}/{code}: the extension only fills plain {{name}} placeholders, not {{{name}:{spec}}}")
        out[lang] = dict(sorted(entries.items()))
    return out


def _expand(name: str, text: str) -> str:
    """Fill the placeholders of one XML source (comments are left as written)."""
    texts = {lang: catalogue(lang) for lang, _ in _LANGS}

    def one(m: re.Match[str]) -> str:
        kind, code = m.group(1), m.group(2)
        if kind == "version" and code is None:
            return __version__
        if kind in ("xcu", "names") and code:
            values = []
            for lang, xml_lang in _LANGS:
                if not code.startswith("calc.") or code not in texts[lang]:
                    raise BuildError(f"{name}: {m.group(0)} is not a calc.* code of the {lang} catalogue")
                value = escape(texts[lang][code])
                values.append(
                    f'<value xml:lang="{xml_lang}">{value}</value>' if kind == "xcu" else f'<name lang="{xml_lang}">{value}</name>'
                )
            return "".join(values)
        raise BuildError(f"{name}: unknown placeholder {m.group(0)}")

    parts = re.split(r"(<!--.*?-->)", text, flags=re.S)
    out = "".join(part if part.startswith("<!--") else _PLACEHOLDER.sub(one, part) for part in parts)
    try:
        minidom.parseString(out.encode("utf-8"))
    except Exception as exc:  # expat's errors have no common base
        raise BuildError(f"{name}: not well-formed XML after expansion: {exc}") from None
    return out


def _build_info(python: str | None) -> dict[str, object]:
    info: dict[str, object] = {
        "identifier": IDENTIFIER,
        "version": __version__,
        "protocol": PROTOCOL_VERSION,
        "url_protocol": PROTOCOL,
        "marker": RESULT_MARKER_NAME,
        "guide": GUIDE_PAGE,
        "order": [c.id for c in COMMANDS],
        "commands": {c.id: {"action": c.action, "where": c.where, "reads_book": c.reads_book} for c in COMMANDS},
    }
    if python:
        info["python"] = python
    return info


def _json(obj: object) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def extension_files(src: Path | None = None, *, python: str | None = None) -> dict[str, bytes]:
    """Every file of the extension, path → bytes (what :func:`build_extension` zips). ``python``
    is written into ``build.json`` as the interpreter to run budgetlib with (for shared installs,
    where no per-user settings file says it)."""
    src = src or source_dir()
    files: dict[str, bytes] = {}
    for name in _TEMPLATED:
        text = addons_xcu() if name == MENU_SOURCE else (src / name).read_text(encoding="utf-8")
        files[name] = _expand(name, text).encode("utf-8")
    for name in _COPIED:
        files[name] = (src / name).read_bytes()
    for path in sorted((src / _PACKAGE).glob("*.py")):
        files[f"{_PACKAGE}/{path.name}"] = path.read_bytes()
    files[f"{_PACKAGE}/texts.json"] = _json(_texts())
    files[f"{_PACKAGE}/build.json"] = _json(_build_info(python))
    for lang, _ in _LANGS:
        files[f"description/{lang}.txt"] = (catalogue(lang)["calc.extension.description"] + "\n").encode("utf-8")
    md = (src / GUIDE).read_text(encoding="utf-8")
    images: dict[str, str] = {}
    for target in image_links(md):
        image = (src / target).resolve() if src == _checkout() else src / packed_name(target)
        if not image.is_file():
            raise BuildError(f"{GUIDE}: image {target} not found ({image})")
        files[f"help/{packed_name(target)}"] = image.read_bytes()
        images[target] = packed_name(target)
    title = next((line.lstrip("# ").strip() for line in md.splitlines() if line.startswith("# ")), "budgetlib")
    files[GUIDE_PAGE] = markdown_to_html(md, title=title, images=images).encode("utf-8")
    return dict(sorted(files.items()))


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return repack_zip(buf.getvalue(), fix_core_dates=False)


def sync_resources(src: Path | None = None) -> list[str]:
    """Refresh the generated menu (``Addons.xcu``) and the packaged copies of the sources from a
    checkout; the paths that changed."""
    src = src or _checkout()
    changed: list[str] = []
    menu = addons_xcu().encode("utf-8")
    if not (src / MENU_SOURCE).is_file() or (src / MENU_SOURCE).read_bytes() != menu:
        (src / MENU_SOURCE).write_bytes(menu)
    wanted: dict[str, bytes] = {name: (src / name).read_bytes() for name in _source_files(src)}
    md = wanted[GUIDE].decode("utf-8")
    for target in image_links(md):
        wanted[packed_name(target)] = (src / target).resolve().read_bytes()
    for name, data in sorted(wanted.items()):
        dest = RESOURCES / name
        if not dest.is_file() or dest.read_bytes() != data:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            changed.append(name)
    return changed


def build_extension(output: str | Path | None = None, *, src: Path | None = None, python: str | None = None) -> BuildResult:
    """Write ``budgetlib.oxt`` (atomically) and return what was built."""
    from ..io.atomic import atomic_path

    src = src or source_dir()
    if src == _checkout():
        sync_resources(src)
    files = extension_files(src, python=python)
    output = Path(output) if output is not None else default_output()
    if output.is_dir():
        output = output / EXTENSION_NAME
    data = _zip(files)
    with atomic_path(output) as tmp:
        tmp.write_bytes(data)
    return BuildResult(output, __version__, src, tuple(files))
