"""Re-run the commands quoted in each example README and paste their real output.

Each README has a block between ``<!-- output:start -->`` and ``<!-- output:end -->`` holding a
``text`` code fence; every line starting with ``$ `` is a command (run from the repository root
with bash) and the lines after it, up to the next command, are its output. Running this script
replaces those outputs with what the commands print now, so the excerpts are never written by hand.

Run: ``python examples/refresh_outputs.py [--check]`` (``--check`` exits 1 if a README is stale).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- output:start -->\n```text\n)(.*?)(```\n<!-- output:end -->)", re.S)
# Elapsed times vary between runs; they are masked when checking for staleness.
_PATH = os.environ.get("PATH", "")
TIMING = re.compile(r"\b\d+[.,]\d\d s\b")


def _command_path() -> str:
    """PATH for the quoted commands: ``python`` is the interpreter running this script (a machine may
    only have ``python3``), and its scripts folder (``budgetlib``) comes first."""
    folders = [str(Path(sys.executable).parent)]
    if not (Path(sys.executable).parent / "python").exists():
        # a wrapper, not a symlink: a symlinked interpreter outside its venv would not find the venv
        shim = Path(tempfile.mkdtemp(prefix="refresh_outputs_"))
        (shim / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
        (shim / "python").chmod(0o755)
        folders.insert(0, str(shim))
    return os.pathsep.join([*folders, os.environ.get("PATH", "")])


def run(command: str) -> str:
    env = {**os.environ, "PATH": _PATH}
    out = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, encoding="utf-8", env=env)
    return out.stdout.rstrip("\n")


def refresh_block(body: str) -> str:
    parts: list[str] = []
    for chunk in re.split(r"(?m)^(?=\$ )", body):
        if not chunk.startswith("$ "):
            continue
        command = chunk.splitlines()[0][2:]
        parts.append(f"$ {command}\n{run(command)}\n")
    return "\n".join(parts)


def refresh(readme: Path) -> bool:
    text = readme.read_text(encoding="utf-8")
    new = BLOCK.sub(lambda m: m.group(1) + refresh_block(m.group(2)) + m.group(3), text)
    changed = TIMING.sub("", new) != TIMING.sub("", text)
    if changed:
        readme.write_text(new, encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    global _PATH
    _PATH = _command_path()
    check = "--check" in argv
    stale = []
    for readme in sorted((ROOT / "examples").glob("*/README.md")):
        if check:
            text = readme.read_text(encoding="utf-8")
            new = BLOCK.sub(lambda m: m.group(1) + refresh_block(m.group(2)) + m.group(3), text)
            if TIMING.sub("", new) != TIMING.sub("", text):
                stale.append(readme)
        elif refresh(readme):
            print(f"updated {readme.relative_to(ROOT)}")
    if stale:
        print("stale README outputs: " + ", ".join(str(p.relative_to(ROOT)) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
