"""Screenshots of the extension in LibreOffice Calc, for the officers' guide (``docs/img/calc_*.png``).

Runs a real LibreOffice with a GUI on a virtual X display (Xvfb), installs the freshly built
extension into a throw-away profile with a Vietnamese UI, opens the Hải Phòng example, clicks
"Phân bổ" through its menu URL, and saves:

* ``calc_menu.png`` — the "Ngân sách" menu opened, and the toolbar;
* ``calc_dialog.png`` — the dialog after "Phân bổ";
* ``calc_result.png`` — the Tổng hợp sheet with its chart;

and checks that one Undo takes the whole result back (headless LibreOffice cannot undo a sheet
insertion, so the test suite cannot).

Needs Xvfb, xdotool and ImageMagick (``apt install xvfb xdotool imagemagick``) and a LibreOffice
*with* a GUI: the ``-nogui`` build CI installs cannot draw windows. Point ``--soffice`` at one
(``apt install libreoffice-calc libreoffice-l10n-vi``, or an unpacked copy of those packages)::

    PYTHONPATH=. python libreoffice/screenshots.py --soffice /opt/lo-gui/tree/program/soffice
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "libreoffice" / "devtools"))
sys.path.insert(0, str(ROOT))

import office as lo  # noqa: E402

WIDTH, HEIGHT = 1280, 800


def _x(display: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, check=False)


def _shot(display: str, dest: Path, *, crop: str | None = None) -> None:
    args = ["import", "-window", "root"]
    if crop:
        args += ["-crop", crop, "+repage"]
    done = _x(display, *args, "-strip", str(dest))
    if done.returncode != 0:
        raise RuntimeError(f"import failed: {done.stderr}")
    print(f"wrote {dest}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soffice", default=os.environ.get("BUDGETLIB_SCREENSHOT_SOFFICE") or lo.soffice_path())
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    for tool in ("Xvfb", "xdotool", "import"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt install xvfb xdotool imagemagick", file=sys.stderr)
            return 3
    from budgetlib.calc.build import build_extension

    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("calc_menu.png", "calc_result.png"):  # first run: the guide (packed) shows them
        if not (args.out / name).exists():
            subprocess.run(["convert", "-size", "1x1", "xc:white", str(args.out / name)], check=True)
    work = Path(tempfile.mkdtemp(prefix="budgetlib-shots-"))
    display = f":{lo.free_port() % 400 + 100}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{WIDTH}x{HEIGHT}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        oxt = build_extension(work / "budgetlib.oxt").path
        config = work / "libreoffice.json"
        config.write_text(json.dumps({"python": sys.executable}), encoding="utf-8")
        env = {"BUDGETLIB_LO_CONFIG": str(config), "BUDGETLIB_LO_LOG": str(work / "lo.log"), "PYTHONPATH": str(ROOT),
               "BUDGETLIB_PYTHON": None, "BUDGETLIB_LANG": None, "SAL_USE_VCLPLUGIN": "gen"}
        plan = work / "plan.xlsx"
        shutil.copyfile(ROOT / "examples" / "haiphong_2011_2015" / "plan.xlsx", plan)
        with lo.Office(work, oxt, env=env, headless=False, display=display, soffice=args.soffice, ui_locale="vi",
                       system_locale="vi-VN") as office:
            doc = office.call("open", path=str(plan), hidden=False)["doc"]
            office.call("window", doc=doc, x=0, y=0, width=WIDTH, height=HEIGHT)
            office.call("activate", doc=doc, sheet="Địa bàn")
            time.sleep(2.0)

            def answer_dialog() -> None:
                log = work / "lo.log"
                deadline = time.time() + 120
                while time.time() < deadline and not (log.exists() and " DIALOG " in log.read_text(encoding="utf-8")):
                    time.sleep(0.3)
                time.sleep(1.5)
                _shot(display, args.out / "calc_dialog.png")
                # No window manager, so no keyboard focus: click the dialog's OK button.
                window = _x(display, "xdotool", "search", "--name", "budgetlib").stdout.split()[-1]
                geometry = dict(item.split("=") for item in _x(display, "xdotool", "getwindowgeometry", "--shell", window).stdout.split())
                x = int(geometry["X"]) + int(geometry["WIDTH"]) // 2
                y = int(geometry["Y"]) + int(geometry["HEIGHT"]) - 17
                _x(display, "xdotool", "mousemove", str(x), str(y), "sleep", "0.3", "click", "1")

            helper = threading.Thread(target=answer_dialog)
            helper.start()
            office.call("dispatch", doc=doc, url="org.budgetlib.calc:btnAllocate")
            helper.join(timeout=120)
            office.call("activate", doc=doc, sheet="Tổng hợp")
            time.sleep(2.0)
            _shot(display, args.out / "calc_result.png")
            # The menu: F10 focuses the menu bar; the add-on menu sits after "Công cụ" (Tools).
            _x(display, "xdotool", "key", "F10")
            time.sleep(0.5)
            for _ in range(9):
                _x(display, "xdotool", "key", "Right")
                time.sleep(0.15)
            _x(display, "xdotool", "key", "Down")
            time.sleep(1.0)
            _shot(display, args.out / "calc_menu.png", crop=f"{WIDTH}x420+0+0")
            _x(display, "xdotool", "key", "Escape")
            _x(display, "xdotool", "key", "Escape")
            # The guide promises that one Undo takes the whole result back (only a real view can
            # undo a sheet insertion, so this is checked here rather than in the headless tests).
            inputs = [s["name"] for s in office.call("sheets", doc=doc) if not s["marked"]]
            office.call("undo", doc=doc)
            after = [s["name"] for s in office.call("sheets", doc=doc)]
            if after != inputs:
                raise SystemExit(f"one undo did not restore the input sheets: {after}")
            print("checked: one undo restores the document")
            office.call("close", doc=doc)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
