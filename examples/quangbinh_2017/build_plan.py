"""Build ``plan.json`` for Quảng Bình's 2017 anti-prostitution plan (Kế hoạch thực hiện nhiệm vụ
phòng, chống mại dâm năm 2017, UBND tỉnh Quảng Bình).

From the source document (``/plans`` file 003):

* targets (I.2 "Yêu cầu"): 75% of communes run at least one propaganda form (0.75 × 159 = 119.25,
  so at least 120 communes); 100% of district-level units make an integrated plan; one pilot model
  ("Xây dựng thí điểm 01 mô hình"), placed in Thành phố Đồng Hới (II.3); police handle 100% of
  detected cases; 01–02 communes newly "healthy" while keeping the existing ones;
* five groups of tasks (II.1–5) and the agency roles (IV.1–11);
* funding (III): central support, the provincial budget in the annual estimates of departments and
  localities, and donations of domestic and foreign organisations and individuals — no amounts;
* reporting (IV.1, IV.11): districts report to Sở LĐ-TB&XH "đột xuất, thường xuyên, định kỳ tháng,
  quý, năm"; Sở LĐ-TB&XH reports periodically to the provincial steering committee, UBND tỉnh and
  Bộ LĐ-TB&XH.

Units, codes, commune counts: ``examples/data/quangbinh_2017_districts.csv`` (8 units, 159
communes). Amounts, unit costs and baselines are **assumptions** (A1…), listed in the plan and the
README. ``run.py`` in this folder reports target attainment and the cheapest budget meeting them.

Run: ``python examples/quangbinh_2017/build_plan.py`` (rewrites plan.json deterministically).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import assumptions, district_units, main, read_csv, roles  # noqa: E402

from budgetlib import (  # noqa: E402
    Agency,
    AllocationPolicy,
    Cadence,
    CapConstraint,
    EligibilityConstraint,
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
    apportion,
    build_budget_lines,
    parse_amount,
)

YEARS = [2017]
TOTAL = parse_amount("2,4 tỷ đồng")  # A1
DONG_HOI = "450"  # II.3: "Xây dựng thí điểm mô hình ... tại thành phố Đồng Hới"
PROPAGANDA_SHARE = 0.75  # I.2: "Phấn đấu 75% xã, phường, thị trấn tổ chức được ít nhất một hình thức tuyên truyền"
NEW_HEALTHY = 1  # I.2: "chuyển hóa mới từ 01-02 xã" — the lower end is the requirement
HEALTHY_SHARE_2016 = 0.60  # A5
COST_PROPAGANDA = parse_amount("6 triệu đồng")  # A4, per commune and year
COST_PILOT = parse_amount("200 triệu đồng")  # A4
COST_HEALTHY = parse_amount("50 triệu đồng")  # A4, per newly healthy commune
COST_CASES = parse_amount("20 triệu đồng")  # A6, per district: enforcement able to handle every detected case
COST_PLAN = parse_amount("10 triệu đồng")  # A6, per district integrated plan

AGENCIES = [
    ("LDTBXH", "Sở Lao động - Thương binh và Xã hội", "Department of Labour, Invalids and Social Affairs"),
    ("CA", "Công an tỉnh", "Provincial Police"),
    ("VHTT", "Sở Văn hóa và Thể thao", "Department of Culture and Sports"),
    ("GDDT", "Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    ("YT", "Sở Y tế", "Department of Health"),
    ("CT", "Sở Công thương", "Department of Industry and Trade"),
    ("TTTT", "Sở Thông tin và Truyền thông", "Department of Information and Communications"),
    ("DL", "Sở Du lịch", "Department of Tourism"),
    ("VKS_TA", "Viện kiểm sát nhân dân, Tòa án nhân dân tỉnh", "Provincial Procuracy and People's Court"),
    ("MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Provincial Fatherland Front"),
    ("HLHPN", "Hội Liên hiệp Phụ nữ tỉnh", "Provincial Women's Union"),
    ("TD", "Tỉnh đoàn", "Provincial Youth Union"),
    ("UBND_H", "UBND các huyện, thị xã, thành phố", "District People's Committees"),
]

TASKS = [
    Task(code="TT", name="Thông tin, tuyên truyền, phổ biến chính sách, pháp luật về phòng, chống mại dâm", name_en="Information and propaganda",
         agencies=roles("TTTT", "VHTT", "GDDT", "MTTQ", "HLHPN", "TD", "UBND_H"), need=NeedDriver.parse("communes"), description="II.1; IV.3, IV.4, IV.7, IV.10"),
    Task(code="QL", name="Quản lý nhà nước, lồng ghép với các chương trình giảm nghèo, dạy nghề, việc làm, phòng, chống HIV/AIDS, mua bán người",
         name_en="State management and integration with social programmes", agencies=roles("LDTBXH", "UBND_H"), need=NeedDriver.parse("1"), description="II.2.a; IV.1, IV.11"),
    Task(code="KT", name="Kiểm tra, đấu tranh phòng, chống mại dâm; Đội kiểm tra liên ngành 178", name_en="Inspection and enforcement (Đội 178)",
         agencies=roles("CA", "LDTBXH", "VHTT", "YT", "CT", "DL", "VKS_TA", "UBND_H"), need=NeedDriver.parse("population + 5000*communes"), description="II.2.b; IV.2, IV.5, IV.6, IV.8, IV.9"),
    Task(code="HT", name="Phòng ngừa, can thiệp giảm tác hại, hỗ trợ người bán dâm tái hòa nhập cộng đồng", name_en="Prevention, harm reduction and reintegration support",
         agencies=roles("LDTBXH", "YT", "HLHPN", "UBND_H"), need=NeedDriver.parse("population"), description="II.3 (trừ mô hình thí điểm)"),
    Task(code="MH", name="Mô hình thí điểm cung cấp dịch vụ hỗ trợ cho người bán dâm tại thành phố Đồng Hới", name_en="Pilot support-service model in Đồng Hới",
         agencies=roles("LDTBXH", "UBND_H", "HLHPN", "YT"), need=NeedDriver.parse("pilot_site"), description="I.2; II.3 gạch đầu dòng 1"),
    Task(code="XP", name="Xây dựng và duy trì xã, phường, thị trấn lành mạnh", name_en="Building and keeping healthy communes",
         agencies=roles("UBND_H", "LDTBXH", "MTTQ", "VHTT"), need=NeedDriver.parse("unhealthy_communes"), description="II.4 (NQLT 01/2008)"),
    Task(code="NL", name="Tập huấn nâng cao năng lực", name_en="Training and capacity building",
         agencies=roles("LDTBXH", "VKS_TA", "TTTT", "UBND_H"), need=NeedDriver.parse("communes + 1"), description="II.5"),
]

TASK_SHARES = {"TT": 0.35, "QL": 0.05, "KT": 0.17, "HT": 0.13, "MH": 0.10, "XP": 0.10, "NL": 0.10}  # A3
SOURCE_SHARES = {"TW": 0.30, "NS_T": 0.65, "TAITRO": 0.05}  # A2

SOURCES = [
    FundingSource(code="TW", name="Ngân sách Trung ương hỗ trợ", kind=SourceKind.CENTRAL_SUPPORT),
    FundingSource(code="NS_T", name="Ngân sách tỉnh (dự toán các sở, ngành, địa phương)", kind=SourceKind.PROVINCE_BUDGET),
    FundingSource(code="TAITRO", name="Tài trợ của tổ chức, cá nhân trong nước, ngoài nước", kind=SourceKind.SOCIALIZATION, tasks=["HT", "MH"]),
]


def build(total: int = TOTAL) -> Plan:
    """The plan; ``total`` other than A1's 2,4 tỷ gives a what-if variant (``run.py`` uses 1 tỷ)."""
    rows = read_csv("quangbinh_2017_districts.csv")
    communes = [int(r["n_communes"]) for r in rows]
    total_communes = sum(communes)
    need_propaganda = math.ceil(PROPAGANDA_SHARE * total_communes)  # 120 of 159
    healthy = apportion(round(HEALTHY_SHARE_2016 * total_communes), communes, upper=communes)
    extra = {
        r["district_code"]: {
            "pilot_site": 1.0 if r["district_code"] == DONG_HOI else 0.0,
            "pilot_done": 0.0,
            "propaganda_communes": 0.0,
            "slot": 1.0,  # each district counts once (CT4, CT5)
            "slot_done": 0.0,
            "healthy_communes": float(h),
            "unhealthy_communes": float(n - h),
        }
        for r, n, h in zip(rows, communes, healthy)
    }
    units = district_units("quangbinh_2017_districts.csv", lambda r: extra[r["district_code"]])
    lines = build_budget_lines(total, YEARS, TASKS, SOURCES, task_shares=TASK_SHARES, source_shares=SOURCE_SHARES, unit=1_000_000)
    n_units = len(units)
    baseline_healthy = int(sum(healthy))
    targets = [
        Target(code="CT1", name="Xã, phường, thị trấn tổ chức được ít nhất một hình thức tuyên truyền (75%)", name_en="Communes running at least one propaganda form (75%)",
               unit="xã, phường, thị trấn", baseline=0, baseline_year=2016, values={2017: need_propaganda}, denominator=total_communes, task="TT"),
        Target(code="CT2", name="Mô hình thí điểm tại thành phố Đồng Hới", name_en="Pilot model in Đồng Hới", unit="mô hình", values={2017: 1}, task="MH"),
        Target(code="CT3", name="Xã, phường, thị trấn lành mạnh không có mại dâm (chuyển hóa mới 01–02)", name_en="Healthy communes (1–2 newly healthy)",
               unit="xã, phường, thị trấn", baseline=baseline_healthy, baseline_year=2016, values={2017: baseline_healthy + NEW_HEALTHY}, denominator=total_communes, task="XP"),
        # I.2: "xử lý 100% các vụ phát hiện" — counted as every district's enforcement funded to handle its cases (A6)
        Target(code="CT4", name="Vụ việc vi phạm liên quan đến mại dâm được phát hiện được điều tra, xử lý (100%: lực lượng mọi huyện đủ kinh phí)",
               name_en="Detected prostitution-related cases investigated and handled (100%: enforcement funded in every district)",
               unit="huyện, thị xã, thành phố", values={2017: n_units}, denominator=n_units, task="KT"),
        Target(code="CT5", name="Huyện, thị xã, thành phố xây dựng kế hoạch lồng ghép", name_en="District-level units with an integrated plan",
               unit="huyện, thị xã, thành phố", values={2017: n_units}, denominator=n_units, task="QL"),
    ]
    constraints = [
        EligibilityConstraint(name="Mô hình thí điểm chỉ tại thành phố Đồng Hới", tasks=["MH"], units=[DONG_HOI]),
        CapConstraint(name="Trần 30% kinh phí nhiệm vụ cho một huyện, thị xã, thành phố", tasks=["TT", "QL", "KT", "HT", "XP", "NL"], share_of_budget=0.30),
        TargetConstraint(name=f"{need_propaganda}/{total_communes} xã có ít nhất một hình thức tuyên truyền (6 triệu đồng/xã)", target="CT1", task="TT",
                         unit_cost=COST_PROPAGANDA, capacity_attribute="communes", baseline_attribute="propaganda_communes", required=need_propaganda, integer=True),
        TargetConstraint(name="01 mô hình thí điểm tại Đồng Hới (200 triệu đồng)", target="CT2", task="MH", unit_cost=COST_PILOT,
                         capacity_attribute="pilot_site", baseline_attribute="pilot_done", required=1, integer=True),
        TargetConstraint(name="Chuyển hóa mới ít nhất 01 xã lành mạnh (50 triệu đồng/xã)", target="CT3", task="XP", unit_cost=COST_HEALTHY,
                         capacity_attribute="communes", baseline_attribute="healthy_communes", required=NEW_HEALTHY, integer=True),
        TargetConstraint(name="100% vụ việc được xử lý: Đội 178 và công an mỗi huyện có ít nhất 20 triệu đồng", target="CT4", task="KT",
                         unit_cost=COST_CASES, capacity_attribute="slot", baseline_attribute="slot_done", required=n_units, integer=True),
        TargetConstraint(name="8/8 huyện, thị xã, thành phố có kế hoạch lồng ghép (10 triệu đồng/kế hoạch)", target="CT5", task="QL",
                         unit_cost=COST_PLAN, capacity_attribute="slot", baseline_attribute="slot_done", required=n_units, integer=True),
    ]
    reporting = [
        ReportingRule(cadence=c, reporter="UBND các huyện, thị xã, thành phố", recipient="Sở Lao động - Thương binh và Xã hội (tổng hợp báo cáo UBND tỉnh)",
                      description=f"Báo cáo {label} công tác phòng, chống mại dâm (IV.11)")
        for c, label in ((Cadence.MONTHLY, "định kỳ tháng"), (Cadence.QUARTERLY, "định kỳ quý"), (Cadence.ANNUAL, "định kỳ năm"), (Cadence.AD_HOC, "đột xuất"))
    ] + [
        ReportingRule(cadence=Cadence.ANNUAL, reporter="Sở Lao động - Thương binh và Xã hội",
                      recipient="Thường trực Ban chỉ đạo tỉnh; UBND tỉnh; Bộ Lao động - Thương binh và Xã hội",
                      description="Tổng hợp kết quả, báo cáo định kỳ (IV.1; A6: kỳ hằng năm)"),
        ReportingRule(cadence=Cadence.AD_HOC, reporter="Các cơ quan, đơn vị, địa phương", recipient="UBND tỉnh (qua Sở LĐ-TB&XH)",
                      description="Báo cáo kịp thời khó khăn, vướng mắc phát sinh (đoạn kết)"),
    ]
    return Plan(
        program=Program(
            code="QB-PCMD-2017",
            name="Kế hoạch thực hiện nhiệm vụ phòng, chống mại dâm năm 2017 tỉnh Quảng Bình",
            authority="Ủy ban nhân dân tỉnh Quảng Bình",
            locality="Tỉnh Quảng Bình",
            level="province",
            first_year=2017,
            last_year=2017,
            total=total,
            display_unit=MoneyUnit.TRIEU,
            document="Kế hoạch thực hiện nhiệm vụ phòng, chống mại dâm năm 2017 (UBND tỉnh Quảng Bình; theo QĐ 361/QĐ-TTg và CV 1224/LĐTBXH-PCTNXH ngày 31/3/2017)",
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
                ("A1", "Tổng kinh phí 2,4 tỷ đồng năm 2017 là giả định: Kế hoạch không nêu số tiền.", "The 2.4 billion VND total for 2017 is assumed: the plan gives no amount."),
                ("A2", "Cơ cấu nguồn: Trung ương hỗ trợ 30%, ngân sách tỉnh 65%, tài trợ 5% (chỉ cho HT và mô hình MH).", "Sources: central support 30%, provincial budget 65%, donations 5% (HT and the pilot MH only)."),
                ("A3", "Cơ cấu theo nhiệm vụ: TT 35%, QL 5%, KT 17%, HT 13%, MH 10%, XP 10%, NL 10%.", "Task shares: TT 35%, QL 5%, KT 17%, HT 13%, MH 10%, XP 10%, NL 10%."),
                ("A4", "Đơn giá: 6 triệu đồng/xã/năm cho một hình thức tuyên truyền duy trì thường xuyên; 200 triệu đồng cho mô hình thí điểm; 50 triệu đồng cho mỗi xã chuyển hóa mới thành lành mạnh.",
                 "Unit costs: 6 million VND per commune-year for a sustained propaganda form; 200 million for the pilot model; 50 million per newly healthy commune."),
                ("A5", "Hiện trạng: 60% số xã (95/159) đã lành mạnh cuối năm 2016, chia cho các huyện theo số xã; chưa xã nào được tính là đã có hình thức tuyên truyền (chỉ tiêu tính số xã được cấp kinh phí năm 2017).",
                 "Baselines: 60% of communes (95/159) healthy at end-2016, spread over districts by commune count; no commune counted as already running a propaganda form (the target counts communes funded in 2017)."),
                ("A6", "Dân số Tổng điều tra 2019 làm chỉ số nhu cầu; CT4 (100% vụ việc được xử lý) được kiểm tra bằng mức tối thiểu 20 triệu đồng cho nhiệm vụ KT ở mỗi huyện, CT5 (8/8 kế hoạch lồng ghép) bằng 10 triệu đồng/kế hoạch; kỳ báo cáo của Sở LĐ-TB&XH là hằng năm; trần 30% là lựa chọn của người lập.",
                 "2019 census population is the need proxy; CT4 (100% of cases handled) is checked as at least 20 million VND of KT in every district, CT5 (8/8 integrated plans) at 10 million VND per plan; Sở LĐ-TB&XH reports yearly; the 30% cap is the planner's choice."),
            ]
        ),
    )


def build_all() -> dict[str, Plan]:
    return {"plan.json": build()}


if __name__ == "__main__":
    main(HERE, build_all)
