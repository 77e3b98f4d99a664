"""Build ``plan.json`` for the Hà Nội directive on anti-prostitution work (Chỉ thị, ~2014).

The source is a *directive*, not a costed plan: it sets tasks, agency roles and reporting but gives
no budget, no numeric targets and names no places. What comes from the document
(``/plans`` file 001, "Chỉ thị về việc tăng cường thực hiện các nhiệm vụ và giải pháp phòng, chống
mại dâm trên địa bàn thành phố Hà Nội trong tình hình hiện nay"):

* seven focus tasks (section 1, "Nhiệm vụ trọng tâm"), grouped here into six task codes;
* agency roles (section 2): Sở LĐ-TB&XH is the standing agency of the steering committee (2.1),
  with Sở Tài chính, Sở KH&ĐT, Công an TP, Sở Y tế; Công an TP with Sở TT&TT (2.2); Sở VH-TT&DL
  inspects culture and tourism businesses (2.3); UBND quận/huyện/thị xã plan, strengthen their
  Đội kiểm tra liên ngành 178 and deal with hotspots (2.4); other departments (2.5); Mặt trận Tổ quốc
  and mass organisations propagate (2.6);
* reporting: every body reports to UBND Thành phố through Sở LĐ-TB&XH "định kỳ 6 tháng, 01 năm và
  đột xuất" (2.1 and the closing paragraph);
* funding: city budget and "các nguồn lực hợp pháp" (2.1, 2.4) — no amount.

Units, official codes and commune counts: Hà Nội's 30 district-level units in 2014 (after NQ
132/NQ-CP split Từ Liêm), ``examples/data/hanoi_2014_districts.csv``. Everything else is an
**illustrative assumption**, labelled A1, A2, … in the plan and in the README.

Run: ``python examples/hanoi_2014/build_plan.py`` (rewrites plan.json deterministically).
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

YEARS = [2014]
TOTAL = parse_amount("15 tỷ đồng")  # A1: illustrative; the directive gives no amount
HOTSPOT_DENSITY = 20_000  # A2: people per km² (2019 census / GIS area) above which a unit is a hotspot

AGENCIES = [
    ("LDTBXH", "Sở Lao động - Thương binh và Xã hội", "Department of Labour, Invalids and Social Affairs (standing agency)"),
    ("CA", "Công an Thành phố", "City Police"),
    ("VHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism"),
    ("TTTT", "Sở Thông tin và Truyền thông", "Department of Information and Communications"),
    ("YT", "Sở Y tế", "Department of Health"),
    ("TC", "Sở Tài chính", "Department of Finance"),
    ("KHDT", "Sở Kế hoạch và Đầu tư", "Department of Planning and Investment"),
    ("UBND_QH", "UBND các quận, huyện, thị xã", "District People's Committees"),
    ("BCD", "Ban chỉ đạo phòng, chống AIDS và phòng, chống tệ nạn ma túy, mại dâm các cấp", "Steering committees on AIDS, drugs and prostitution"),
    ("SBN", "Các sở, ban, ngành, đoàn thể Thành phố", "Other city departments and organisations"),
    ("MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam Thành phố và các tổ chức chính trị - xã hội", "Fatherland Front and socio-political organisations"),
]

TASKS = [
    Task(
        code="QL",
        name="Nâng cao hiệu lực quản lý nhà nước, trách nhiệm người đứng đầu; hoạt động Ban chỉ đạo các cấp",
        name_en="State management, accountability of leaders, steering committees",
        agencies=roles("LDTBXH", "UBND_QH", "BCD", "TC", "KHDT", "SBN"),
        need=NeedDriver.parse("communes + 1"),
        description="Mục 1, gạch đầu dòng 1 và 7; mục 2.1, 2.4: xây dựng kế hoạch triển khai Chỉ thị, phân công địa bàn cho thành viên Ban chỉ đạo, họp, sơ kết, báo cáo",
    ),
    Task(
        code="TA",
        name="Trấn áp tội phạm, triệt phá tụ điểm, đường dây mại dâm ở địa bàn trọng điểm",
        name_en="Crime suppression: dismantling prostitution rings in hotspot areas",
        agencies=roles("CA", "TTTT", "UBND_QH"),
        need=NeedDriver.parse("population + 300000*hotspot"),
        description="Mục 1, gạch đầu dòng 2; mục 2.2: xác định địa bàn phức tạp, mua bán người vì mục đích mại dâm, mại dâm qua công nghệ cao",
    ),
    Task(
        code="KT",
        name="Kiện toàn, nâng cao hiệu quả Đội kiểm tra liên ngành 178 các cấp",
        name_en="Inter-agency inspection teams (Decree 178/2004) at every level",
        agencies=roles("UBND_QH", "LDTBXH", "CA", "VHTTDL", "YT"),
        need=NeedDriver.parse("communes + 10*hotspot"),
        description="Mục 1, gạch đầu dòng 3; mục 2.3, 2.4: kiểm tra cơ sở kinh doanh dịch vụ, văn hóa, du lịch và các địa bàn trọng điểm",
    ),
    Task(
        code="HT",
        name="Mô hình hỗ trợ người bán dâm tại cộng đồng (tư vấn, y tế, HIV/AIDS, Methadone, học nghề, việc làm)",
        name_en="Community support models for sex workers (counselling, health, HIV, methadone, jobs)",
        agencies=roles("LDTBXH", "YT", "MTTQ", "UBND_QH"),
        need=NeedDriver.parse("population + 150000*hotspot"),
        description="Mục 1, gạch đầu dòng 4; công văn 2335/LĐTBXH-PCTNXH ngày 27/6/2013",
    ),
    Task(
        code="NL",
        name="Đào tạo, bồi dưỡng cán bộ chuyên trách; xây dựng xã, phường lành mạnh",
        name_en="Training of specialised officers; healthy communes",
        agencies=roles("LDTBXH", "UBND_QH", "MTTQ"),
        need=NeedDriver.parse("communes"),
        description="Mục 1, gạch đầu dòng 5",
    ),
    Task(
        code="TT",
        name="Thông tin, tuyên truyền, phổ biến chính sách, pháp luật về phòng, chống mại dâm",
        name_en="Information and propaganda on anti-prostitution law and policy",
        agencies=roles("LDTBXH", "MTTQ", "TTTT", "VHTTDL", "UBND_QH"),
        need=NeedDriver.parse("population + 2000*communes"),
        description="Mục 1, gạch đầu dòng 6; mục 2.6 (Mặt trận Tổ quốc và các đoàn thể tuyên truyền, vận động)",
    ),
]

TASK_SHARES = {"QL": 0.08, "TA": 0.25, "KT": 0.20, "HT": 0.20, "NL": 0.12, "TT": 0.15}  # A3
SOURCE_SHARES = {"NS_TP": 0.90, "NLK": 0.10}  # A4

SOURCES = [
    FundingSource(code="NS_TP", name="Ngân sách Thành phố", kind=SourceKind.PROVINCE_BUDGET),
    FundingSource(code="NLK", name="Các nguồn lực hợp pháp khác được huy động", kind=SourceKind.SOCIALIZATION, tasks=["HT", "TT"]),
]

TO_UBND = "UBND Thành phố (qua Sở Lao động - Thương binh và Xã hội để tổng hợp)"
REPORTERS = "Các sở, ban, ngành, đoàn thể Thành phố; UBND các quận, huyện, thị xã"


def _extra(row: dict[str, str]) -> dict[str, float]:
    density = float(row["population_2019_census"]) / float(row["area_km2_computed_gis"])
    # slot = 1: each unit can make one plan / fund one team; slot_done = 0: none counted before 2014.
    return {"hotspot": 1.0 if density >= HOTSPOT_DENSITY else 0.0, "slot": 1.0, "slot_done": 0.0}


def build() -> Plan:
    units = district_units("hanoi_2014_districts.csv", _extra)
    n = len(units)
    lines = build_budget_lines(
        TOTAL, YEARS, TASKS, SOURCES, task_shares=TASK_SHARES, source_shares=SOURCE_SHARES, unit=1_000_000
    )
    hotspots = ", ".join(u.name for u in units if u.attributes["hotspot"])
    reporting = []
    for cadence, label in ((Cadence.SEMIANNUAL, "6 tháng"), (Cadence.ANNUAL, "01 năm"), (Cadence.AD_HOC, "đột xuất")):
        reporting.append(
            ReportingRule(
                cadence=cadence,
                reporter=REPORTERS,
                recipient=TO_UBND,
                description=f"Báo cáo {label} tình hình, kết quả thực hiện Chỉ thị (đoạn kết, mục 2.5)",
            )
        )
        reporting.append(
            ReportingRule(
                cadence=cadence,
                reporter="Sở Lao động - Thương binh và Xã hội",
                recipient="UBND Thành phố",
                description=f"Theo dõi, tổng hợp kết quả thực hiện Chỉ thị, báo cáo {label} (mục 2.1)",
            )
        )
    return Plan(
        program=Program(
            code="HN-CT-PCMD-2014",
            name="Chỉ thị tăng cường thực hiện các nhiệm vụ và giải pháp phòng, chống mại dâm trên địa bàn thành phố Hà Nội (minh họa phân bổ)",
            authority="Ủy ban nhân dân thành phố Hà Nội",
            locality="Thành phố Hà Nội",
            level="province",
            first_year=2014,
            last_year=2014,
            total=TOTAL,
            display_unit=MoneyUnit.TRIEU,
            document="Chỉ thị của UBND TP Hà Nội thực hiện Chỉ thị 22/CT-TTg ngày 15/10/2013 (số, ngày không có trong bản lưu)",
        ),
        units=units,
        agencies=[Agency(code=c, name=nm, name_en=e) for c, nm, e in AGENCIES],
        tasks=TASKS,
        sources=SOURCES,
        targets=[
            Target(
                code="CT1",
                name="Quận, huyện, thị xã xây dựng kế hoạch triển khai Chỉ thị, phân công địa bàn cho thành viên Ban chỉ đạo",
                name_en="District-level units with an implementation plan for the directive",
                unit="quận, huyện, thị xã",
                values={2014: n},
                denominator=n,
                task="QL",
            ),
            Target(
                code="CT2",
                name="Đội kiểm tra liên ngành 178 cấp quận, huyện, thị xã được kiện toàn và có kinh phí hoạt động",
                name_en="District inspection teams (Đội 178) strengthened and funded",
                unit="quận, huyện, thị xã",
                values={2014: n},
                denominator=n,
                task="KT",
            ),
        ],
        budget_lines=lines,
        reporting=reporting,
        allocation=AllocationPolicy(
            kind="min_deviation",
            level="district",
            rounding_unit=1_000_000,
            deviation="relative",
            constraints=[
                FloorConstraint(name="Sàn tuyên truyền 40 triệu đồng/quận, huyện, thị xã", tasks=["TT"], amount=40_000_000),
                CapConstraint(name="Trần 12% kinh phí nhiệm vụ cho một quận, huyện, thị xã", share_of_budget=0.12),
                TargetConstraint(
                    name="Mọi quận, huyện, thị xã có kế hoạch triển khai Chỉ thị (20 triệu đồng/kế hoạch)",
                    target="CT1",
                    task="QL",
                    unit_cost=20_000_000,
                    capacity_attribute="slot",
                    baseline_attribute="slot_done",
                    integer=True,
                ),
                TargetConstraint(
                    name="Mọi Đội 178 cấp huyện có ít nhất 50 triệu đồng hoạt động",
                    target="CT2",
                    task="KT",
                    unit_cost=50_000_000,
                    capacity_attribute="slot",
                    baseline_attribute="slot_done",
                    integer=True,
                ),
            ],
        ),
        assumptions=assumptions(
            [
                ("A1", "Tổng kinh phí 15 tỷ đồng năm 2014 là số MINH HỌA: Chỉ thị không nêu kinh phí.", "The 15 billion VND total for 2014 is ILLUSTRATIVE: the directive gives no budget."),
                (
                    "A2",
                    f"Địa bàn trọng điểm (hotspot = 1) là các quận có mật độ dân số 2019 từ {HOTSPOT_DENSITY:,} người/km² trở lên ({hotspots}); Chỉ thị không nêu tên địa bàn nào, đây là giả định.".replace(",", "."),
                    f"Hotspots (hotspot = 1) are the units with 2019 density of at least {HOTSPOT_DENSITY:,} people/km² ({hotspots}); the directive names no places, so this is an assumption.",
                ),
                ("A3", "Cơ cấu theo nhiệm vụ: QL 8%, TA 25%, KT 20%, HT 20%, NL 12%, TT 15%; cơ quan chủ trì nhiệm vụ TT (tuyên truyền) là Sở LĐ-TB&XH vì Chỉ thị không giao.", "Task shares: QL 8%, TA 25%, KT 20%, HT 20%, NL 12%, TT 15%; Sở LĐ-TB&XH leads propaganda (TT) because the directive assigns no lead."),
                ("A4", "Cơ cấu nguồn: ngân sách Thành phố 90%, nguồn hợp pháp khác 10% (chỉ cho HT, TT).", "Sources: city budget 90%, other lawful resources 10% (HT and TT only)."),
                ("A5", "Dân số Tổng điều tra 2019 làm chỉ số nhu cầu (không có số liệu 2014 theo quận, huyện); trọng số địa bàn trọng điểm +300.000 người quy đổi cho TA, +150.000 cho HT, +10 xã quy đổi cho KT.", "2019 census population is the need proxy (no 2014 district figures); hotspots add 300,000 person-equivalents for TA, 150,000 for HT and 10 commune-equivalents for KT."),
                ("A6", "Chỉ tiêu CT1, CT2 suy ra từ mục 2.4 (mỗi quận, huyện, thị xã xây dựng kế hoạch và kiện toàn Đội 178); chi phí 20 triệu đồng/kế hoạch, 50 triệu đồng/Đội 178, sàn tuyên truyền 40 triệu đồng, trần 12% là lựa chọn của người lập.", "Targets CT1, CT2 are read from section 2.4 (every district plans and strengthens its Đội 178); 20 million VND per plan, 50 million per team, the 40 million propaganda floor and the 12% cap are the planner's choices."),
            ]
        ),
    )


def build_all() -> dict[str, Plan]:
    return {"plan.json": build()}


if __name__ == "__main__":
    main(HERE, build_all)
