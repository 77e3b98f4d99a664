"""Append to the run log (the file budgetlib's bridge also writes; "Nhật ký chạy" opens it).

Lines are ``YYYY-MM-DD HH:MM:SS,mmm LEVEL text``, as Python's logging writes them on the other side.
Dialogs are logged as ``DIALOG {json}`` before they are shown, so what an officer saw can be read
back (and tests read it: headless LibreOffice returns from dialogs at once).
"""

from __future__ import annotations

import datetime
import json
import os

from . import paths


def write(level, text):
    path = paths.log_path()
    try:
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        now = datetime.datetime.now()
        stamp = now.strftime("%Y-%m-%d %H:%M:%S") + f",{now.microsecond // 1000:03d}"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {level} extension: {text}\n")
    except OSError:
        pass  # the log is a help, never a reason to fail a click


def info(text):
    write("INFO", text)


def warning(text):
    write("WARNING", text)


def error(text):
    write("ERROR", text)


def dialog(severity, title, text):
    write("INFO", "DIALOG " + json.dumps({"severity": severity, "title": title, "text": text}, ensure_ascii=False, sort_keys=True))
