"""Plan files as JSON: load with every problem located by JSON path, save deterministically.

Reading is bounded and never trusts the file: at most :data:`MAX_JSON_BYTES`, UTF-8 with or
without a BOM or UTF-16 with a BOM (anything else is a clear "not UTF-8" message), nesting at most
:data:`MAX_JSON_DEPTH` levels, and every failure a located problem rather than a traceback.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

from ..core.i18n import Msg
from ..core.problems import PlanInvalid, Problem, Source
from ..model.plan import Plan
from ..planning.validation import load_plan_data
from .atomic import atomic_write_text

__all__ = ["load_plan", "save_plan", "plan_to_json", "plan_json_schema", "read_plan_data", "decode_text", "MAX_JSON_BYTES", "MAX_JSON_DEPTH"]

MAX_JSON_BYTES = 64 * 1024 * 1024
"""A plan file larger than this is refused (a national plan with 10 600 communes is about 3 MB)."""
MAX_JSON_DEPTH = 32
"""Deepest nesting a plan file may have (a plan needs 6 levels)."""


def _fail(code: str, source: Source, **params: Any) -> PlanInvalid:
    return PlanInvalid([Problem(code, source, params)])


def decode_text(raw: bytes, source: Source) -> str:
    """Text of a file: UTF-8 (BOM optional) or UTF-16 with its BOM; else a located problem."""
    if raw.startswith(codecs.BOM_UTF8):
        raw, encoding = raw[len(codecs.BOM_UTF8) :], "utf-8"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _fail("file.not_utf8", source, offset=exc.start) from None


def read_bytes(path: Path, *, limit: int) -> bytes:
    """A file's bytes, refusing directories, unreadable files and files above ``limit`` bytes."""
    source = Source(file=path.name)
    try:
        if path.is_dir():
            raise _fail("file.is_directory", source, path=str(path))
        size = path.stat().st_size
        if size > limit:
            raise _fail("file.too_large", source, size=size, limit=limit)
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise _fail("file.not_found", source, path=str(path)) from None
    except PermissionError:
        raise _fail("file.unreadable", source, path=str(path)) from None
    except OSError as exc:
        raise _fail("file.os_error", source, path=str(path), reason=exc.strerror or str(exc)) from None
    if len(data) > limit:
        raise _fail("file.too_large", source, size=len(data), limit=limit)
    return data


# json's messages are English; each known one has a catalogue entry (file.json_error.<key>).
_JSON_ERRORS = {
    "Expecting value": "value",
    "Expecting property name enclosed in double quotes": "property_name",
    "Expecting ',' delimiter": "comma",
    "Expecting ':' delimiter": "colon",
    "Unterminated string starting at": "unterminated_string",
    "Invalid control character at": "control_character",
    "Invalid \\escape": "escape",
    "Invalid \\uXXXX escape": "escape",
    "Extra data": "extra_data",
}


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in node)
    return deepest


def read_plan_data(path: str | Path) -> dict[str, Any]:
    """Read raw JSON; a syntax error becomes a located problem (``plan.json:12:5``)."""
    path = Path(path)
    text = decode_text(read_bytes(path, limit=MAX_JSON_BYTES), Source(file=path.name))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        key = _JSON_ERRORS.get(exc.msg, "other")
        raise _fail("file.json_syntax", Source(file=f"{path.name}:{exc.lineno}:{exc.colno}"), detail=Msg(f"file.json_error.{key}")) from None
    except RecursionError:
        raise _fail("file.json_too_deep", Source(file=path.name), limit=MAX_JSON_DEPTH) from None
    if not isinstance(data, dict):
        raise _fail("file.json_shape", Source(file=path.name))
    if _depth(data) > MAX_JSON_DEPTH:
        raise _fail("file.json_too_deep", Source(file=path.name), limit=MAX_JSON_DEPTH)
    return data


def load_plan(path: str | Path) -> Plan:
    """Load and validate a plan file; raise :class:`PlanInvalid` listing every problem."""
    path = Path(path)
    try:
        return load_plan_data(read_plan_data(path))
    except PlanInvalid as exc:
        raise PlanInvalid([p if p.source.file else p.relocated(p.source.with_file(path.name)) for p in exc.problems]) from None


def plan_to_json(plan: Plan) -> str:
    """Deterministic JSON text of a plan (field order of the model, UTF-8, no ASCII escaping)."""
    data = plan.model_dump(mode="json", exclude_defaults=False)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def save_plan(plan: Plan, path: str | Path) -> None:
    atomic_write_text(path, plan_to_json(plan))


def plan_json_schema() -> dict[str, Any]:
    """JSON Schema of the plan file (what ``budgetlib schema`` prints)."""
    return Plan.model_json_schema()
