"""The command line in the user's language: help screens, metavars and click's own usage errors.

typer and its vendored click write English: panel titles ("Options", "Arguments"), "Usage:",
"Show this message and exit.", "[default: …]", "No such option", "Invalid value for …". budgetlib
speaks Vietnamese first, so before a command runs, :func:`localized_command`

* translates every help text given as a catalogue code (``help="@cli.allocate.out"``; plain text is
  left alone) on commands, arguments and options;
* sets the metavars and the help option's text from the catalogue (``cli.*``);
* swaps typer's rich panel titles and click's usage prefix for the catalogue's;

and :func:`render_usage_error` renders click's usage exceptions from their attributes (option name,
parameter, possibilities), never from their English text. The language comes from ``--lang`` on
the command line (parsed before click sees it, because help is printed eagerly) or the
``BUDGETLIB_LANG`` environment variable, default Vietnamese.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import typer
from rich.markup import escape

# typer ≥ 0.29 vendors the parts of click it uses as ``typer._click`` and has its own command,
# group and parameter classes (with type descriptors instead of click's param types).
from typer import _click as click
from typer._click import exceptions as click_exc
from typer._click import formatting as click_formatting
from typer.core import TyperGroup, TyperOption

from ..core.i18n import tr
from ..core.lang import DEFAULT_LANG, Lang, as_lang

__all__ = ["LANG_ENV", "lang_from_argv", "localized_command", "render_usage_error", "help_code"]

LANG_ENV = "BUDGETLIB_LANG"
HELP_PREFIX = "@"
"""A help text starting with this is a catalogue code, translated when the CLI starts."""


def help_code(code: str) -> str:
    """``help=help_code("cli.validate.json")`` marks a help text as a catalogue code."""
    return HELP_PREFIX + code


def lang_from_argv(argv: Sequence[str]) -> Lang:
    """``--lang en`` / ``--lang=en`` anywhere on the command line, else ``BUDGETLIB_LANG``, else vi.
    An unknown value is left for click to report (as a translated usage error)."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value is not None:
            try:
                return as_lang(value)
            except ValueError:
                break
    try:
        return as_lang(os.environ.get(LANG_ENV, DEFAULT_LANG))
    except ValueError:
        return DEFAULT_LANG


def _text(value: str | None, lang: Lang) -> str | None:
    if value and value.startswith(HELP_PREFIX):
        return tr(value[len(HELP_PREFIX) :], lang)
    return value


def _type_label(param: Any, lang: Lang) -> str | None:
    """The value placeholder shown in help (``<tệp>``, ``<số nguyên>``); choices keep their values."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None or desc.is_choice:
        return None
    annotation = desc.annotation
    if desc.is_list:
        args = getattr(annotation, "__args__", ())
        annotation = args[0] if args else str
    names: dict[Any, str] = {int: "int", float: "number", str: "text"}
    key = "path" if desc.is_path else names.get(annotation)
    if key is None:
        return None
    return f"<{tr(f'cli.metavar.{key}', lang)}>" + ("..." if desc.is_list else "")


def _show_type(param: Any, label: str) -> None:
    """Replace this parameter's type placeholder (typer computes English ones: ``<path>``)."""
    param.display_type = lambda ctx: label


def _localize_param(param: Any, lang: Lang, *, help_text: str | None = None) -> None:
    param.help = help_text if help_text is not None else _text(getattr(param, "help", None), lang)
    if param.name == "lang" and param.default is not None:
        # A command's own --lang defaults to the language of the whole command line: ``--lang``
        # before the command or BUDGETLIB_LANG (both promised by the help), not always Vietnamese.
        param.default = type(param.default)(lang.value)
    if isinstance(param, TyperOption) and param.is_flag:
        # A flag takes no value: show none (typer shows "<bool>", which invites "--force true").
        param.metavar = ""
        _show_type(param, "")
        return
    label = _type_label(param, lang)
    if label is None:
        return
    _show_type(param, label)
    if isinstance(param, TyperOption):
        param.metavar = label
    else:  # an argument's name in the usage line: ``TỆP`` / ``FILE``
        param.metavar = label.strip("<>.").upper() + ("..." if param.nargs != 1 else "")


