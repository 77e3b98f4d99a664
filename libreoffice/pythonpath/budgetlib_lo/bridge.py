"""Run the installed budgetlib for one command: find its Python, send the request, stream the answer.

Which Python (the first rule that applies; an explicit setting is used alone, never second-guessed):

1. the environment variable ``BUDGETLIB_PYTHON``;
2. ``"python"`` in the settings file written by ``budgetlib lo install`` (:func:`paths.config_path`);
3. the interpreter written into the extension when it was built with ``--python`` (shared installs);
4. otherwise the interpreters on ``PATH``: ``py -3`` then ``python`` on Windows, ``python3`` then
   ``python`` elsewhere — the first one that has budgetlib.

The child gets LibreOffice's environment minus what belongs to LibreOffice's own Python
(``PYTHONHOME`` and ``PYTHONPATH``/library-path entries inside the office installation), runs in an
empty temporary folder (so no folder named ``budgetlib`` in the current directory can shadow the
package) and without a console window on Windows. Its stderr goes to a temporary file: the last
lines are shown when it fails, and written to the run log.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from . import paths, runlog

MODULE = "budgetlib.calc.bridge"
_CREATE_NO_WINDOW = 0x08000000
_IMPORT_FAILED = re.compile(r"\b(ModuleNotFoundError|ImportError)\b|No module named")


class BridgeError(Exception):
    """budgetlib could not answer. ``kind``: ``not_found``, ``missing`` (Python runs, but budgetlib
    or a package it needs cannot be imported),
    ``failed`` (it stopped without answering) or ``bad_reply``."""

    def __init__(self, kind, **details):
        super().__init__(kind, details)
        self.kind = kind
        self.details = details


def _under(path, roots):
    norm = os.path.normcase(os.path.abspath(path))
    for root in roots:
        r = os.path.normcase(os.path.abspath(root))
        if norm == r or norm.startswith(r.rstrip(os.sep) + os.sep):
            return True
    return False


def child_environment(environ, office_dirs):
    """``environ`` without the parts that point into LibreOffice's own installation."""
    env = dict(environ)
    roots = [d for d in office_dirs if d]
    home = env.get("PYTHONHOME")
    if home and _under(home, roots):
        del env["PYTHONHOME"]
    for key in ("PYTHONPATH", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "PATH"):
        value = env.get(key)
        if not value:
            continue
        kept = [p for p in value.split(os.pathsep) if p and not _under(p, roots)]
        if kept:
            env[key] = os.pathsep.join(kept)
        else:
            del env[key]
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def candidates(environ, config, built=None, windows=None):
    """``[(argv prefix, where it came from, explicit?)]`` in the order they are tried."""
    windows = sys.platform == "win32" if windows is None else windows
    explicit = environ.get(paths.PYTHON_ENV)
    if explicit:
        return [([explicit], paths.PYTHON_ENV, True)]
    configured = config.get("python") if isinstance(config, dict) else None
    if configured:
        return [([str(configured)], paths.config_path(), True)]
    embedded = built.get("python") if isinstance(built, dict) else None
    if embedded:
        return [([str(embedded)], "budgetlib.oxt", True)]
    names = [["py", "-3"], ["python"]] if windows else [["python3"], ["python"]]
    return [(n, "PATH", False) for n in names]


def resolve(argv, env):
    """The argv with its program resolved on the child's PATH (None when not found)."""
    program = argv[0]
    if os.path.isabs(program) or os.sep in program or (os.altsep and os.altsep in program):
        return argv if os.path.exists(program) else None
    found = shutil.which(program, path=env.get("PATH"))
    return [found, *list(argv[1:])] if found else None


def _tail(path, lines=12):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _run_one(argv, request_bytes, env, on_progress):
    """Run the bridge with ``argv``; return the reply (dict) or raise BridgeError."""
    work = tempfile.mkdtemp(prefix="budgetlib-lo-")
    err_path = os.path.join(work, "stderr.txt")
    kwargs: dict = {}
    if sys.platform == "win32":
        kwargs["creationflags"] = _CREATE_NO_WINDOW
    try:
        with open(err_path, "wb") as err:
            try:
                proc = subprocess.Popen(
                    [*argv, "-m", MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env, cwd=work, **kwargs
                )
            except OSError as exc:
                raise BridgeError("not_found", python=" ".join(argv), error=str(exc)) from exc
            reply = None
            bad = None
            stdin, stdout = proc.stdin, proc.stdout
            assert stdin is not None and stdout is not None
            try:
                stdin.write(request_bytes)
                stdin.close()
            except OSError:
                pass  # the child died early: its exit code and stderr say why
            for raw in stdout:
                line = bytes(raw).decode("utf-8", "replace").strip()
                if not line:
                    continue
                try:
                    msg = json.loads(line)
                except ValueError:
                    bad = line[:200]
                    continue
                if "progress" in msg:
                    on_progress(msg.get("progress") or "", msg.get("done"), msg.get("total"))
                elif "reply" in msg:
                    reply = msg["reply"]
            code = proc.wait()
        stderr = _tail(err_path)
        if stderr:
            runlog.write("INFO" if reply is not None else "ERROR", "budgetlib stderr ({}):\n{}".format(" ".join(argv), stderr))
        if reply is not None:
            if not isinstance(reply, dict):
                raise BridgeError("bad_reply", python=" ".join(argv), detail=repr(reply)[:200])
            return reply
        if _IMPORT_FAILED.search(stderr):  # budgetlib (or what it needs) cannot be imported
            last = [line for line in stderr.splitlines() if line.strip()]
            raise BridgeError("missing", python=" ".join(argv), error=last[-1] if last else stderr)
        if bad is not None:
            raise BridgeError("bad_reply", python=" ".join(argv), detail=bad)
        raise BridgeError("failed", python=" ".join(argv), code=code, detail=stderr or "-")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(request, on_progress, office_dirs=(), environ=None, built=None):
    """Send ``request`` (a dict) to budgetlib; return ``(reply, python argv)``.

    ``on_progress(text, done, total)`` is called for every progress line. Raises BridgeError.
    """
    environ = os.environ if environ is None else environ
    env = child_environment(environ, office_dirs)
    body = json.dumps(request, ensure_ascii=True).encode("ascii")
    tried = []
    missing = None
    for argv, origin, explicit in candidates(environ, paths.read_config(), built):
        resolved = resolve(argv, env)
        tried.append("{} ({})".format(" ".join(argv), origin))
        if resolved is None:
            if explicit:
                raise BridgeError("not_found", tried=", ".join(tried))
            continue
        try:
            return _run_one(resolved, body, env, on_progress), resolved
        except BridgeError as exc:
            if exc.kind == "not_found" and not explicit:
                continue
            if exc.kind == "missing" and not explicit:
                missing = missing or exc
                continue
            raise
    if missing is not None:
        raise missing
    raise BridgeError("not_found", tried=", ".join(tried))
