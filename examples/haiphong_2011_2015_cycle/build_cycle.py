"""Build the Hải Phòng 2011–2015 budget cycle example: the plan with its carry-over rules and
6-monthly reporting, and ILLUSTRATIVE actuals for 2011, 2012 and 2013.

The plan is the Hải Phòng example (``../haiphong_2011_2015/build_plan.py``: figures from the
document, assumptions A1–A7) with three more assumptions, labelled A8–A10:

* A8 — what becomes of money not disbursed at year end, per source: the city budget (NS_TP) returns
  to the pool and is re-split next year; the districts' own budgets (NS_QH), central support (TW) and
  donations (XHH) stay with the unit (chuyển nguồn);
* A9 — 6-monthly and yearly reports (the document says only "định kỳ"; the Hà Nội directive and the
  Cần Thơ plan name "6 tháng, 01 năm"), with due dates 20/6 and 15/12 for districts and agencies,
  30/6 and 25/12 for the Sở LĐ-TB&XH's summary to the city and the ministry;
* A10 — the actuals are made up: plausible disbursement rates (about 85–95 % a year, slower in Bạch
  Long Vĩ in 2011 and Kiến An in 2012, three units estimating in mid-2013 that they will not spend
  their whole allocation) and indicator results close to the targets' path (149 → 178 healthy
  communes). They are drawn with a fixed seed and every report says they are illustrative.

The actuals follow the cycle itself: 2011 is disbursed against the plan's allocation; 2012 and 2013
against the splits made after closing the year before (:func:`budgetlib.cycle.carry_over`); the
second half of 2013 against the mid-year revision (:func:`budgetlib.cycle.revise`).

Run: ``python examples/haiphong_2011_2015_cycle/build_cycle.py`` (rewrites plan.json, plan.xlsx,
actuals.json and actuals.xlsx deterministically).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import load_builder  # noqa: E402

from budgetlib import Assumption, Cadence, Plan, ReportingRule, apportion, save_plan  # noqa: E402
from budgetlib.cycle import carry_over, original_state, revise  # noqa: E402
from budgetlib.io.actuals import save_actuals  # noqa: E402
from budgetlib.model.actuals import Actuals, Disbursement, IndicatorResult, Period  # noqa: E402
from budgetlib.model.cycle import CycleState  # noqa: E402
from budgetlib.model.plan import CarryOver  # noqa: E402

SEED = 2013
ROUND = 100_000  # reported amounts are whole 100 000 đ
CARRY = {"NS_TP": CarryOver.POOL, "NS_QH": CarryOver.UNIT, "TW": CarryOver.UNIT, "XHH": CarryOver.UNIT}  # A8
SLOW = {(2011, "318"): 0.70, (2012, "307"): 0.62}  # A10: slower years
ESTIMATES_2013 = {"316": 0.80, "307": 0.75, "312": 0.85}  # A10: units expecting to spend only part of 2013
REPORTERS = "Các sở, ban, ngành; UBND các quận, huyện"
SO = "Sở Lao động - Thương binh và Xã hội"

ASSUMPTIONS = [
    ("A8", "Kinh phí chưa giải ngân cuối năm: ngân sách thành phố (NS_TP) thu hồi về quỹ chung để phân bổ lại năm sau; ngân sách quận, huyện (NS_QH), "
     "trung ương hỗ trợ (TW) và xã hội hóa (XHH) giữ cho đơn vị (chuyển nguồn). Kế hoạch không nêu; người lập chọn.",
     "Money not disbursed at year end: the city budget (NS_TP) returns to the pool and is re-split next year; district budgets (NS_QH), "
     "central support (TW) and donations (XHH) stay with the unit (carried over). Not in the plan; the planner's choice."),
    ("A9", "Báo cáo 6 tháng và hằng năm (kế hoạch chỉ ghi «định kỳ»; Chỉ thị Hà Nội, Kế hoạch Cần Thơ ghi «6 tháng, 01 năm»): các sở, ngành, "
     "quận, huyện gửi Sở LĐ-TB&XH trước 20/6 và 15/12; Sở tổng hợp báo cáo UBND thành phố, Bộ trước 30/6 và 25/12.",
     "6-monthly and yearly reports (the plan says only 'periodically'; the Hà Nội directive and the Cần Thơ plan say '6-monthly, yearly'): "
     "agencies and districts report to the Sở LĐ-TB&XH by 20/6 and 15/12; the Sở reports to the city and the ministry by 30/6 and 25/12."),
    ("A10", "Số liệu giải ngân và kết quả chỉ tiêu 2011–2013 là số MINH HỌA (tạo bằng máy với hạt giống cố định), không phải số liệu thực tế.",
     "Disbursements and indicator results for 2011–2013 are ILLUSTRATIVE (generated with a fixed seed), not actual data."),
]


def build_plan() -> Plan:
    base: Plan = load_builder("haiphong_2011_2015").build()
    sources = [s.model_copy(update={"carry_over": CARRY[s.code]}) for s in base.sources]
    reporting = [
        ReportingRule(cadence=Cadence.SEMIANNUAL, reporter=REPORTERS, recipient=SO, due="20/6",
                      description="Báo cáo kết quả thực hiện 6 tháng đầu năm (A9)"),
        ReportingRule(cadence=Cadence.ANNUAL, reporter=REPORTERS, recipient=SO, due="15/12",
                      description="Báo cáo kết quả thực hiện hằng năm (A9)"),
        ReportingRule(cadence=Cadence.SEMIANNUAL, reporter=SO, recipient="UBND thành phố; Bộ Lao động - Thương binh và Xã hội", due="30/6",
                      description="Tổng hợp chung, báo cáo theo quy định (A9)"),
        ReportingRule(cadence=Cadence.ANNUAL, reporter=SO, recipient="UBND thành phố; Bộ Lao động - Thương binh và Xã hội", due="25/12",
                      description="Tổng hợp chung, báo cáo theo quy định (A9)"),
        *[r for r in base.reporting if r.cadence is Cadence.FINAL],
    ]
    assumptions = [*base.assumptions, *(Assumption(code=c, text_vi=vi, text_en=en) for c, vi, en in ASSUMPTIONS)]
    return Plan.model_validate(base.model_copy(update={"sources": sources, "reporting": reporting, "assumptions": assumptions}).model_dump())


def _floor(x: float) -> int:
    return int(x // ROUND) * ROUND


def _disburse(state: CycleState, year: int, rates: dict[str, float], rng: np.random.Generator, *, half: int | None = None,
              already: dict[tuple[str, str, str], int] | None = None) -> list[Disbursement]:
    """Records for ``year``: each cell disburses rate·allocation (± a little), split into halves
    (``half=None``) or only the first half (``half=1``) or the rest of the year (``half=2``)."""
    y = state.year_index(year)
    out = []
    for u, t, s in np.argwhere(state.amounts[:, :, y, :] > 0):
        unit, task, source = state.units[u], state.tasks[t], state.sources[s]
        allocated = int(state.amounts[u, t, y, s])
        if half == 2:
            done = (already or {}).get((unit, task, source), 0)
            total = min(allocated, max(done, _floor(allocated * min(1.0, rates[unit] * rng.uniform(0.97, 1.03)))))
            out.append(Disbursement(unit=unit, task=task, source=source, period=Period(year, 2), amount=total - done))
            continue
        year_total = _floor(allocated * min(1.0, rates[unit] * rng.uniform(0.95, 1.05)))
        first = _floor(year_total * rng.uniform(0.36, 0.46))
        if half == 1:
            out.append(Disbursement(unit=unit, task=task, source=source, period=Period(year, 1), amount=first))
        else:
            out.append(Disbursement(unit=unit, task=task, source=source, period=Period(year, 1), amount=first))
            out.append(Disbursement(unit=unit, task=task, source=source, period=Period(year, 2), amount=year_total - first))
    return out


def _results(plan: Plan) -> list[IndicatorResult]:
    """Indicator levels per district at the end of each period (A10), spread over the districts in
    proportion to their room (communes not yet healthy, estimated managed persons, communes)."""
    units = plan.units
    out: list[IndicatorResult] = []
    paths = {  # program-wide level reached at the end of each period
        "CT2": {"2011H1": 151, "2011": 154, "2012H1": 157, "2012": 160, "2013H1": 162, "2013": 165},
        "CT1": {"2011H1": 40, "2011": 85, "2012H1": 125, "2012": 170, "2013H1": 210, "2013": 250},
        "CT3": {"2011H1": 20, "2011": 50, "2012H1": 70, "2012": 95, "2013H1": 120, "2013": 140},
    }
    base = {"CT2": [u.attributes["healthy_communes"] for u in units], "CT1": [0.0] * len(units), "CT3": [0.0] * len(units)}
    room = {
        "CT2": [u.attributes["communes"] - u.attributes["healthy_communes"] for u in units],
        "CT1": [u.attributes["managed_persons_est"] for u in units],
        "CT3": [u.attributes["communes"] for u in units],
    }
    for target, path in paths.items():
        start = int(sum(base[target]))
        for period, level in path.items():
            gain = apportion(int(level) - start, room[target], upper=[int(r) for r in room[target]])
            for u, g in zip(units, gain):
                value = float(base[target][units.index(u)] + int(g))
                out.append(IndicatorResult(target=target, unit=u.code, period=Period.parse(period), value=value))
    return out


def build() -> tuple[Plan, Actuals, CycleState]:
    plan = build_plan()
    rng = np.random.default_rng(SEED)
    state = original_state(plan)
    records: list[Disbursement] = []
    for year in (2011, 2012):
        rates = {u: SLOW.get((year, u), float(rng.uniform(0.84, 0.96))) for u in state.units}
        records += _disburse(state, year, rates, rng)
        step = carry_over(plan, state, Actuals(plan=plan.program.code, disbursements=records), year)
        assert step.state is not None
        state = step.state
    # 2013: the first half, with three units estimating they will not spend their whole allocation.
    rates_2013 = {u: float(rng.uniform(0.88, 0.97)) for u in state.units}
    first = _disburse(state, 2013, rates_2013, rng, half=1)
    records += [
        d.model_copy(update={"forecast": _floor(ESTIMATES_2013[d.unit] * int(state.amounts[state.units.index(d.unit), state.tasks.index(d.task),
                                                                                             state.year_index(2013), state.sources.index(d.source)]))})
        if d.unit in ESTIMATES_2013 else d
        for d in first
    ]
    h1 = Actuals(plan=plan.program.code, disbursements=records)
    rev = revise(plan, state, h1, Period(2013, 1))
    assert rev.state is not None
    done = {(d.unit, d.task, d.source): d.amount for d in first}
    rates_2013.update({u: ESTIMATES_2013[u] * 0.98 for u in ESTIMATES_2013})
    records += _disburse(rev.state, 2013, rates_2013, rng, half=2, already=done)
    actuals = Actuals(
        plan=plan.program.code,
        title="Số liệu thực hiện 2011–2013 (minh họa) / Actuals 2011–2013 (illustrative)",
        illustrative=True,
        note="A10: số liệu minh họa, không phải số liệu thực tế / illustrative figures, not actual data",
        disbursements=records,
        results=_results(plan),
    )
    return plan, Actuals.from_dict(actuals.to_dict()), rev.state


def main() -> None:
    from budgetlib.io.workbook import write_plan_workbook, write_sheets
    from budgetlib.io.workbook.actuals import actuals_sheets

    plan, actuals, state = build()
    save_plan(plan, HERE / "plan.json")
    write_plan_workbook(plan, HERE / "plan.xlsx", lang="vi")
    save_actuals(actuals, HERE / "actuals.json")
    write_sheets(actuals_sheets(plan, state, actuals=actuals, lang="vi"), HERE / "actuals.xlsx")
    print(f"wrote {HERE.name}: plan.json, plan.xlsx, actuals.json ({len(actuals.disbursements)} disbursements, "
          f"{len(actuals.results)} results), actuals.xlsx")


if __name__ == "__main__":
    main()