def _localize_help_option(cmd: Any, lang: Lang) -> None:
    original = cmd.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = original(ctx)
        if option is not None:
            _localize_param(option, lang, help_text=tr("cli.help_option", lang))
        return option

    cmd.get_help_option = get_help_option


class ExtraArguments(click_exc.UsageError):
    """Arguments left over after parsing (click's own message for this is English text)."""

    def __init__(self, extra: list[str], ctx: Any):
        super().__init__(" ".join(extra), ctx)
        self.extra = extra


class NoSuchCommand(click_exc.UsageError):
    def __init__(self, name: str, known: list[str], ctx: Any):
        super().__init__(name, ctx)
        self.name, self.known = name, known


class MissingCommand(click_exc.UsageError):
    pass


def _strict_leaf(cmd: Any) -> None:
    """Surplus arguments raise :class:`ExtraArguments` (structured) instead of click's text."""
    original = cmd.parse_args

    def parse_args(ctx: Any, args: list[str]) -> list[str]:
        ctx.allow_extra_args = True
        rest = original(ctx, args)
        if ctx.args and not ctx.resilient_parsing:
            raise ExtraArguments(list(ctx.args), ctx)
        return rest

    cmd.parse_args = parse_args


def _strict_group(group: Any) -> None:
    resolve, invoke = group.resolve_command, group.invoke

    def resolve_command(ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and group.get_command(ctx, name) is None:
            raise NoSuchCommand(name, sorted(group.list_commands(ctx)), ctx)
        return resolve(ctx, args)

    def invoke_group(ctx: Any) -> Any:
        if not ctx._protected_args and not ctx.args and not group.invoke_without_command:
            raise MissingCommand("", ctx)
        return invoke(ctx)

    group.resolve_command = resolve_command
    group.invoke = invoke_group


def _localize(cmd: Any, lang: Lang) -> None:
    cmd.help = _text(cmd.help, lang)
    cmd.short_help = _text(getattr(cmd, "short_help", None), lang)
    cmd.epilog = _text(getattr(cmd, "epilog", None), lang)
    cmd.options_metavar = tr("cli.metavar.options", lang)
    if isinstance(cmd, TyperGroup):
        cmd.subcommand_metavar = tr("cli.metavar.command", lang)
    for param in cmd.params:
        _localize_param(param, lang)
    _localize_help_option(cmd, lang)
    if isinstance(cmd, TyperGroup):
        _strict_group(cmd)
    else:
        _strict_leaf(cmd)
    for sub in getattr(cmd, "commands", {}).values():
        _localize(sub, lang)


class _LocalizedFormatter(click_formatting.HelpFormatter):
    """click's help formatter with the usage prefix in the current language."""

    lang: Lang = DEFAULT_LANG

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix if prefix is not None else tr("cli.usage", self.lang) + " ")


def _patch_typer_texts(lang: Lang) -> None:
    from typer import rich_utils

    rich_utils.ARGUMENTS_PANEL_TITLE = tr("cli.panel.arguments", lang)
    rich_utils.OPTIONS_PANEL_TITLE = tr("cli.panel.options", lang)
    rich_utils.COMMANDS_PANEL_TITLE = tr("cli.panel.commands", lang)
    rich_utils.ERRORS_PANEL_TITLE = tr("cli.panel.error", lang)
    rich_utils.ABORTED_TEXT = tr("cli.aborted", lang)
    rich_utils.DEFAULT_STRING = tr("cli.default", lang)
    rich_utils.ENVVAR_STRING = tr("cli.envvar", lang)
    rich_utils.REQUIRED_LONG_STRING = tr("cli.required", lang)
    rich_utils.DEPRECATED_STRING = tr("cli.deprecated", lang) + " "
    # The usage line is highlighted by matching its prefix.
    usage = tr("cli.usage", lang)
    type(rich_utils.highlighter).highlights = [
        h.replace("Usage: ", usage + " ") if isinstance(h, str) else h for h in rich_utils.highlighter.highlights
    ]
    _LocalizedFormatter.lang = lang
    click.Context.formatter_class = _LocalizedFormatter


