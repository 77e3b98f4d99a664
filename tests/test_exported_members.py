"""The public API is curated: everything in __all__ exists, and nothing public is forgotten."""

import doctest
import importlib

import budgetlib


def test_all_exports_exist():
    for name in budgetlib.__all__:
        assert hasattr(budgetlib, name), name


def test_public_names_are_exported():
    public = {n for n in dir(budgetlib) if not n.startswith("_")}
    modules = {"core", "model", "constraints", "planning", "io", "cli", "allocator", "pipeline", "addin", "cycle", "store", "calc"}
    assert public - modules - set(budgetlib.__all__) == set()


def test_doctests_of_the_core():
    for name in ["budgetlib", "budgetlib.core.money", "budgetlib.core.text", "budgetlib.planning.phasing",
                 "budgetlib.planning.summary", "budgetlib.model.plan"]:
        result = doctest.testmod(importlib.import_module(name))
        assert result.failed == 0, name
