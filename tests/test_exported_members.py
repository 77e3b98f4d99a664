"""The public API is curated: everything in __all__ exists, and nothing public is forgotten."""

import doctest
import importlib

import budgetlib


def test_all_exports_exist():
    for name in budgetlib.__all__:
        assert hasattr(budgetlib, name), name


SUBPACKAGES = {"core", "model", "constraints", "planning", "io", "cli", "allocator", "pipeline", "addin", "cycle", "store", "calc",
               "report"}


def test_public_names_are_exactly_the_exports():
    public = {n for n in dir(budgetlib) if not n.startswith("_")}
    assert len(budgetlib.__all__) == len(set(budgetlib.__all__)), "a name is exported twice"
    assert set(budgetlib.__all__) - {"__version__"} == public - SUBPACKAGES


def test_doctests_of_the_core():
    for name in ["budgetlib", "budgetlib.core.money", "budgetlib.core.text", "budgetlib.core.lang", "budgetlib.core.i18n",
                 "budgetlib.core.problems", "budgetlib.io.grid", "budgetlib.io.files", "budgetlib.planning.phasing",
                 "budgetlib.planning.summary", "budgetlib.model.plan"]:
        result = doctest.testmod(importlib.import_module(name))
        assert result.failed == 0, name
