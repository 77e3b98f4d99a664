"""A real LibreOffice for tests and screenshots: a fresh profile, the extension installed with
``unopkg``, ``soffice`` listening on a UNO socket, and :mod:`unodriver` talking to it.

Used from budgetlib's own Python (the test suite, ``libreoffice/screenshots.py``)::

    with Office(tmp, oxt, env={...}) as office:
        doc = office.call("open", path="/tmp/plan.xlsx")["doc"]
        office.call("dispatch", doc=doc, url="org.budgetlib.calc:btnAllocate")

``unopkg`` refuses per-user installs as root (CI runs as root), so there the very command
``budgetlib lo install`` would run (:func:`budgetlib.calc.install.unopkg_args`) is run as the
unprivileged ``nobody`` on a profile folder ``nobody`` owns; ``soffice`` itself runs as the caller.
Everything started here is stopped on exit (by process id).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "unodriver.py"
UNO_PYTHON_CANDIDATES = ("/usr/bin/python3", "/usr/lib/libreoffice/program/python")


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def uno_python() -> str | None:
    """A Python that can ``import uno`` (LibreOffice's)."""
    for candidate in UNO_PYTHON_CANDIDATES:
        if os.path.exists(candidate):
            ok = subprocess.run([candidate, "-c", "import uno"], capture_output=True, check=False).returncode == 0
            if ok:
                return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def install(oxt: Path, profile: Path, soffice: str | None = None) -> subprocess.CompletedProcess[str]:
    """``unopkg add`` the extension into ``profile`` (as ``nobody`` when running as root: then
    ``profile`` and the .oxt must be where ``nobody`` can reach them, see :func:`staging_dir`)."""
    from budgetlib.calc.install import find_office, unopkg_args

    office = find_office(soffice)
    if office is None or office.unopkg is None:
        raise RuntimeError("LibreOffice's unopkg was not found")
    profile.mkdir(parents=True, exist_ok=True)
    args = unopkg_args(office.unopkg, "add", target=oxt, profile=profile)
    if os.geteuid() == 0:
        import pwd

        nobody = pwd.getpwnam("nobody")
        os.chown(profile, nobody.pw_uid, nobody.pw_gid)
        args = ["runuser", "-u", "nobody", "--", "env", f"HOME={profile}", *args]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


def profile_settings(profile: Path, settings: dict[tuple[str, str], str]) -> None:
    """Write ``{(node path, property): value}`` into the profile's registrymodifications.xcu
    (read when LibreOffice starts)."""
    from xml.sax.saxutils import escape

    xcu = profile / "user" / "registrymodifications.xcu"
    items = "".join(
        f'<item oor:path="{escape(path)}"><prop oor:name="{escape(name)}" oor:op="fuse"><value>{escape(value)}</value></prop></item>\n'
        for (path, name), value in settings.items()
    )
    if xcu.is_file():
        text = xcu.read_text(encoding="utf-8")
        for path, name in settings:  # an earlier value of the same property would win
            text = re.sub(
                f'<item oor:path="{re.escape(escape(path))}"><prop oor:name="{re.escape(escape(name))}"[^>]*>.*?</prop></item>\n?',
                "",
                text,
                flags=re.S,
            )
        text = text.replace("</oor:items>", items + "</oor:items>")
    else:
        xcu.parent.mkdir(parents=True, exist_ok=True)
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            + items + "</oor:items>\n"
        )
    xcu.write_text(text, encoding="utf-8")


QUIET_START = {
    ("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay"): "false",
    ("/org.openoffice.Office.Common/Misc", "FirstRun"): "false",
    ("/org.openoffice.Setup/Product", "ooSetupLastVersion"): "7.4",
}
"""No "tip of the day" dialog and no "what's new" bar on a fresh profile's first start."""


def staging_dir(workdir: Path) -> Path:
    """Where the profile and the .oxt go: ``workdir`` itself, or as root a fresh world-traversable
    folder in the system temp dir (pytest's temp folders are private to root)."""
    if os.geteuid() != 0:
        return workdir
    stage = Path(tempfile.mkdtemp(prefix="budgetlib-lo-"))
    os.chmod(stage, 0o755)
    return stage


def office_environment(env: dict[str, str]) -> dict[str, str]:
    """PATH without an active virtual environment's folders: LibreOffice's embedded Python finds
    its home through the first ``python3`` on PATH, and a venv of another Python build there
    makes the extension manager fail at start-up (DeploymentException, then abort)."""
    venv = env.get("VIRTUAL_ENV") or (sys.prefix if sys.prefix != sys.base_prefix else "")
    parts = [p for p in env.get("PATH", "").split(os.pathsep) if p and not (venv and p.startswith(venv))]
    return {"PATH": os.pathsep.join(["/usr/bin", "/bin", *[p for p in parts if p not in ("/usr/bin", "/bin")]])}