def localized_command(app: typer.Typer, lang: Lang) -> Any:
    """The click command for ``app`` with every help text, metavar and title in ``lang``."""
    _patch_typer_texts(lang)
    cmd = typer.main.get_command(app)
    _localize(cmd, lang)
    return cmd


def _hint(exc: Any) -> str:
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None)
    if hint is not None:
        return " / ".join(hint) if isinstance(hint, (list, tuple)) else str(hint)
    if param is not None:
        opts = getattr(param, "opts", None) or [param.name or ""]
        if isinstance(param, TyperOption):
            return " / ".join(opts)
        # an argument: its placeholder in the usage line (TỆP) and what it is, never the Python name
        shown = (param.metavar or param.name or "").strip("{}")
        return f"{shown} ({param.help})" if getattr(param, "help", None) else shown
    return ""


def render_usage_error(exc: Exception, lang: Lang) -> str:
    """A click usage exception as a message in ``lang``, built from its attributes."""
    if isinstance(exc, click_exc.NoSuchOption):
        if exc.possibilities:
            return tr("cli.error.no_such_option_suggest", lang, option=exc.option_name, options=sorted(exc.possibilities))
        return tr("cli.error.no_such_option", lang, option=exc.option_name)
    if isinstance(exc, click_exc.MissingParameter):
        return tr("cli.error.missing", lang, param=_hint(exc))
    if isinstance(exc, click_exc.BadParameter):
        detail = getattr(exc, "budgetlib_message", None)
        param = getattr(exc, "param", None)
        if detail is not None and param is None and getattr(exc, "param_hint", None) is None:
            return str(detail)
        desc = getattr(param, "type_descriptor", None)
        choices = desc.choices if desc is not None and desc.is_choice else None
        if detail is None and choices:
            detail = tr("cli.error.choose", lang, choices=[str(getattr(c, "value", c)) for c in choices])
        if detail is None:
            codes: dict[Any, str] = {int: "cli.error.not_int", float: "cli.error.not_number"}
            detail = tr(codes.get(getattr(desc, "annotation", None), "cli.error.bad_value"), lang)
        return tr("cli.error.invalid_value", lang, param=_hint(exc), detail=detail)
    if isinstance(exc, click_exc.BadOptionUsage):
        return tr("cli.error.option_usage", lang, option=exc.option_name)
    if isinstance(exc, ExtraArguments):
        return tr("cli.error.extra_arguments", lang, args=exc.extra)
    if isinstance(exc, NoSuchCommand):
        return tr("cli.error.no_such_command", lang, command=exc.name, commands=exc.known)
    if isinstance(exc, MissingCommand):
        return tr("cli.error.missing_command", lang)
    message = getattr(exc, "budgetlib_message", None)
    if message is not None:
        return str(message)
    return tr("cli.error.usage", lang)


def usage_hint(exc: Exception, lang: Lang) -> str:
    """``Xem: budgetlib allocate --help`` for the command the error belongs to."""
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "budgetlib"
    return tr("cli.see_help", lang, command=escape(path))


def bad_parameter(code: str, lang: Lang, **params: Any) -> Exception:
    """A ``typer.BadParameter`` whose text comes from the catalogue (rendered by :func:`render_usage_error`)."""
    exc = typer.BadParameter(tr(code, lang, **params))
    exc.budgetlib_message = tr(code, lang, **params)  # type: ignore[attr-defined]
    return exc
