"""The registries: every constraint kind and every policy declared once, layering kept one-way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from budgetlib.allocator.policies import POLICIES
from budgetlib.constraints import CONSTRAINT_KINDS, KINDS
from budgetlib.core.i18n import catalogue
from budgetlib.model.policy import AllocationPolicy, PolicyKind
from budgetlib.model.result import ConstraintKind

ROOT = Path(__file__).resolve().parent.parent / "budgetlib"


def test_every_kind_is_registered_under_its_tag():
    for kind in KINDS:
        tag = kind.model.model_fields["type"].default
        assert tag == kind.kind.value and CONSTRAINT_KINDS[tag] is kind
        assert kind.model.__module__.startswith("budgetlib.constraints."), "a kind's model lives in its own module"
        assert all(f.key in kind.model.model_fields for f in kind.fields), kind.kind
    # the policy model accepts every registered kind
    data = {"constraints": [{"type": "unit_share", "name": "x", "share": 0.5}, {"type": "floor", "name": "y", "amount": 1}]}
    assert [c.type for c in AllocationPolicy.model_validate(data).constraints] == ["unit_share", "floor"]


def test_every_kind_and_field_has_words_in_both_languages():
    for lang in ("vi", "en"):
        cat = catalogue(lang)
        for kind in ConstraintKind:
            assert f"alloc.kind.{kind.value}" in cat
        for k in KINDS:
            for f in k.fields:
                assert f"alloc.field.{f.key}" in cat and f"alloc.field_help.{f.key}" in cat


def test_every_policy_is_registered():
    assert set(POLICIES) == set(PolicyKind)
    assert not POLICIES[PolicyKind.PROPORTIONAL].applies_coupling
    assert all(POLICIES[k].applies_coupling for k in PolicyKind if k is not PolicyKind.PROPORTIONAL)


def _runtime_imports(path: Path) -> set[str]:
    """Modules imported by a file outside ``if TYPE_CHECKING:`` blocks (relative names resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip |= {id(n) for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            out.add(".".join([*base, node.module or ""]).strip("."))
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


@pytest.mark.parametrize("folder", ["model", "constraints"])
def test_model_and_constraints_never_import_the_allocator_at_run_time(folder):
    for path in (ROOT / folder).glob("*.py"):
        bad = {m for m in _runtime_imports(path) if m.startswith(("budgetlib.allocator", "budgetlib.io", "budgetlib.pipeline", "budgetlib.cli"))}
        assert not bad, (path.name, bad)


@pytest.mark.parametrize("first", ["budgetlib.constraints.unit_share", "budgetlib.model"])
def test_any_import_order_works(first):
    code = f"import {first}; from budgetlib.model.policy import Constraint; import budgetlib.constraints as c; print(len(c.KINDS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(len(KINDS))
