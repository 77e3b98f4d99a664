"""Shared fixtures: small inline plans (tables in strings, as beancount's tests do)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No per-example deadline (timing belongs in benchmarks/); in CI the examples are derandomised so a
# green run is reproducible, locally they explore afresh each run.
settings.register_profile("budgetlib", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("budgetlib"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "budgetlib")

# An unknown message code must fail the test that hits it (in production it renders as the code).
os.environ.setdefault("BUDGETLIB_STRICT_I18N", "1")

def in_ci() -> bool:
    """CI sets ``CI`` (``.ci/run`` exports ``CI=1``; hosted runners say ``true``)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def require_tool(names: tuple[str, ...], required: str, missing: str) -> str:
    """The first of ``names`` on PATH. A real host the tests need: absent in CI is a failure
    (``required``), elsewhere a skip (``missing``, saying what to install)."""
    for name in names:
        exe = shutil.which(name)
        if exe is not None:
            return exe
    if in_ci():
        pytest.fail(required)
    pytest.skip(missing)


def soffice() -> str:
    return require_tool(("soffice", "libreoffice"), "LibreOffice (soffice) is required in CI: see .ci/run", "LibreOffice (soffice) not installed")


ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def haiphong_path() -> Path:
    return EXAMPLES / "haiphong_2011_2015" / "plan.json"


def tiny_plan_data() -> dict:
    """A valid two-district, two-task, two-year plan as plain data (JSON-shaped)."""
    return {
        "program": {
            "code": "T",
            "name": "Kế hoạch thử",
            "authority": "UBND tỉnh",
            "first_year": 2021,
            "last_year": 2022,
            "total": "1,2 tỷ đồng",
        },
        "units": [
            {"code": "001", "name": "Quận Một", "kind": "Quận", "attributes": {"population": 100000, "communes": 10}},
            {"code": "002", "name": "Huyện Hai", "kind": "Huyện", "attributes": {"population": 50000, "communes": 20}},
        ],
        "agencies": [{"code": "LD", "name": "Sở LĐ-TB&XH"}, {"code": "CA", "name": "Công an tỉnh"}],
        "tasks": [
            {"code": "TT", "name": "Tuyên truyền", "agencies": [{"agency": "LD", "role": "lead"}, {"agency": "CA"}],
             "need": "population + 50*communes"},
            {"code": "KT", "name": "Kiểm tra", "agencies": [{"agency": "CA", "role": "lead"}]},
        ],
        "sources": [{"code": "NS", "name": "Ngân sách tỉnh", "kind": "province_budget"}],
        "targets": [{"code": "C1", "name": "Xã lành mạnh", "baseline": 20, "values": {"2022": 25}, "denominator": 30}],
        "budget_lines": [
            {"task": "TT", "agency": "LD", "year": 2021, "source": "NS", "amount": 300_000_000},
            {"task": "TT", "agency": "LD", "year": 2022, "source": "NS", "amount": 300_000_000},
            {"task": "KT", "agency": "CA", "year": 2021, "source": "NS", "amount": "300 triệu"},
            {"task": "KT", "agency": "CA", "year": 2022, "source": "NS", "amount": 300_000_000},
        ],
    }


@pytest.fixture
def tiny_data() -> dict:
    return tiny_plan_data()


# The version store's tests run against SQLite and a throwaway PostgreSQL server (tests/store_server.py).
from .store_server import postgres_server, store_url  # noqa: E402, F401
