"""Canonical JSON and content hashes: the same plan always hashes the same.

A plan's canonical document is its JSON serialisation (:func:`budgetlib.io.jsonio.plan_to_json`:
every field of the model, defaults included) rewritten under fixed rules, named by
:data:`PLAN_C14N` so that a later change of rules is a new name, never a silent change of hashes:

* object keys sorted by code point, no insignificant whitespace (``","`` and ``":"`` separators);
* UTF-8, non-ASCII characters written as themselves, every string and key in Unicode NFC;
* numbers as Python's shortest round-trip text; ``-0.0`` written as ``0.0``; NaN and infinities refused;
* list order kept (the order of units, tasks and lines is part of the plan).

The content hash is the SHA-256 of the canonical document's UTF-8 bytes. The store keeps the
document itself next to its hash, so a stored version is checked against its own bytes and stays
verifiable whatever a later budgetlib does to serialisation.

>>> canonical_json({"b": 1, "a": [0.0, -0.0, "Hà Nội"]})
'{"a":[0.0,0.0,"Hà Nội"],"b":1}'
>>> sha256_text("")
'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any

from ..io.jsonio import plan_to_json
from ..model.plan import Plan

__all__ = ["PLAN_C14N", "DOCUMENT_C14N", "canonical_json", "canonical_plan_json", "plan_hash", "sha256_text", "sha256_bytes"]

PLAN_C14N = "budgetlib-plan-c14n/1"
"""Name of the canonicalisation rules of plan documents (stored with every version)."""

DOCUMENT_C14N = "budgetlib-json-c14n/1"
"""Name of the same rules applied to other JSON documents (actuals, policies)."""


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"canonical JSON has no representation for {value!r}")
        return 0.0 if value == 0 else value
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"canonical JSON object keys are text, got {type(key).__name__} {key!r}")
            nkey = unicodedata.normalize("NFC", key)
            if nkey in out:
                raise ValueError(f"two object keys are the same text once normalised: {nkey!r}")
            out[nkey] = _normalise(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def canonical_json(data: Any) -> str:
    """The canonical text of a JSON value (see the module docstring for the rules)."""
    return json.dumps(_normalise(data), ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_plan_json(plan: Plan) -> str:
    """The canonical document of a plan: its :func:`~budgetlib.io.jsonio.plan_to_json` text, canonicalised."""
    return canonical_json(json.loads(plan_to_json(plan)))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes, as 64 lowercase hex digits."""
    return sha256_bytes(text.encode("utf-8"))


def plan_hash(plan: Plan) -> str:
    """The content hash of a plan: SHA-256 of its canonical document."""
    return sha256_text(canonical_plan_json(plan))
