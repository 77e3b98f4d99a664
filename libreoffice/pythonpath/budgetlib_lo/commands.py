"""What one click on the "Ngân sách" menu or toolbar does (called by the protocol handler).

``run(ctx, frame, command_id)``:

* "Nhật ký chạy" and "Hướng dẫn" are answered here, without budgetlib (they must work when Python
  is missing: the guide's troubleshooting section is what the officer needs then);
* every other command snapshots the document (when it reads one), asks budgetlib through the
  bridge — progress in the status bar — and applies the reply: result sheets written all or
  nothing, a new document for "Sổ mới", then the reply's dialog;
* nothing here raises: every failure becomes a dialog (logged) that says what happened and what
  was, or was not, changed.
"""

from __future__ import annotations

import os
import traceback

from . import bridge, document, paths, runlog, texts, ui


class _Click:
    def __init__(self, ctx, frame, command_id):
        self.ctx = ctx
        self.frame = frame
        self.command = command_id
        self.lang = ui.language(ctx)
        self.build = texts.build()
        self.status = ui.Status(frame)

    def t(self, message_code, **params):
        return texts.t(message_code, self.lang, **params)

    @property
    def title(self):
        return self.t("calc.title")

    def dialog(self, severity, text):
        self.status.end()  # the bar is given back before the dialog (it would say "writing …" under it)
        ui.message(self.ctx, self.frame, severity, self.title, text)

    def doc(self):
        try:
            return self.frame.getController().getModel()
        except Exception:
            return None

    def visible(self):
        try:
            return bool(self.frame.getContainerWindow().isVisible())
        except Exception:
            return True


def run(ctx, frame, command_id):
    click = None
    try:
        click = _Click(ctx, frame, command_id)
        runlog.info("click {} (extension {}, lang {})".format(command_id, click.build.get("version"), click.lang))
        spec = click.build["commands"].get(command_id)
        if spec is None:
            runlog.warning(f"unknown command {command_id}")
            return
        if spec["where"] == "local":
            _LOCAL[spec["action"]](click)
        else:
            _bridged(click, spec)
    except Exception as exc:  # the boundary of a click
        runlog.error(f"crash in the extension ({command_id})\n{traceback.format_exc()}")
        if click is not None:
            click.dialog(
                "error",
                click.t("calc.lo.bridge_failed", command=command_id, status="-", detail=f"{type(exc).__name__}: {exc}", log=paths.log_path()),
            )
    finally:
        if click is not None:
            click.status.end()


# ---------------------------------------------------------------------------------------------
# Local commands


def _open(click, path):
    try:
        if not os.path.exists(path):
            folder = os.path.dirname(path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            open(path, "a").close()
        ui.open_path(click.ctx, path)
        runlog.info(f"opened {path}")
    except Exception as exc:
        runlog.warning(f"could not open {path}: {exc}")
        click.dialog("warning", click.t("calc.lo.open_failed", path=path, error=f"{type(exc).__name__}: {exc}"))


def _open_log(click):
    _open(click, paths.log_path())


def _guide(click):
    path = os.path.join(paths.extension_root(), *click.build["guide"].split("/"))
    if not os.path.isfile(path):
        click.dialog("error", click.t("calc.lo.guide_missing", path=path))
        return
    _open(click, path)


_LOCAL = {"open_log": _open_log, "guide": _guide}


# ---------------------------------------------------------------------------------------------
# Commands answered by budgetlib


def _local_version_lines(click, python=None):
    lines = [
        click.t("calc.lo.version_extension", version=click.build.get("version", "?")),
        click.t("calc.lo.version_office", version=ui.office_version(click.ctx)),
        click.t("calc.lo.version_office_python", version=ui.office_python()),
    ]
    if python:
        lines.append(click.t("calc.lo.version_python", python=python))
    lines.append(click.t("calc.lo.version_log", path=paths.log_path()))
    return lines


def _bridge_failure(click, exc):
    d = exc.details
    log = paths.log_path()
    if exc.kind == "not_found":
        text = click.t("calc.lo.python_not_found", tried=d.get("tried") or d.get("python") or "-", config=paths.config_path())
    elif exc.kind == "missing":
        text = click.t("calc.lo.budgetlib_missing", python=d.get("python", "?"), error=d.get("error", ""))
    elif exc.kind == "bad_reply":
        text = click.t("calc.lo.bad_reply", command=click.command, detail=d.get("detail", ""), log=log)
    else:
        text = click.t("calc.lo.bridge_failed", command=click.command, status=d.get("code", "?"), detail=d.get("detail", ""), log=log)
    runlog.error(f"bridge {exc.kind}: {d}")
    if click.command == "btnVersion":
        text = "\n".join([*_local_version_lines(click), "", text])
    click.dialog("error", text)


def _bridged(click, spec):
    doc = click.doc()
    marker = click.build["marker"]
    label = texts.label(click.command, click.lang)
    book: dict = {"name": "", "saved_file": None, "sheets": [], "tables": []}
    if spec["reads_book"]:
        if not document.is_spreadsheet(doc):
            click.dialog("error", click.t("calc.lo.not_spreadsheet"))
            return
        click.status.show(click.t("calc.lo.reading"))
        book = document.snapshot(doc, marker)
    click.status.show(click.t("calc.lo.running", label=label))
    request = {
        "protocol": click.build["protocol"],
        "command": click.command,
        "lang": click.lang,
        "extension_version": click.build.get("version", ""),
        "host": {"office_version": ui.office_version(click.ctx), "office_python": ui.office_python()},
        "book": book,
    }
    try:
        reply, python = bridge.run(request, click.status.show, office_dirs=ui.office_dirs(click.ctx), built=click.build)
    except bridge.BridgeError as exc:
        _bridge_failure(click, exc)
        return
    runlog.info("reply {} exit={} from {}".format(click.command, reply.get("exit_code"), " ".join(python)))
    message = reply.get("message") or ""
    severity = reply.get("severity") or "info"
    if reply.get("new_document") is not None:
        click.status.show(click.t("calc.lo.opening"))
        document.new_document(click.ctx, reply["new_document"], click.visible())
    writes = reply.get("write") or []
    removes = reply.get("remove") or []
    if writes or removes:
        def progress(name, n, total):
            click.status.show(click.t("calc.lo.writing", sheet=name, n=n, total=total), n, total)

        try:
            written, removed = document.apply(doc, writes, removes, marker, status=progress, title="budgetlib: " + label)
            runlog.info(f"wrote {written} removed {removed}")
        except document.NotOurs as exc:
            runlog.error(f"refused to touch sheet {exc}")
            click.dialog("error", click.t("calc.lo.not_ours", sheet=str(exc)))
            return
        except document.WriteFailed as exc:
            log = paths.log_path()
            if exc.restored:
                text = click.t("calc.lo.write_failed", error=exc.error, log=log)
            else:
                text = click.t("calc.lo.rollback_incomplete", error=exc.error, left=", ".join(exc.left), log=log)
            click.dialog("error", text)
            return
        document.activate(doc, reply.get("activate"))
    if reply.get("status"):
        click.status.show(reply["status"])
    if message:
        click.dialog(severity, message)
