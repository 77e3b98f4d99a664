"""Build ``plan.json`` for the Hải Phòng 2011–2015 anti-prostitution plan.

Figures from the source document (Kế hoạch phòng, chống mại dâm thành phố Hải Phòng 2011–2015):
total 22,5 tỷ đồng over 2011–2015 (section III); six task groups (section II); agency roles
(section IV); targets 100% of managed persons treated/reintegrated (I.2.4), 149/223 → 178/223
healthy communes (I.2.5), 100% of officers trained (I.2.6); funding from city and local budgets,
central support and xã hội hóa (section III). Units, official codes and commune counts come from
``examples/data/haiphong_2011_districts.csv`` (GSO codes, see ``examples/data/SOURCES.md``).

Everything the document does not give is an *assumption*, listed in the plan's ``assumptions``
with a code (A1, A2, …) and repeated in the example's README.

Run: ``python examples/haiphong_2011_2015/build_plan.py`` (rewrites plan.json deterministically).
"""

from __future__ import annotations

import csv
from pathlib import Path

from budgetlib import (
    AdminUnit,
    Agency,
    AllocationPolicy,
    Assumption,
    Cadence,
    CapConstraint,
    FloorConstraint,
    FundingSource,
    MoneyUnit,
    NeedDriver,
    Plan,
    Program,
    ReportingRule,
    Role,
    SourceKind,
    StabilityConstraint,
    Target,
    TargetConstraint,
    Task,
    TaskRole,
    UnitKind,
    apportion,
    build_budget_lines,
    parse_amount,
    save_plan,
    validate_plan,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
YEARS = list(range(2011, 2016))
TOTAL = parse_amount("22,5 tỷ đồng")
HEALTHY_2010 = 149  # I.2.5: "Duy trì 149/223 xã, phường, thị trấn lành mạnh"
HEALTHY_TARGET_2015 = 178  # I.2.5: "đến năm 2015 có 80% (178/223)"
COASTAL = {"306", "308", "314", "315", "317", "318"}  # Hải An, Đồ Sơn, Kiến Thuỵ, Tiên Lãng, Cát Hải, Bạch Long Vĩ

AGENCIES = [
    ("LDTBXH", "Sở Lao động - Thương binh và Xã hội", "Department of Labour, Invalids and Social Affairs"),
    ("CA", "Công an thành phố", "City Police"),
    ("BDBP", "Bộ chỉ huy Bộ đội biên phòng thành phố", "City Border Guard Command"),
    ("TTTT", "Sở Thông tin và Truyền thông", "Department of Information and Communications"),
    ("VHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism"),
    ("YT", "Sở Y tế", "Department of Health"),
    ("TP", "Sở Tư pháp", "Department of Justice"),
    ("NV", "Sở Nội vụ", "Department of Home Affairs"),
    ("KHDT", "Sở Kế hoạch và Đầu tư", "Department of Planning and Investment"),
    ("TC", "Sở Tài chính", "Department of Finance"),
    ("GDDT", "Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    ("CT", "Sở Công thương", "Department of Industry and Trade"),
    ("UBND_QH", "UBND các quận, huyện", "District People's Committees"),
    ("VKS_TA", "Viện kiểm sát nhân dân và Tòa án nhân dân thành phố", "City Procuracy and People's Court"),
    ("MTTQ_DT", "Mặt trận Tổ quốc và các đoàn thể thành phố", "Fatherland Front and mass organisations"),
]


def roles(lead: str, *support: str) -> list[TaskRole]:
    return [TaskRole(agency=lead, role=Role.LEAD)] + [TaskRole(agency=a, role=Role.SUPPORT) for a in support]


TASKS = [
    Task(
        code="TT",
        name="Thông tin, tuyên truyền, giáo dục nâng cao nhận thức",
        name_en="Information, propaganda and education",
        agencies=roles("TTTT", "TP", "VHTTDL", "LDTBXH", "UBND_QH", "MTTQ_DT"),
        need=NeedDriver.parse("population + 5000*communes"),
        description="II.1: chiến dịch tuyên truyền, truyền thông trên đài truyền thanh quận, huyện, xã; mạng lưới cộng tác viên",
    ),
    Task(
        code="KT",
        name="Thanh tra, kiểm tra, triệt phá ổ nhóm mại dâm",
        name_en="Inspection, enforcement and disruption of prostitution rings",
        agencies=roles("CA", "LDTBXH", "VHTTDL", "YT", "BDBP", "VKS_TA"),
        need=NeedDriver.parse("population + 100000*coastal"),
        description="II.2: khảo sát, điều tra cơ bản địa bàn; Đội kiểm tra liên ngành 178",
    ),
    Task(
        code="HT",
        name="Mô hình hỗ trợ người bán dâm, tái hòa nhập cộng đồng",
        name_en="Support and reintegration models",
        agencies=roles("LDTBXH", "YT", "MTTQ_DT", "UBND_QH"),
        need=NeedDriver.parse("population"),
        description="II.3: Trường Giáo dục Lao động Thanh Xuân; mô hình giảm hại, phòng chống HIV tại cộng đồng",
    ),
    Task(
        code="XP",
        name="Xây dựng xã, phường, thị trấn lành mạnh không có tệ nạn mại dâm",
        name_en="Healthy communes free of prostitution",
        agencies=roles("UBND_QH", "LDTBXH", "CA", "MTTQ_DT"),
        need=NeedDriver.parse("unhealthy_communes"),
        description="II.4: dạy nghề, việc làm; cuộc vận động 'Toàn dân đoàn kết xây dựng đời sống văn hóa ở khu dân cư'",
    ),
    Task(
        code="NL",
        name="Đầu tư nguồn lực, nâng cao năng lực cán bộ",
        name_en="Resources and capacity building",
        agencies=roles("LDTBXH", "NV", "TC", "KHDT"),
        need=NeedDriver.parse("communes + 1"),
        description="II.5: tập huấn cán bộ các cấp; kiện toàn bộ máy; sơ kết, tổng kết",
    ),
    Task(
        code="PH",
        name="Phối hợp liên ngành",
        name_en="Inter-agency coordination",
        agencies=roles("LDTBXH", "CA", "VHTTDL", "YT", "UBND_QH"),
        need=NeedDriver.parse("communes + 1"),
        description="II.6: Quy chế phối hợp theo QĐ 917/QĐ-UBND ngày 16/6/2011; tổ công tác liên ngành cấp quận, huyện, xã",
    ),
]

# A3: shares of the total by task group (the plan's annex with the split was not published with it).
TASK_SHARES = {"TT": 0.20, "KT": 0.20, "HT": 0.25, "XP": 0.15, "NL": 0.12, "PH": 0.08}
# A2: shares by funding source.
SOURCE_SHARES = {"NS_TP": 0.55, "NS_QH": 0.25, "TW": 0.15, "XHH": 0.05}
YEAR_GROWTH = 0.05  # A1
MANAGED_PER_10K = 2  # A7: managed sex workers per 10,000 inhabitants (illustrative estimate, not data)
COST_PER_MANAGED = 10_000_000  # A7: treatment/reintegration support per person over the period
COST_TRAINING_PER_COMMUNE = 10_000_000  # A7: officer training per commune over the period

SOURCES = [
    FundingSource(code="NS_TP", name="Ngân sách thành phố", kind=SourceKind.PROVINCE_BUDGET),
    FundingSource(code="NS_QH", name="Ngân sách quận, huyện", kind=SourceKind.DISTRICT_BUDGET),
    FundingSource(code="TW", name="Trung ương hỗ trợ", kind=SourceKind.CENTRAL_SUPPORT),
    # A2: donations fund propaganda, support models and healthy communes only.
    FundingSource(code="XHH", name="Xã hội hóa", kind=SourceKind.SOCIALIZATION, tasks=["TT", "HT", "XP"]),
]


def load_units() -> list[AdminUnit]:
    with open(DATA / "haiphong_2011_districts.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    communes = [int(r["n_communes"]) for r in rows]
    # A4: the plan gives 149 healthy communes city-wide, not per district: apportioned by commune count.
    healthy = apportion(HEALTHY_2010, communes, upper=communes)
    units = []
    for row, n, h in zip(rows, communes, healthy):
        units.append(
            AdminUnit(
                code=row["district_code"],
                name=row["district_name"],
                kind=UnitKind(row["district_type"]),
                parent=row["province_code"],
                attributes={
                    "population": float(row["population_2019_census"]),  # A5
                    "area_km2": float(row["area_km2_computed_gis"]),
                    "communes": float(n),
                    "healthy_communes": float(h),
                    "unhealthy_communes": float(n - h),
                    "coastal": 1.0 if row["district_code"] in COASTAL else 0.0,
                    # A7: estimated managed persons; none counted as treated, no commune's officers as trained before 2011.
                    "managed_persons_est": float(round(float(row["population_2019_census"]) * MANAGED_PER_10K / 10_000)),
                    "done_before": 0.0,
                },
            )
        )
    return units


def build() -> Plan:
    units = load_units()
    managed = int(sum(u.attributes["managed_persons_est"] for u in units))
    communes = int(sum(u.attributes["communes"] for u in units))
    lines = build_budget_lines(
        TOTAL, YEARS, TASKS, SOURCES, task_shares=TASK_SHARES, source_shares=SOURCE_SHARES, growth=YEAR_GROWTH, unit=1_000_000
    )
    return Plan(
        program=Program(
            code="HP-PCMD-2011-2015",
            name="Kế hoạch phòng, chống mại dâm thành phố Hải Phòng giai đoạn 2011–2015",
            authority="Ủy ban nhân dân thành phố Hải Phòng",
            locality="Thành phố Hải Phòng",
            level="province",
            first_year=2011,
            last_year=2015,
            total=TOTAL,
            display_unit=MoneyUnit.TRIEU,
            document="Kế hoạch phòng, chống mại dâm giai đoạn 2011–2015 (UBND TP Hải Phòng)",
        ),
        units=units,
        agencies=[Agency(code=c, name=n, name_en=e) for c, n, e in AGENCIES],
        tasks=TASKS,
        sources=SOURCES,
        targets=[
            Target(
                code="CT1",
                name="Người bán dâm có hồ sơ quản lý được chữa trị, tái hòa nhập cộng đồng (100%)",
                name_en="Managed sex workers treated and reintegrated (100%)",
                unit="người (ước tính, A7)",
                values={2015: managed},  # I.2.4: 100% — of an estimated number of managed persons (A7)
                denominator=managed,
                task="HT",
            ),
            Target(
                code="CT2",
                name="Xã, phường, thị trấn lành mạnh không có tệ nạn mại dâm",
                name_en="Healthy communes free of prostitution",
                unit="xã, phường, thị trấn",
                baseline=HEALTHY_2010,
                baseline_year=2010,
                values={2015: HEALTHY_TARGET_2015},
                denominator=223,
                task="XP",
            ),
            Target(
                code="CT3",
                name="Cán bộ làm công tác phòng, chống mại dâm được tập huấn (100%: cán bộ của mọi xã, phường, thị trấn)",
                name_en="Officers trained (100%: officers of every commune)",
                unit="xã, phường, thị trấn",
                values={2015: communes},  # I.2.6: 100% of officers — counted as the officers of all 223 communes (A7)
                denominator=communes,
                task="NL",
            ),
        ],
        budget_lines=lines,
        reporting=[
            ReportingRule(
                cadence=Cadence.ANNUAL,
                reporter="Các sở, ban, ngành; UBND các quận, huyện",
                recipient="Sở Lao động - Thương binh và Xã hội",
                description="Định kỳ báo cáo kết quả thực hiện (A6: định kỳ hằng năm)",
            ),
            ReportingRule(
                cadence=Cadence.ANNUAL,
                reporter="Sở Lao động - Thương binh và Xã hội",
                recipient="UBND thành phố; Bộ Lao động - Thương binh và Xã hội",
                description="Tổng hợp chung, báo cáo theo quy định",
            ),
            ReportingRule(
                cadence=Cadence.FINAL,
                reporter="Sở Lao động - Thương binh và Xã hội",
                recipient="UBND thành phố",
                description="Sơ kết, tổng kết từng giai đoạn và toàn bộ chương trình (II.5)",
            ),
        ],
        allocation=AllocationPolicy(
            kind="min_deviation",
            level="district",
            rounding_unit=1_000_000,
            deviation="relative",
            constraints=[
                FloorConstraint(name="Sàn tuyên truyền 20 triệu đồng/quận, huyện/năm", tasks=["TT"], amount=20_000_000),
                CapConstraint(name="Trần 25% ngân sách nhiệm vụ cho một quận, huyện", share_of_budget=0.25),
                StabilityConstraint(name="Biến động giữa hai năm không quá ±30%", max_change=0.30),
                TargetConstraint(
                    name="Đạt 178/223 xã, phường, thị trấn lành mạnh năm 2015",
                    target="CT2",
                    task="XP",
                    unit_cost=80_000_000,
                    integer=True,  # a commune is healthy or not: only communes funded in full count
                ),
                TargetConstraint(
                    name="100% người có hồ sơ quản lý được hỗ trợ chữa trị, tái hòa nhập (10 triệu đồng/người cả giai đoạn)",
                    target="CT1",
                    task="HT",
                    unit_cost=COST_PER_MANAGED,
                    capacity_attribute="managed_persons_est",
                    baseline_attribute="done_before",
                ),
                TargetConstraint(
                    name="100% cán bộ được tập huấn: cán bộ của cả 223 xã, phường, thị trấn (10 triệu đồng/xã cả giai đoạn)",
                    target="CT3",
                    task="NL",
                    unit_cost=COST_TRAINING_PER_COMMUNE,
                    capacity_attribute="communes",
                    baseline_attribute="done_before",
                    integer=True,
                ),
            ],
        ),
        assumptions=[
            Assumption(code="A1", text_vi="Tổng 22,5 tỷ đồng phân kỳ tăng 5%/năm từ 2011 đến 2015 (kế hoạch không nêu phân kỳ).", text_en="The 22.5 billion total grows 5% a year 2011–2015 (the plan gives no phasing)."),
            Assumption(code="A2", text_vi="Cơ cấu nguồn: ngân sách thành phố 55%, quận/huyện 25%, trung ương hỗ trợ 15%, xã hội hóa 5% (chỉ cho TT, HT, XP).", text_en="Source mix: city 55%, districts 25%, central support 15%, socialisation 5% (TT, HT, XP only)."),
            Assumption(code="A3", text_vi="Cơ cấu theo nhóm nhiệm vụ: TT 20%, KT 20%, HT 25%, XP 15%, NL 12%, PH 8% (phụ lục kinh phí không công bố).", text_en="Task shares: TT 20%, KT 20%, HT 25%, XP 15%, NL 12%, PH 8% (the budget annex is not published)."),
            Assumption(code="A4", text_vi="149 xã lành mạnh năm 2010 chia cho các quận, huyện theo số xã (kế hoạch chỉ nêu số toàn thành phố).", text_en="The 149 healthy communes of 2010 are spread over districts by commune count (the plan gives the city figure only)."),
            Assumption(code="A5", text_vi="Dân số theo Tổng điều tra 2019 dùng làm chỉ số nhu cầu (chưa có số liệu 2011 theo quận, huyện).", text_en="2019 census population is the need proxy (no 2011 district figures at hand)."),
            Assumption(code="A6", text_vi="Kỳ báo cáo hằng năm; chi phí đưa một xã thành lành mạnh 80 triệu đồng cả giai đoạn; hệ số nhu cầu và ràng buộc phân bổ do người lập chọn.", text_en="Yearly reporting; 80 million VND per newly healthy commune over the period; need drivers and allocation constraints are the planner's choices."),
            Assumption(code="A7", text_vi="Hai chỉ tiêu 100% được tính thành số đếm có chi phí để kiểm tra được: CT1 — số người có hồ sơ quản lý ước tính 2 người/10.000 dân (số MINH HỌA, kế hoạch không nêu), hỗ trợ 10 triệu đồng/người cả giai đoạn; CT3 — cán bộ của cả 223 xã, phường, thị trấn được tập huấn, 10 triệu đồng/xã cả giai đoạn.", text_en="The two 100% targets are counted and costed so they can be checked: CT1 — managed persons estimated at 2 per 10,000 inhabitants (ILLUSTRATIVE, the plan gives no number), 10 million VND of support per person over the period; CT3 — the officers of all 223 communes trained, 10 million VND per commune over the period."),
        ],
    )


def build_all() -> dict[str, Plan]:
    """Every plan file this builder writes (the common interface of the example builders)."""
    return {"plan.json": build()}


if __name__ == "__main__":
    plan = build()
    problems = validate_plan(plan)
    if problems:
        raise SystemExit("\n".join(p.render("en") for p in problems))
    save_plan(plan, HERE / "plan.json")
    print(f"wrote {HERE / 'plan.json'}: {len(plan.units)} units, {len(plan.budget_lines)} budget lines")
