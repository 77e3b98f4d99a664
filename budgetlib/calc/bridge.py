"""``python -m budgetlib.calc.bridge``: the process the LibreOffice extension starts for each command.

It reads one JSON request from stdin and writes JSON lines to stdout (:mod:`budgetlib.calc.protocol`):
``{"progress": text, "done": n, "total": m}`` while it works, then ``{"reply": …}``. Solvers and
libraries that print to the standard output (HiGHS writes from C) cannot corrupt the stream: the
protocol gets its own copy of file descriptor 1 and everything else printed goes to stderr.

``python -m budgetlib.calc.bridge --probe`` prints one line of JSON (versions, interpreter) and
exits: ``budgetlib lo doctor`` and the extension use it to check that this Python has budgetlib.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import IO, Any

from .._version import __version__
from .protocol import PROTOCOL_VERSION

__all__ = ["main", "probe"]


def _line(out: IO[str], obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=True, sort_keys=True) + "\n")
    out.flush()


def probe() -> dict[str, Any]:
    """What this interpreter offers the extension."""
    return {
        "budgetlib": __version__,
        "protocol": PROTOCOL_VERSION,
        "python": sys.executable,
        "python_version": platform.python_version(),
    }


def _protocol_stream() -> IO[str]:
    """A private copy of stdout for the protocol; fd 1 itself now points at stderr."""
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out = _protocol_stream()
    if argv == ["--probe"]:
        _line(out, {"probe": probe()})
        return 0
    if argv:
        print(f"usage: python -m budgetlib.calc.bridge [--probe] < request.json (got {argv})", file=sys.stderr)
        return 3
    raw = sys.stdin.buffer.read().decode("utf-8")
    from .dispatch import EXIT_CRASH, handle
    from .protocol import Reply

    try:
        request = json.loads(raw)
        if not isinstance(request, dict):
            raise ValueError("the request is not a JSON object")
    except ValueError as exc:
        from ..core.i18n import tr

        reply = Reply(EXIT_CRASH, tr("calc.msg.crash", "vi", command="?", error=f"{type(exc).__name__}: {exc}", log="-"), "error")
        _line(out, {"reply": reply.to_json()})
        return EXIT_CRASH

    def progress(text: str, done: int | None, total: int | None) -> None:
        _line(out, {"progress": text, "done": done, "total": total})

    reply = handle(request, progress=progress)
    _line(out, {"reply": reply.to_json()})
    out.close()
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    sys.exit(main())
