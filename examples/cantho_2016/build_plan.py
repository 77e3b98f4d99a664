"""Build ``plan.json`` for Cần Thơ's 2016 anti-prostitution plan (Kế hoạch số 80/KH-UBND, 16/6/2016).

From the source document (``/plans`` file 004):

* eight groups of measures (section II.1–8), modelled as tasks;
* three pilot models, each in a named district (II.8): support services for sex workers and the
  work of the social work centre — Quận Cái Răng (8.1); protecting workers' rights in service
  establishments — Quận Ninh Kiều (8.2); clubs / self-help / peer groups — Quận Bình Thủy (8.3);
* agencies: Sở LĐ-TB&XH standing agency (III.1, III.4) with Chi cục phòng, chống tệ nạn xã hội;
  Sở Tài chính arranges the funds (III.3); UBND quận, huyện (II.1, III.2); Ban Chỉ đạo 138 (II.1,
  III.2); Mặt trận Tổ quốc and member organisations (III.5); Trung tâm Công tác xã hội (8.1);
* reporting: "định kỳ, 06 tháng, 01 năm và đột xuất" through Sở LĐ-TB&XH to Ban chỉ đạo 138 and
  UBND thành phố (III.2);
* funding: city departments' and localities' annual estimates (III.3), plus contributions of
  organisations and individuals (II.6) — no amount.

Units, codes, commune counts: ``examples/data/cantho_2016_districts.csv`` (9 units, 85 communes).
All amounts are **assumptions** (A1…), listed in the plan and in the README.

The social work centre's share is modelled as a *task* (``CTXH``, led by the centre) rather than
a line outside the allocation: the plan asks the centre to work "ngoài cộng đồng" (in the
community), so its budget is split across districts by need as an indicative geography of its
outreach, and it reconciles in the same tables as every other task.

Run: ``python examples/cantho_2016/build_plan.py`` (rewrites plan.json deterministically).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import assumptions, district_units, main, roles  # noqa: E402

from budgetlib import (  # noqa: E402
    Agency,
    AllocationPolicy,
    Cadence,
    CapConstraint,
    EarmarkConstraint,
    EligibilityConstraint,
    FloorConstraint,
    FundingSource,
    MoneyUnit,
    NeedDriver,
    Plan,
    Program,
    ReportingRule,
    SourceKind,
    Target,
    TargetConstraint,
    Task,
    build_budget_lines,
    parse_amount,
)

YEARS = [2016]
TOTAL = parse_amount("3 tỷ đồng")  # A1
PILOT_COST = parse_amount("150 triệu đồng")  # A2, per pilot model
NINH_KIEU, BINH_THUY, CAI_RANG = "916", "918", "919"  # II.8.2, II.8.3, II.8.1
PILOTS = {"MH1": CAI_RANG, "MH2": NINH_KIEU, "MH3": BINH_THUY}

AGENCIES = [
    ("LDTBXH", "Sở Lao động - Thương binh và Xã hội (Chi cục phòng, chống tệ nạn xã hội)", "Department of Labour, Invalids and Social Affairs (standing agency)"),
    ("TC", "Sở Tài chính", "Department of Finance"),
    ("BCD138", "Ban Chỉ đạo 138 các cấp", "Steering committees 138"),
    ("UBND_QH", "Ủy ban nhân dân quận, huyện", "District People's Committees"),
    ("MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam thành phố và các tổ chức thành viên", "Fatherland Front and member organisations"),
    ("TTCTXH", "Trung tâm Công tác xã hội thành phố", "City Social Work Centre"),
    ("SBN", "Các sở, ban, ngành thành phố có liên quan", "Other city departments"),
]

TASKS = [
    Task(code="CD", name="Chỉ đạo, triển khai; kiểm tra, đánh giá của Ban Chỉ đạo 138 các cấp", name_en="Direction, supervision and evaluation",
         agencies=roles("LDTBXH", "BCD138", "UBND_QH", "SBN"), need=NeedDriver.parse("communes + 1"), description="II.1"),
    Task(code="TT", name="Tuyên truyền, giáo dục", name_en="Propaganda and education",
         agencies=roles("LDTBXH", "MTTQ", "UBND_QH"), need=NeedDriver.parse("population + 5000*communes"), description="II.2; III.5"),
    Task(code="ASXH", name="Lồng ghép chính sách an sinh xã hội; trợ vốn, dạy nghề, tạo việc làm cho người tái hòa nhập cộng đồng",
         name_en="Social protection, credit, vocational training and jobs for reintegration",
         agencies=roles("LDTBXH", "UBND_QH", "MTTQ"), need=NeedDriver.parse("population"), description="II.3 và II.6 (QĐ 29/2014/QĐ-TTg; NQ 12/2015/NQ-HĐND)"),
    Task(code="KT", name="Quản lý địa bàn, kiểm tra liên ngành, phối hợp triệt phá tụ điểm mại dâm", name_en="Area management, inter-agency inspection (Đội 178)",
         agencies=roles("LDTBXH", "UBND_QH", "BCD138"), need=NeedDriver.parse("population + 5000*communes"), description="II.4 (Nghị định 178/2004/NĐ-CP)"),
    Task(code="XP", name="Xây dựng xã, phường, thị trấn lành mạnh không có tệ nạn mại dâm", name_en="Healthy communes free of prostitution",
         agencies=roles("UBND_QH", "LDTBXH", "MTTQ"), need=NeedDriver.parse("communes"), description="II.5"),
    Task(code="NL", name="Nâng cao năng lực cơ quan chuyên trách, Đội công tác xã hội tình nguyện cấp xã", name_en="Capacity building of specialised staff and volunteer teams",
         agencies=roles("LDTBXH", "UBND_QH"), need=NeedDriver.parse("communes + 1"), description="II.7"),
    Task(code="MH1", name="Mô hình cung cấp dịch vụ hỗ trợ cho người bán dâm tại cộng đồng (thí điểm tại quận Cái Răng)",
         name_en="Pilot: support services for sex workers in the community (Cái Răng)",
         agencies=roles("LDTBXH", "TTCTXH", "UBND_QH"), need=NeedDriver.parse("pilot_site"), description="II.8.1"),
    Task(code="MH2", name="Mô hình hỗ trợ bảo đảm quyền của người lao động trong cơ sở kinh doanh dịch vụ (thí điểm tại quận Ninh Kiều)",
         name_en="Pilot: workers' rights in service establishments (Ninh Kiều)",
         agencies=roles("LDTBXH", "UBND_QH"), need=NeedDriver.parse("pilot_site"), description="II.8.2"),
    Task(code="MH3", name="Mô hình tăng cường năng lực câu lạc bộ, nhóm tự lực, nhóm đồng đẳng (thí điểm tại quận Bình Thủy)",
         name_en="Pilot: clubs, self-help and peer groups (Bình Thủy)",
         agencies=roles("LDTBXH", "MTTQ", "UBND_QH"), need=NeedDriver.parse("pilot_site"), description="II.8.3"),
    Task(code="CTXH", name="Hoạt động của Trung tâm Công tác xã hội với người bán dâm ngoài cộng đồng",
         name_en="Social work centre: outreach to sex workers in the community",
         agencies=roles("TTCTXH", "LDTBXH"), need=NeedDriver.parse("population"), description="II.8.1 (gạch đầu dòng 5)"),
]

# A3: task shares; the three pilots get exactly PILOT_COST each (5% of 3 tỷ).
TASK_SHARES = {"CD": 0.05, "TT": 0.17, "ASXH": 0.14, "KT": 0.20, "XP": 0.09, "NL": 0.10, "MH1": 0.05, "MH2": 0.05, "MH3": 0.05, "CTXH": 0.10}
SOURCE_SHARES = {"NS_TP": 0.70, "NS_QH": 0.25, "XHH": 0.05}  # A4
BY_NEED = [t for t in TASK_SHARES if t not in PILOTS]

SOURCES = [
    FundingSource(code="NS_TP", name="Ngân sách thành phố (dự toán các sở, ban, ngành)", kind=SourceKind.PROVINCE_BUDGET),
    FundingSource(code="NS_QH", name="Ngân sách quận, huyện", kind=SourceKind.DISTRICT_BUDGET),
    FundingSource(code="XHH", name="Đóng góp của tổ chức, cá nhân", kind=SourceKind.SOCIALIZATION, tasks=["ASXH"]),
]


def _extra(row: dict[str, str]) -> dict[str, float]:
    return {"pilot_site": 1.0 if row["district_code"] in PILOTS.values() else 0.0, "pilot_done": 0.0}


def build() -> Plan:
    units = district_units("cantho_2016_districts.csv", _extra)
    names = {u.code: u.name for u in units}
    lines = build_budget_lines(TOTAL, YEARS, TASKS, SOURCES, task_shares=TASK_SHARES, source_shares=SOURCE_SHARES, unit=1_000_000)
    pilot_total = {t: sum(line.amount for line in lines if line.task == t) for t in PILOTS}
    assert all(v == PILOT_COST for v in pilot_total.values()), pilot_total
    constraints = []
    for task, unit in PILOTS.items():
        constraints.append(EligibilityConstraint(name=f"Mô hình {task} chỉ thực hiện tại {names[unit]}", tasks=[task], units=[unit]))
        constraints.append(EarmarkConstraint(name=f"Bố trí riêng {task} cho {names[unit]}: 150 triệu đồng", unit=unit, task=task, amount=PILOT_COST))
    constraints += [
        FloorConstraint(name="Sàn tuyên truyền 20 triệu đồng/quận, huyện", tasks=["TT"], amount=20_000_000),
        CapConstraint(name="Trần 25% kinh phí nhiệm vụ cho một quận, huyện", tasks=BY_NEED, share_of_budget=0.25),
    ]
    targets = []
    for i, (task, unit) in enumerate(PILOTS.items(), start=1):
        t = next(t for t in TASKS if t.code == task)
        targets.append(
            Target(code=f"CT{i}", name=f"Xây dựng và vận hành mô hình thí điểm {task} tại {names[unit]}", name_en=f"Pilot model {task} built and run in {names[unit]}",
                   unit="mô hình", values={2016: 1}, task=task)
        )
        constraints.append(
            TargetConstraint(name=f"Mô hình {task} đủ kinh phí ({t.name_en})", target=f"CT{i}", task=task, unit_cost=PILOT_COST,
                             capacity_attribute="pilot_site", baseline_attribute="pilot_done", integer=True)
        )
    reporting = [
        ReportingRule(cadence=c, reporter="Các sở, ban, ngành thành phố; UBND quận, huyện",
                      recipient="Sở LĐ-TB&XH (Chi cục phòng, chống tệ nạn xã hội) tổng hợp, báo cáo Ban chỉ đạo 138 và UBND thành phố",
                      description=f"Báo cáo {label} về tình hình, kết quả phòng, chống mại dâm (III.2)")
        for c, label in ((Cadence.SEMIANNUAL, "06 tháng"), (Cadence.ANNUAL, "01 năm"), (Cadence.AD_HOC, "đột xuất"))
    ]
    return Plan(
        program=Program(
            code="CT-PCMD-2016",
            name="Kế hoạch thực hiện Chương trình phòng, chống mại dâm năm 2016 trên địa bàn thành phố Cần Thơ",
            authority="Ủy ban nhân dân thành phố Cần Thơ",
            locality="Thành phố Cần Thơ",
            level="province",
            first_year=2016,
            last_year=2016,
            total=TOTAL,
            display_unit=MoneyUnit.TRIEU,
            document="Kế hoạch số 80/KH-UBND ngày 16/6/2016 của UBND thành phố Cần Thơ (theo QĐ 361/QĐ-TTg ngày 07/3/2016)",
        ),
        units=units,
        agencies=[Agency(code=c, name=n, name_en=e) for c, n, e in AGENCIES],
        tasks=TASKS,
        sources=SOURCES,
        targets=targets,
        budget_lines=lines,
        reporting=reporting,
        allocation=AllocationPolicy(kind="min_deviation", level="district", rounding_unit=1_000_000, deviation="relative", constraints=constraints),
        assumptions=assumptions(
            [
                ("A1", "Tổng kinh phí 3 tỷ đồng năm 2016 là giả định: Kế hoạch giao Sở Tài chính bố trí trong dự toán, không nêu số.", "The 3 billion VND total for 2016 is assumed: the plan leaves the amount to the Department of Finance."),
                ("A2", "Mỗi mô hình thí điểm 150 triệu đồng (tham khảo khung QĐ 1875/QĐ-LĐTBXH: hỗ trợ y tế tối đa 400.000 đồng/ca, khoảng 100 ca/năm, cộng đào tạo, trang thiết bị, nhóm đồng đẳng; văn bản này ban hành sau 2016, chỉ dùng để ước độ lớn).",
                 "Each pilot model costs 150 million VND (order of magnitude from QĐ 1875/QĐ-LĐTBXH norms: up to 400,000 VND per health case, ~100 cases a year, plus training, equipment, peer groups; that decision post-dates 2016)."),
                ("A3", "Cơ cấu theo nhiệm vụ: CD 5%, TT 17%, ASXH 14%, KT 20%, XP 9%, NL 10%, ba mô hình 5% mỗi mô hình, Trung tâm CTXH 10%.", "Task shares: CD 5%, TT 17%, ASXH 14%, KT 20%, XP 9%, NL 10%, 5% per pilot model, social work centre 10%."),
                ("A4", "Cơ cấu nguồn: ngân sách thành phố 70%, quận, huyện 25%, đóng góp tổ chức, cá nhân 5% (chỉ cho ASXH).", "Sources: city budget 70%, districts 25%, contributions 5% (ASXH only)."),
                ("A5", "Dân số Tổng điều tra 2019 làm chỉ số nhu cầu (không có số liệu 2016 theo quận, huyện, trừ Cái Răng).", "2019 census population is the need proxy (no 2016 district figures except Cái Răng)."),
                ("A6", "Phần kinh phí của Trung tâm Công tác xã hội là một nhiệm vụ (CTXH) chia theo dân số các quận, huyện như địa bàn hoạt động ngoài cộng đồng của Trung tâm; sàn tuyên truyền 20 triệu đồng, trần 25% là lựa chọn của người lập.",
                 "The social work centre's share is a task (CTXH) split across districts by population as the geography of its community outreach; the 20 million propaganda floor and the 25% cap are the planner's choices."),
            ]
        ),
    )


def build_all() -> dict[str, Plan]:
    return {"plan.json": build()}


if __name__ == "__main__":
    main(HERE, build_all)
