"""Small plans and actuals for the budget-cycle tests (tables in code, next to the assertions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from budgetlib.model.actuals import Actuals, Disbursement, IndicatorResult, Period
from budgetlib.planning.validation import load_plan_data

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HP_CYCLE = EXAMPLES / "haiphong_2011_2015_cycle"
TN_CHAIN = EXAMPLES / "tayninh_2022_chain"


def small_plan_data(*, carry: tuple[str | None, str | None] = ("pool", "unit"), stability: bool = False, reporting: bool = True) -> dict[str, Any]:
    """Three districts, two tasks, three years, two sources (province budget, district budget)."""
    years = [2021, 2022, 2023]
    lines = []
    for y, grow in zip(years, (100, 110, 120)):
        lines += [
            {"task": "TT", "agency": "LD", "year": y, "source": "NS_T", "amount": grow * 3_000_000},
            {"task": "TT", "agency": "LD", "year": y, "source": "NS_H", "amount": grow * 1_000_000},
            {"task": "KT", "agency": "CA", "year": y, "source": "NS_T", "amount": grow * 2_000_000},
        ]
    sources = [
        {"code": "NS_T", "name": "Ngân sách tỉnh", "kind": "province_budget"},
        {"code": "NS_H", "name": "Ngân sách huyện", "kind": "district_budget", "tasks": ["TT"]},
    ]
    for s, rule in zip(sources, carry):
        if rule is not None:
            s["carry_over"] = rule
    constraints: list[dict[str, Any]] = [{"type": "floor", "name": "Sàn tuyên truyền 20 triệu đồng", "tasks": ["TT"], "amount": 20_000_000}]
    if stability:
        constraints.append({"type": "stability", "name": "Biến động không quá ±30%", "max_change": 0.3})
    total = sum(ln["amount"] for ln in lines)
    data: dict[str, Any] = {
        "program": {"code": "NHO", "name": "Kế hoạch nhỏ", "authority": "UBND tỉnh", "first_year": 2021, "last_year": 2023, "total": total},
        "units": [
            {"code": "701", "name": "Huyện Một", "kind": "Huyện", "attributes": {"population": 100_000, "communes": 10}},
            {"code": "702", "name": "Huyện Hai", "kind": "Huyện", "attributes": {"population": 60_000, "communes": 12}},
            {"code": "703", "name": "Thị xã Ba", "kind": "Thị xã", "attributes": {"population": 40_000, "communes": 6}},
        ],
        "agencies": [{"code": "LD", "name": "Sở LĐ-TB&XH"}, {"code": "CA", "name": "Công an tỉnh"}],
        "tasks": [
            {"code": "TT", "name": "Tuyên truyền", "agencies": [{"agency": "LD", "role": "lead"}], "need": "population"},
            {"code": "KT", "name": "Kiểm tra", "agencies": [{"agency": "CA", "role": "lead"}], "need": "population + 5000*communes"},
        ],
        "sources": sources,
        "targets": [{"code": "C1", "name": "Xã lành mạnh", "baseline": 20, "baseline_year": 2020, "values": {"2023": 26}, "denominator": 28}],
        "budget_lines": lines,
        "allocation": {"kind": "min_deviation", "level": "district", "rounding_unit": 1000, "constraints": constraints},
    }
    if reporting:
        data["reporting"] = [
            {"cadence": "semiannual", "reporter": "UBND các huyện", "recipient": "Sở LĐ-TB&XH", "due": "20/6"},
            {"cadence": "annual", "reporter": "UBND các huyện", "recipient": "Sở LĐ-TB&XH", "due": "15/12"},
            {"cadence": "final", "reporter": "Sở LĐ-TB&XH", "recipient": "UBND tỉnh", "due": "31/12"},
        ]
    return data


def small_plan(**kwargs: Any):
    return load_plan_data(small_plan_data(**kwargs))


def disbursed_share(state, year: int, share: float, *, half: int | None = None, round_to: int = 1000) -> list[Disbursement]:
    """A disbursement record for every cell with an allocation: ``share`` of it (rounded down)."""
    y = state.year_index(year)
    out = []
    for u, unit in enumerate(state.units):
        for t, task in enumerate(state.tasks):
            for s, source in enumerate(state.sources):
                a = int(state.amounts[u, t, y, s])
                if a > 0:
                    out.append(Disbursement(unit=unit, task=task, source=source, period=Period(year, half), amount=int(a * share) // round_to * round_to))
    return out


def actuals(records: list[Disbursement], results: list[IndicatorResult] | None = None, *, plan: str = "NHO") -> Actuals:
    return Actuals(plan=plan, disbursements=records, results=results or [])
