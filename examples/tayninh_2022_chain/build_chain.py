"""Build the Tây Ninh 2022 chain example: a provincial split to the 9 districts that feeds two
district plans allocated to their communes (province → district → commune).

* ``tinh.json`` — the province's funds for 2022 split across Tây Ninh's 9 districts. The Tân Châu
  plan is made "theo KH 304/KH-SLĐTBXH ngày 20/01/2022" of the Sở LĐ-TB&XH and funds its pilot model
  only "nếu được Sở Lao động TBXH phân bổ chỉ tiêu và phân bổ kinh phí" (II.1.b); that provincial
  plan is not among the source documents, so its amounts are ILLUSTRATIVE (assumptions A1–A4).
* ``huyen_tan_chau.json`` — the Tân Châu district plan exactly as ``../tanchau_2022/
  plan.json`` (read, not changed), except that its provincial source NS_TINH may fund
  the tasks the province funds (TT, NL besides the pilot MH; assumption A8 of that file).
* ``huyen_tan_bien.json`` — an ILLUSTRATIVE district plan for Huyện Tân Biên (705) and its 10
  communes (units from the data; amounts assumed), with the provincial source declared and no
  budget lines of its own for it: everything it gets from the province comes from ``tinh.json``.

``budgetlib chain examples/tayninh_2022_chain`` allocates the province, writes each district's
allocation per task, year and source into that district's plan as budget lines, allocates the
districts to their communes, and checks that every level reconciles to the đồng. The same plans
as workbooks are in ``xlsx/``.

Run: ``python examples/tayninh_2022_chain/build_chain.py`` (rewrites every file deterministically).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import assumptions, commune_rows, district_units, read_csv, roles  # noqa: E402

from budgetlib import (  # noqa: E402
    AdminUnit,
    Agency,
    AllocationPolicy,
    Assumption,
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
    Task,
    UnitKind,
    build_budget_lines,
    load_plan,
    parse_amount,
    save_plan,
    validate_plan,
)
from budgetlib.model.plan import CarryOver  # noqa: E402

TANCHAU = HERE.parent / "tanchau_2022" / "plan.json"
PILOT_DISTRICT, PILOT_COMMUNE = "706", "25516"  # Huyện Tân Châu; the pilot sits in Thị trấn Tân Châu (Tân Châu's A2)
ROUNDING = 100_000
PROVINCE_TASKS = {"TT": parse_amount("180 triệu"), "NL": parse_amount("90 triệu"), "MH": parse_amount("100 triệu")}  # A1
SOURCE = FundingSource(code="NS_TINH", name="Kinh phí tỉnh phân bổ (nếu có)", kind=SourceKind.PROVINCE_BUDGET, carry_over=CarryOver.POOL)

TASK_NAMES = {  # the same codes and names as the Tân Châu plan, so the district plans recognise them
    "TT": ("Truyền thông, tuyên truyền, giáo dục pháp luật về phòng, chống mại dâm", "Communication and legal education"),
    "NL": ("Nâng cao năng lực cán bộ, Đội kiểm tra liên ngành Văn hóa - Xã hội, Đội công tác xã hội tình nguyện", "Capacity building of officers and teams"),
    "MH": ("Mô hình thí điểm hỗ trợ xã hội, cung cấp dịch vụ xã hội cho người bán dâm tại cộng đồng (nếu tỉnh phân bổ)",
           "Pilot social-support model (only if the province allocates funds)"),
    "KT": ("Thanh tra, kiểm tra, phát hiện, xử lý vi phạm pháp luật về phòng, chống mại dâm", "Inspection and enforcement"),
}


def _task(code: str, need: str, *lead_support: str) -> Task:
    vi, en = TASK_NAMES[code]
    return Task(code=code, name=vi, name_en=en, agencies=roles(*lead_support), need=NeedDriver.parse(need))


def province() -> Plan:
    units = district_units("tayninh_2022_districts.csv", lambda row: {"pilot_site": 1.0 if row["district_code"] == PILOT_DISTRICT else 0.0})
    tasks = [_task("TT", "population", "LDTBXH", "UBND_H"), _task("NL", "communes", "LDTBXH", "UBND_H"), _task("MH", "pilot_site", "LDTBXH", "UBND_H")]
    lines = []
    for code, amount in PROVINCE_TASKS.items():
        lines += build_budget_lines(amount, [2022], [t for t in tasks if t.code == code], [SOURCE], task_shares={code: 1.0},
                                    source_shares={"NS_TINH": 1.0}, unit=ROUNDING)
    total = sum(PROVINCE_TASKS.values())
    return Plan(
        program=Program(
            code="TN-PCMD-2022",
            name="Kinh phí tỉnh phân bổ cho các huyện, thị xã, thành phố thực hiện phòng, chống mại dâm năm 2022 (minh họa)",
            authority="Sở Lao động - Thương binh và Xã hội tỉnh Tây Ninh",
            locality="Tỉnh Tây Ninh",
            level="province",
            first_year=2022,
            last_year=2022,
            total=total,
            display_unit=MoneyUnit.NGHIN,
            document="KH 304/KH-SLĐTBXH ngày 20/01/2022 (dẫn trong Kế hoạch của UBND huyện Tân Châu; văn bản không có trong bộ tài liệu)",
        ),
        units=units,
        agencies=[Agency(code="LDTBXH", name="Sở Lao động - Thương binh và Xã hội", name_en="Department of Labour, Invalids and Social Affairs"),
                  Agency(code="UBND_H", name="UBND các huyện, thị xã, thành phố", name_en="District People's Committees")],
        tasks=tasks,
        sources=[SOURCE],
        targets=[Target(code="CT1", name="Mô hình thí điểm hỗ trợ xã hội cho người bán dâm tại cộng đồng", name_en="Pilot social-support model",
                        unit="mô hình", values={2022: 1}, task="MH")],
        budget_lines=lines,
        reporting=[ReportingRule(cadence=Cadence.ANNUAL, reporter="UBND các huyện, thị xã, thành phố", recipient="Sở Lao động - Thương binh và Xã hội",
                                 due="15/12", description="Báo cáo kết quả sử dụng kinh phí tỉnh phân bổ (A4)")],
        allocation=AllocationPolicy(
            kind="min_deviation", level="district", rounding_unit=ROUNDING, deviation="relative",
            constraints=[
                FloorConstraint(name="Sàn truyền thông 10 triệu đồng/huyện", tasks=["TT"], amount=parse_amount("10 triệu")),
                EligibilityConstraint(name="Mô hình thí điểm chỉ tại huyện Tân Châu", tasks=["MH"], units=[PILOT_DISTRICT]),
                EarmarkConstraint(name="100 triệu đồng cho mô hình thí điểm tại huyện Tân Châu", unit=PILOT_DISTRICT, task="MH",
                                  amount=PROVINCE_TASKS["MH"]),
            ],
        ),
        assumptions=assumptions([
            ("A1", "Tỉnh phân bổ 370 triệu đồng năm 2022: truyền thông 180 triệu, nâng cao năng lực 90 triệu, mô hình thí điểm 100 triệu. Số MINH HỌA: KH 304/KH-SLĐTBXH không có trong bộ tài liệu.",
             "The province allocates 370 million VND in 2022: communication 180, capacity 90, pilot model 100 million. ILLUSTRATIVE: KH 304/KH-SLĐTBXH is not among the documents."),
            ("A2", "Truyền thông chia theo dân số 2019, nâng cao năng lực theo số xã, phường, thị trấn; sàn 10 triệu đồng/huyện cho truyền thông.",
             "Communication split by 2019 population, capacity by number of communes; a 10 million VND communication floor per district."),
            ("A3", "Mô hình thí điểm đặt tại huyện Tân Châu (100 triệu đồng), như giả định A2 của kế hoạch Tân Châu.",
             "The pilot model is in Tân Châu district (100 million VND), as in the Tân Châu plan's assumption A2."),
            ("A4", "Các huyện báo cáo kết quả sử dụng kinh phí tỉnh hằng năm, trước 15/12.", "Districts report on the province's funds yearly, by 15/12."),
        ]),
    )


def tan_chau() -> Plan:
    plan = load_plan(TANCHAU)
    sources = [s.model_copy(update={"tasks": ["MH", "TT", "NL"]}) if s.code == "NS_TINH" else s for s in plan.sources]
    extra = Assumption(
        code=f"A{len(plan.assumptions) + 1}",
        text_vi="Ví dụ liên cấp: nguồn kinh phí tỉnh phân bổ (NS_TINH) được dùng cho mọi nhiệm vụ tỉnh phân bổ (TT, NL, MH); số tiền do kế hoạch của tỉnh quyết định.",
        text_en="Chain example: the province's source (NS_TINH) may fund every task the province funds (TT, NL, MH); the amounts come from the province's plan.",
    )
    return Plan.model_validate(plan.model_copy(update={"sources": sources, "assumptions": [*plan.assumptions, extra]}).model_dump())


def tan_bien() -> Plan:
    district = next(r for r in read_csv("tayninh_2022_districts.csv") if r["district_code"] == "705")
    units = [AdminUnit(code="705", name=district["district_name"], kind=UnitKind(district["district_type"]), parent=district["province_code"],
                       attributes={"population": float(district["population_2019_census"]), "communes": float(district["n_communes"])})]
    units += [AdminUnit(code=r["commune_code"], name=r["commune_name"], kind=UnitKind(r["commune_type"]), parent="705",
                        attributes={"town": 1.0 if r["commune_type"] == "Thị trấn" else 0.0})
              for r in commune_rows("tayninh_2022_communes.csv", "705")]
    own = FundingSource(code="NSNN", name="Ngân sách nhà nước (huyện, xã)", kind=SourceKind.DISTRICT_BUDGET, carry_over=CarryOver.UNIT)
    tasks = [_task("TT", "1 + town", "LDTBXH", "UBND_X"), _task("NL", "1", "LDTBXH", "UBND_X"), _task("KT", "1 + town", "CA", "LDTBXH", "UBND_X")]
    lines = build_budget_lines(parse_amount("100 triệu"), [2022], tasks, [own], task_shares={"TT": 0.4, "NL": 0.2, "KT": 0.4},
                               source_shares={"NSNN": 1.0}, unit=ROUNDING)
    return Plan(
        program=Program(code="TB-PCMD-2022", name="Kế hoạch phòng, chống mại dâm năm 2022 trên địa bàn huyện Tân Biên (minh họa)",
                        authority="Ủy ban nhân dân huyện Tân Biên", locality="Huyện Tân Biên, tỉnh Tây Ninh", level="district",
                        first_year=2022, last_year=2022, total=parse_amount("100 triệu"), display_unit=MoneyUnit.NGHIN),
        units=units,
        agencies=[Agency(code="LDTBXH", name="Phòng Lao động - Thương binh và Xã hội", name_en="District Labour, Invalids and Social Affairs Office"),
                  Agency(code="CA", name="Công an huyện", name_en="District Police"),
                  Agency(code="UBND_X", name="Ủy ban nhân dân các xã, thị trấn", name_en="Commune People's Committees")],
        tasks=tasks,
        sources=[own, SOURCE.model_copy(update={"tasks": ["TT", "NL"]})],
        budget_lines=lines,
        reporting=[ReportingRule(cadence=Cadence.ANNUAL, reporter="UBND các xã, thị trấn", recipient="UBND huyện (qua Phòng LĐ-TB&XH)", due="10/12",
                                 description="Báo cáo kết quả thực hiện (A3)")],
        allocation=AllocationPolicy(kind="min_deviation", level="commune", rounding_unit=ROUNDING, deviation="relative",
                                    constraints=[FloorConstraint(name="Sàn truyền thông 3 triệu đồng/xã, thị trấn", tasks=["TT"], amount=3_000_000),
                                                 CapConstraint(name="Trần 25% kinh phí nhiệm vụ cho một xã, thị trấn", share_of_budget=0.25)]),
        assumptions=assumptions([
            ("A1", "Kế hoạch MINH HỌA: huyện Tân Biên (705) với 10 xã, thị trấn theo dữ liệu; ngân sách huyện, xã 100 triệu đồng năm 2022 (TT 40%, NL 20%, KT 40%) là giả định.",
             "ILLUSTRATIVE plan: Tân Biên district (705) and its 10 communes from the data; the 100 million VND district budget for 2022 (TT 40%, NL 20%, KT 40%) is assumed."),
            ("A2", "Không có dân số từng xã: chia đều, thị trấn Tân Biên có trọng số gấp đôi cho truyền thông và kiểm tra; kinh phí tỉnh (NS_TINH) cho TT, NL lấy từ kế hoạch của tỉnh.",
             "No commune population: equal shares, Thị trấn Tân Biên weighted double for communication and inspection; the province's funds (NS_TINH) for TT and NL come from the province's plan."),
            ("A3", "Các xã, thị trấn báo cáo hằng năm, trước 10/12.", "Communes report yearly, by 10/12."),
        ]),
    )


def build_all() -> dict[str, Plan]:
    return {"tinh.json": province(), "huyen_tan_chau.json": tan_chau(), "huyen_tan_bien.json": tan_bien()}


def main() -> None:
    from budgetlib.io.workbook import write_plan_workbook

    (HERE / "xlsx").mkdir(exist_ok=True)
    for name, plan in build_all().items():
        # Tân Biên's provincial source has no budget line of its own (the chain fills it): a warning only.
        problems = [p for p in validate_plan(plan) if p.severity == "error"]
        if problems:
            raise SystemExit(f"{name}:\n" + "\n".join(p.render("en") for p in problems))
        save_plan(plan, HERE / name)
        write_plan_workbook(plan, HERE / "xlsx" / name.replace(".json", ".xlsx"), lang="vi")
        print(f"wrote {HERE.name}/{name} and xlsx/{name.replace('.json', '.xlsx')}: {len(plan.units)} units, {len(plan.budget_lines)} budget lines")


if __name__ == "__main__":
    main()
