"""Build the two scenario plans of Tân Châu district (Tây Ninh), 2022, allocated to its 12 communes.

From the source document (``/plans`` file 002, Kế hoạch phòng, chống mại dâm năm 2022 trên địa bàn
huyện Tân Châu, UBND huyện Tân Châu, 21/02/2022):

* five tasks (II.1 a–đ) and the measures (II.2);
* the pilot model of social support "nếu được Sở Lao động TBXH phân bổ chỉ tiêu và phân bổ kinh phí"
  (II.1.b): it exists only if the province allocates funds;
* funding (III): "nguồn ngân sách nhà nước, nguồn kinh phí được tỉnh phân bổ chỉ tiêu nếu có và các
  nguồn lực huy động hợp pháp khác" — no amounts;
* agency roles (IV.1–11), incl. the border posts Cà Tum, Tân Hà, Tổng Lê Chân, Suối Lam (IV.7)
  and UBND các xã, thị trấn, which each make their own plan and report (IV.11).

One plan, two scenarios (``budgetlib scenarios examples/tanchau_2022/plan.json`` compares them):

* the plan itself — **with** the province's allocation, which funds the pilot model;
* the scenario «Không có kinh phí tỉnh» — the province allocates nothing: its source is dropped, and
  the pilot model's earmark and costed target no longer apply (the model exists only if funded).

Units: Huyện Tân Châu (706) and its 11 xã + 1 thị trấn with official codes
(``examples/data/tanchau_tayninh_2022_*.csv``); the policy allocates at commune level. Commune
population is not in the data except for the thị trấn (``locality_extra_facts.csv``), so the need
driver uses ``population_est`` (assumption A5). Amounts are assumptions (A1…).

Run: ``python examples/tanchau_2022/build_plan.py`` (rewrites ``plan.json`` deterministically).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import assumptions, commune_rows, extra_fact, main, read_csv, roles  # noqa: E402

from budgetlib import (  # noqa: E402
    AdminUnit,
    Agency,
    AllocationPolicy,
    Cadence,
    CapConstraint,
    DropConstraint,
    DropSource,
    EarmarkConstraint,
    EligibilityConstraint,
    FloorConstraint,
    FundingSource,
    MoneyUnit,
    NeedDriver,
    Plan,
    Program,
    ReportingRule,
    Scenario,
    SourceKind,
    Target,
    TargetConstraint,
    Task,
    UnitKind,
    build_budget_lines,
    parse_amount,
)

YEARS = [2022]
DISTRICT = "706"
TOWN = "25516"  # Thị trấn Tân Châu
TOTAL_STATE = parse_amount("250 triệu đồng")  # A1
PROVINCE_ALLOCATION = parse_amount("100 triệu đồng")  # A2
BORDER = {"25519", "25522", "25528"}  # A4: Tân Hà, Tân Đông, Tân Hòa
ROUNDING = 100_000  # A6

AGENCIES = [
    ("LDTBXH", "Phòng Lao động - Thương binh và Xã hội", "District Labour, Invalids and Social Affairs Office"),
    ("CA", "Công an huyện", "District Police"),
    ("VHTT", "Phòng Văn hóa - Thông tin", "District Culture and Information Office"),
    ("TCKH", "Phòng Tài chính - Kế hoạch", "District Finance and Planning Office"),
    ("TP", "Phòng Tư pháp", "District Justice Office"),
    ("GDDT", "Phòng Giáo dục và Đào tạo", "District Education Office"),
    ("QS_BP", "Ban Chỉ huy Quân sự huyện; Đồn Biên phòng Cà Tum, Tân Hà, Tổng Lê Chân, Suối Lam", "District Military Command and border posts"),
    ("TTVH", "Trung tâm Văn hóa, Thể thao và Truyền thanh", "District Culture, Sports and Broadcasting Centre"),
    ("TTYT", "Trung tâm Y tế huyện", "District Health Centre"),
    ("VKS_TA", "Viện kiểm sát nhân dân và Tòa án nhân dân huyện", "District Procuracy and People's Court"),
    ("MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam huyện và các đoàn thể", "District Fatherland Front and mass organisations"),
    ("UBND_X", "Ủy ban nhân dân các xã, thị trấn", "Commune People's Committees"),
]

TASKS = [
    Task(code="TT", name="Truyền thông, tuyên truyền, giáo dục pháp luật về phòng, chống mại dâm", name_en="Communication and legal education",
         agencies=roles("VHTT", "TTVH", "LDTBXH", "TP", "GDDT", "MTTQ", "UBND_X"), need=NeedDriver.parse("population_est"), description="II.1.a; II.2.c–f; IV.3, IV.5, IV.6, IV.8"),
    Task(code="HT", name="Hỗ trợ giảm hại, phòng, chống bạo lực trên cơ sở giới, hòa nhập cộng đồng cho người bán dâm", name_en="Harm reduction, gender-based violence prevention, reintegration",
         agencies=roles("LDTBXH", "TTYT", "MTTQ", "UBND_X"), need=NeedDriver.parse("population_est"), description="II.1.b; IV.1"),
    Task(code="NL", name="Nâng cao năng lực cán bộ, Đội kiểm tra liên ngành Văn hóa - Xã hội, Đội công tác xã hội tình nguyện", name_en="Capacity building of officers and teams",
         agencies=roles("LDTBXH", "VHTT", "UBND_X"), need=NeedDriver.parse("1"), description="II.1.c; II.2.g"),
    Task(code="PH", name="Huy động nguồn lực; phối hợp với phòng, chống ma túy, mua bán người, HIV/AIDS (kể cả khu vực biên giới)", name_en="Mobilisation and coordination (drugs, trafficking, HIV; border area)",
         agencies=roles("LDTBXH", "CA", "QS_BP", "TTYT", "MTTQ"), need=NeedDriver.parse("1 + border"), description="II.1.d; IV.7"),
    Task(code="KT", name="Thanh tra, kiểm tra, phát hiện, xử lý vi phạm pháp luật về phòng, chống mại dâm", name_en="Inspection and enforcement",
         agencies=roles("CA", "VHTT", "LDTBXH", "VKS_TA", "QS_BP", "UBND_X"), need=NeedDriver.parse("population_est + 5000*border"), description="II.1.đ; II.2.h; IV.2, IV.9"),
]
PILOT = Task(code="MH", name="Mô hình thí điểm hỗ trợ xã hội, cung cấp dịch vụ xã hội cho người bán dâm tại cộng đồng (nếu tỉnh phân bổ)",
             name_en="Pilot social-support model (only if the province allocates funds)",
             agencies=roles("LDTBXH", "UBND_X", "MTTQ"), need=NeedDriver.parse("pilot_site"), description="II.1.b")

TASK_SHARES = {"TT": 0.30, "HT": 0.20, "NL": 0.15, "PH": 0.10, "KT": 0.25}  # A3
SOURCE_SHARES = {"NSNN": 0.95, "HUYDONG": 0.05}  # A3

SOURCES = [
    FundingSource(code="NSNN", name="Ngân sách nhà nước (huyện, xã)", kind=SourceKind.DISTRICT_BUDGET),
    FundingSource(code="HUYDONG", name="Nguồn lực huy động hợp pháp khác", kind=SourceKind.SOCIALIZATION, tasks=["TT", "HT"]),
]
PROVINCE_SOURCE = FundingSource(code="NS_TINH", name="Kinh phí tỉnh phân bổ (nếu có)", kind=SourceKind.PROVINCE_BUDGET, tasks=["MH"])


def load_units() -> list[AdminUnit]:
    district = next(r for r in read_csv("tanchau_tayninh_2022_districts.csv") if r["district_code"] == DISTRICT)
    communes = commune_rows("tanchau_tayninh_2022_communes.csv", DISTRICT)
    town_population = extra_fact(f"Thị trấn Tân Châu ({TOWN})", "population")
    town_area = extra_fact(f"Thị trấn Tân Châu ({TOWN})", "area")
    district_population = float(district["population_2019_census"])
    # A5: the 11 xã share the rest of the district's 2019 population equally (no commune figures in the data).
    xa_population = (district_population - town_population) / (len(communes) - 1)
    units = [
        AdminUnit(
            code=DISTRICT,
            name=district["district_name"],
            kind=UnitKind(district["district_type"]),
            parent=district["province_code"],
            attributes={"population": district_population, "area_km2": float(district["area_km2_computed_gis"]), "communes": float(district["n_communes"])},
        )
    ]
    for row in communes:
        code = row["commune_code"]
        # the data's figures (thị trấn only) first, then the assumptions
        attributes = {"population": town_population, "area_km2": town_area} if code == TOWN else {}
        attributes |= {
            "population_est": round(town_population if code == TOWN else xa_population, 1),
            "border": 1.0 if code in BORDER else 0.0,
            "pilot_site": 1.0 if code == TOWN else 0.0,
            "slot": 1.0,
            "slot_done": 0.0,
        }
        units.append(AdminUnit(code=code, name=row["commune_name"], kind=UnitKind(row["commune_type"]), parent=DISTRICT, attributes=attributes))
    return units


WITHOUT_PROVINCE = "Không có kinh phí tỉnh"
PILOT_EARMARK = "Kinh phí tỉnh phân bổ cho mô hình thí điểm tại Thị trấn Tân Châu"
PILOT_TARGET = "01 mô hình thí điểm (100 triệu đồng)"


def build(*, with_province: bool = True) -> Plan:
    units = load_units()
    tasks = TASKS + ([PILOT] if with_province else [])
    sources = SOURCES + ([PROVINCE_SOURCE] if with_province else [])
    lines = build_budget_lines(TOTAL_STATE, YEARS, TASKS, SOURCES, task_shares=TASK_SHARES, source_shares=SOURCE_SHARES, unit=ROUNDING)
    total = TOTAL_STATE
    n = len(units) - 1
    targets = [
        Target(code="CT1", name="Xã, thị trấn xây dựng kế hoạch phòng, chống mại dâm năm 2022 và báo cáo kết quả", name_en="Communes with their own 2022 plan",
               unit="xã, thị trấn", values={2022: n}, denominator=n, task="NL"),
    ]
    constraints = [
        FloorConstraint(name="Sàn tuyên truyền 3 triệu đồng/xã, thị trấn", tasks=["TT"], amount=3_000_000),
        CapConstraint(name="Trần 20% kinh phí nhiệm vụ cho một xã, thị trấn", tasks=list(TASK_SHARES), share_of_budget=0.20),
        TargetConstraint(name="Mọi xã, thị trấn có kế hoạch và Đội kiểm tra liên ngành được tập huấn (2 triệu đồng/xã)", target="CT1", task="NL",
                         unit_cost=2_000_000, capacity_attribute="slot", baseline_attribute="slot_done", integer=True),
    ]
    if with_province:
        lines += build_budget_lines(PROVINCE_ALLOCATION, YEARS, [PILOT], [PROVINCE_SOURCE], task_shares={"MH": 1.0}, source_shares={"NS_TINH": 1.0}, unit=ROUNDING)
        total += PROVINCE_ALLOCATION
        targets.append(Target(code="CT2", name="Mô hình thí điểm hỗ trợ xã hội cho người bán dâm tại cộng đồng", name_en="Pilot social-support model",
                              unit="mô hình", values={2022: 1}, task="MH"))
        constraints += [
            EligibilityConstraint(name="Mô hình thí điểm chỉ tại Thị trấn Tân Châu", tasks=["MH"], units=[TOWN]),
            EarmarkConstraint(name=PILOT_EARMARK, unit=TOWN, task="MH", amount=PROVINCE_ALLOCATION),
            TargetConstraint(name=PILOT_TARGET, target="CT2", task="MH", unit_cost=PROVINCE_ALLOCATION,
                             capacity_attribute="pilot_site", baseline_attribute="slot_done", integer=True),
        ]
    scenarios = [
        Scenario(
            name=WITHOUT_PROVINCE,
            description="Tỉnh không phân bổ chỉ tiêu và kinh phí (II.1.b, III): chỉ ngân sách nhà nước và nguồn huy động; không có mô hình thí điểm",
            changes=[DropSource(source="NS_TINH"), DropConstraint(constraint=PILOT_EARMARK), DropConstraint(constraint=PILOT_TARGET)],
        )
    ] if with_province else []
    return Plan(
        program=Program(
            code="TC-PCMD-2022",
            name="Kế hoạch phòng, chống mại dâm năm 2022 trên địa bàn huyện Tân Châu",
            authority="Ủy ban nhân dân huyện Tân Châu",
            locality="Huyện Tân Châu, tỉnh Tây Ninh",
            level="district",
            first_year=2022,
            last_year=2022,
            total=total,
            display_unit=MoneyUnit.NGHIN,
            document="Kế hoạch /KH-UBND ngày 21/02/2022 của UBND huyện Tân Châu (theo KH 304/KH-SLĐTBXH ngày 20/01/2022)",
        ),
        units=units,
        agencies=[Agency(code=c, name=nm, name_en=e) for c, nm, e in AGENCIES],
        tasks=tasks,
        sources=sources,
        targets=targets,
        budget_lines=lines,
        reporting=[
            ReportingRule(cadence=Cadence.ANNUAL, reporter="UBND các xã, thị trấn", recipient="UBND huyện (qua Phòng LĐ-TB&XH)",
                          description="Báo cáo kết quả thực hiện đúng theo quy định (IV.11; A7: kỳ hằng năm)"),
            ReportingRule(cadence=Cadence.ANNUAL, reporter="Phòng Lao động - Thương binh và Xã hội", recipient="UBND huyện; Sở LĐ-TB&XH tỉnh Tây Ninh",
                          description="Kiểm tra, giám sát, đánh giá, tổng hợp kết quả thực hiện Kế hoạch (IV.1)"),
        ],
        allocation=AllocationPolicy(kind="min_deviation", level="commune", rounding_unit=ROUNDING, deviation="relative", constraints=constraints),
        scenarios=scenarios,
        assumptions=assumptions(
            [
                ("A1", "Ngân sách nhà nước (huyện, xã) 250 triệu đồng năm 2022 là giả định: Kế hoạch không nêu số tiền.", "The 250 million VND of state budget for 2022 is assumed: the plan gives no amount."),
                ("A2", "Kinh phí tỉnh phân bổ 100 triệu đồng, chỉ dùng cho mô hình thí điểm (II.1.b), đặt tại Thị trấn Tân Châu; Kế hoạch không nêu số tiền và địa điểm. Kịch bản «Không có kinh phí tỉnh» là trường hợp tỉnh không phân bổ.",
                 "The province's allocation is 100 million VND, for the pilot model only (II.1.b), placed in Thị trấn Tân Châu; the plan gives neither amount nor place. The scenario 'Không có kinh phí tỉnh' (without the province's money) is the case where the province allocates nothing."),
                ("A3", "Cơ cấu theo nhiệm vụ: TT 30%, HT 20%, NL 15%, PH 10%, KT 25%; nguồn: ngân sách nhà nước 95%, huy động 5% (chỉ TT, HT).", "Task shares: TT 30%, HT 20%, NL 15%, PH 10%, KT 25%; sources: state budget 95%, mobilised 5% (TT and HT only)."),
                ("A4", "Xã biên giới (border = 1): Tân Hà, Tân Đông, Tân Hòa — suy từ tên các đồn biên phòng ở mục IV.7; không có trong dữ liệu.", "Border communes (border = 1): Tân Hà, Tân Đông, Tân Hòa — read from the border posts named in IV.7; not in the data."),
                ("A5", "Dân số ước tính (population_est): Thị trấn Tân Châu 6.902 người (2019, dữ liệu); 11 xã chia đều phần còn lại của dân số huyện năm 2019 (134.743 − 6.902) vì không có số liệu từng xã.",
                 "Estimated population (population_est): Thị trấn Tân Châu 6,902 (2019, data); the 11 xã share the rest of the district's 2019 population (134,743 − 6,902) equally, as no per-commune figures exist in the data."),
                ("A6", "Làm tròn 100.000 đồng; sàn tuyên truyền 3 triệu đồng/xã; trần 20%; 2 triệu đồng/xã cho kế hoạch và tập huấn (chỉ tiêu CT1 suy từ mục IV.11).", "Rounded to 100,000 VND; 3 million propaganda floor per commune; 20% cap; 2 million per commune for its plan and training (target CT1 read from IV.11)."),
                ("A7", "Kỳ báo cáo hằng năm (Kế hoạch chỉ ghi «theo quy định»).", "Yearly reporting (the plan says only 'as prescribed')."),
            ]
        ),
    )


def build_all() -> dict[str, Plan]:
    return {"plan.json": build()}


if __name__ == "__main__":
    main(HERE, build_all)