class Office:
    """``soffice --headless`` (or on an X display) with a fresh profile and the extension installed."""

    def __init__(
        self,
        workdir: Path,
        oxt: Path,
        *,
        env: dict[str, str | None] | None = None,
        headless: bool = True,
        display: str | None = None,
        soffice: str | None = None,
        ui_locale: str | None = None,
        system_locale: str | None = None,
    ):
        """``env`` is added to this process's environment for soffice (a ``None`` value removes a variable)."""
        self.workdir = Path(workdir)
        self.oxt = Path(oxt)
        self.extra_env = dict(env or {})
        self.headless = headless
        self.display = display
        self.soffice_exe = soffice
        self.ui_locale = ui_locale
        self.system_locale = system_locale
        self.soffice: subprocess.Popen[bytes] | None = None
        self.driver: subprocess.Popen[str] | None = None
        self.stage: Path | None = None
        self.profile = self.workdir / "lo_profile"
        self.install_output = ""

    def __enter__(self) -> Office:
        soffice = self.soffice_exe or soffice_path()
        python = uno_python()
        if soffice is None or python is None:
            raise RuntimeError("LibreOffice with Python-UNO is needed (Debian: apt install libreoffice-calc-nogui python3-uno)")
        self.stage = staging_dir(self.workdir)
        self.profile = self.stage / "lo_profile"
        oxt = self.stage / self.oxt.name
        if oxt != self.oxt:
            shutil.copyfile(self.oxt, oxt)
            os.chmod(oxt, 0o644)
        done = install(oxt, self.profile, soffice)
        self.install_output = done.stdout + done.stderr
        if done.returncode != 0:
            raise RuntimeError(f"unopkg add failed ({done.returncode}): {self.install_output}")
        settings = dict(QUIET_START)
        if self.ui_locale:  # what Tools ▸ Options ▸ Languages sets; LibreOffice derives ooLocale from it
            settings[("/org.openoffice.Office.Linguistic/General", "UILocale")] = self.ui_locale
        if self.system_locale:  # number formats, separators: as on an officer's vi-VN system
            settings[("/org.openoffice.Setup/L10N", "ooSetupSystemLocale")] = self.system_locale
        profile_settings(self.profile, settings)
        port = free_port()
        env = {k: v for k, v in {**os.environ, **self.extra_env}.items() if v is not None}
        env.update(office_environment(env))
        if self.display:
            env["DISPLAY"] = self.display
        args = [soffice, "--norestore", "--nologo", "--nodefault", "--nolockcheck", f"-env:UserInstallation={self.profile.resolve().as_uri()}",
                f"--accept=socket,host=127.0.0.1,port={port};urp;"]
        if self.headless:
            args[1:1] = ["--headless", "--invisible"]
        self.soffice_log = open(self.workdir / "soffice.log", "wb")
        self.soffice = subprocess.Popen(args, env=env, stdout=self.soffice_log, stderr=subprocess.STDOUT, start_new_session=True)
        self.driver = subprocess.Popen(
            [python, str(DRIVER), f"socket,host=127.0.0.1,port={port}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(self.workdir / "driver.log", "w"), text=True, encoding="utf-8",
        )
        assert self.driver.stdout is not None
        ready = self.driver.stdout.readline()
        if not ready:
            self.__exit__(None, None, None)
            raise RuntimeError(f"the UNO driver could not connect: {(self.workdir / 'driver.log').read_text()}")
        return self

    def call(self, op: str, **kwargs: Any) -> Any:
        """Run one driver command; raise with the office-side traceback if it failed."""
        assert self.driver is not None and self.driver.stdin is not None and self.driver.stdout is not None
        self.driver.stdin.write(json.dumps({"op": op, **kwargs}, ensure_ascii=False) + "\n")
        self.driver.stdin.flush()
        line = self.driver.stdout.readline()
        if not line:
            raise RuntimeError(f"LibreOffice went away during {op}: {(self.workdir / 'soffice.log').read_text(errors='replace')[-2000:]}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise RuntimeError(f"{op} failed: {reply['error']}\n{reply.get('traceback', '')}")
        return reply["result"]

    def __exit__(self, *exc: Any) -> None:
        if self.driver is not None:
            try:
                if self.driver.poll() is None:
                    self.call("quit")
            except Exception:  # stopping anyway
                pass
            try:
                self.driver.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.driver.kill()
            self.driver = None
        if self.soffice is not None:
            try:
                self.soffice.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.soffice.pid, 15)
                try:
                    self.soffice.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.soffice.pid, 9)
                    self.soffice.wait()
            self.soffice = None
            self.soffice_log.close()
        if self.stage is not None and self.stage != self.workdir:
            shutil.rmtree(self.stage, ignore_errors=True)
            self.stage = None

