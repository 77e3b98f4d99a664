"""LibreOffice's user interface, as the commands need it: status bar, dialogs, opening files, language."""

from __future__ import annotations

import locale
import os
import platform

import uno

from . import paths, runlog

_BOXES = {"info": "INFOBOX", "warning": "WARNINGBOX", "error": "ERRORBOX"}


def _config(ctx, nodepath):
    from com.sun.star.beans import PropertyValue

    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    arg = PropertyValue()
    arg.Name = "nodepath"
    arg.Value = nodepath
    return provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationAccess", (arg,))


def ui_locale(ctx):
    """LibreOffice's UI language (``vi``, ``en-US``, …); the system's when LibreOffice follows it."""
    try:
        value = _config(ctx, "/org.openoffice.Setup/L10N").getByName("ooLocale")
    except Exception:  # no configuration: fall back to the system
        value = ""
    if value:
        return str(value)
    try:
        return locale.getlocale()[0] or os.environ.get("LANG", "")
    except ValueError:
        return os.environ.get("LANG", "")


def lang_for(ui, override=None):
    """The message language: Vietnamese for a Vietnamese UI, English otherwise — the same rule
    LibreOffice applies to the menu labels (it falls back to the ``en-US`` title)."""
    if override in ("vi", "en"):
        return override
    return "vi" if str(ui).lower().replace("_", "-").startswith("vi") else "en"


def language(ctx):
    return lang_for(ui_locale(ctx), os.environ.get(paths.LANG_ENV))


def office_version(ctx):
    try:
        product = _config(ctx, "/org.openoffice.Setup/Product")
        name = product.getByName("ooName")
        version = product.getByName("ooSetupVersionAboutBox") or product.getByName("ooSetupVersion")
        return f"{name} {version}"
    except Exception:
        return "?"


def office_python():
    return f"{platform.python_version()} ({platform.python_implementation()})"


def office_dirs(ctx):
    """Folders of the office installation (its own Python lives there on Windows and macOS)."""
    dirs = []
    try:
        expander = ctx.getValueByName("/singletons/com.sun.star.util.theMacroExpander")
        for macro in ("$BRAND_BASE_DIR", "$BRAND_BASE_DIR/program"):
            url = expander.expandMacros(macro)
            if url.startswith("file:"):
                dirs.append(uno.fileUrlToSystemPath(url))
    except Exception:
        pass
    return dirs


class Status:
    """The frame's status bar: one indicator from start to end of a command."""

    def __init__(self, frame):
        self.indicator = None
        try:
            self.indicator = frame.createStatusIndicator()
        except Exception:  # no status bar (e.g. a frame being closed)
            self.indicator = None
        self.started = False
        self.total = 0

    def show(self, text, done=None, total=None):
        runlog.info(f"status {text}")
        if self.indicator is None:
            return
        try:
            if not self.started:
                self.total = int(total or 100)
                self.indicator.start(text, self.total)
                self.started = True
            else:
                if total and int(total) != self.total:
                    self.indicator.end()
                    self.total = int(total)
                    self.indicator.start(text, self.total)
                self.indicator.setText(text)
            if done is not None:
                self.indicator.setValue(max(0, min(int(done), self.total)))
        except Exception:  # progress is a courtesy
            pass

    def end(self):
        if self.indicator is not None and self.started:
            try:
                self.indicator.end()
            except Exception:
                pass
        self.started = False


def message(ctx, frame, severity, title, text):
    """A message box (logged first, so what was shown can be read in the run log)."""
    runlog.dialog(severity, title, text)
    try:
        from com.sun.star.awt.MessageBoxButtons import BUTTONS_OK

        kind = uno.Enum("com.sun.star.awt.MessageBoxType", _BOXES.get(severity, "INFOBOX"))
        toolkit = ctx.ServiceManager.createInstanceWithContext("com.sun.star.awt.Toolkit", ctx)
        parent = frame.getContainerWindow() if frame is not None else None
        box = toolkit.createMessageBox(parent, kind, BUTTONS_OK, title, text)
        box.execute()
        box.dispose()
    except Exception as exc:  # the log has the text
        runlog.error(f"could not show a dialog: {type(exc).__name__}: {exc}")


def open_path(ctx, path):
    """Open a file with the program the system associates with it; raise on failure."""
    shell = ctx.ServiceManager.createInstanceWithContext("com.sun.star.system.SystemShellExecute", ctx)
    from com.sun.star.system.SystemShellExecuteFlags import URIS_ONLY

    shell.execute(uno.systemPathToFileUrl(os.path.abspath(path)), "", URIS_ONLY)
