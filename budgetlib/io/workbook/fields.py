"""The planning workbook declared as data: one :class:`TableDef` per input table.

Each field carries its JSON key, its Vietnamese and English header, the plain-Vietnamese
explanation shown in the guide sheet and in the header comment, how its cells are read, and which
dropdown it gets. The template writer, the reader and the guide are all generated from
:data:`TABLES`, so they cannot drift apart (beancount's ``OptDesc`` idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from ...core.text import fold
from ...model.plan import Cadence, CarryOver, Level, Role, SourceKind, UnitKind
from ...model.policy import DeviationWeighting, PolicyKind

__all__ = ["Field", "TableDef", "TABLES", "TABLE_BY_KEY", "ENUM_LABELS", "ATTRIBUTE_LABELS", "SHEETS", "sheet_title", "enum_options"]


@dataclass(frozen=True)
class Field:
    key: str
    vi: str
    en: str
    help_vi: str
    kind: str = "text"  # text|opt_text|code|opt_code|int|opt_int|float|opt_float|money|bool|enum|list|years|need
    enum: str | None = None  # key in ENUM_LABELS
    dropdown: str | None = None  # "tasks" | "agencies" | "sources" | "units" | "targets" | "constraints"
    width: float = 14.0
    required: bool = False
    aliases: tuple[str, ...] = ()

    def header(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en

    def names(self) -> frozenset[str]:
        """Folded spellings the reader accepts for this header."""
        return _names(self)


@dataclass(frozen=True)
class TableDef:
    """An input table. ``keyvalue`` tables have one row per field (Thông tin | Giá trị | Giải thích)."""

    key: str
    sheet: str
    table: str
    title_vi: str
    title_en: str
    fields: tuple[Field, ...]
    keyvalue: bool = False
    dynamic: str | None = None  # "attributes" (Địa bàn) or "years" (Chỉ tiêu)

    def sheet_name(self, lang: str) -> str:
        return SHEETS[self.sheet][0 if lang == "vi" else 1]

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


@lru_cache(maxsize=None)
def _names(f: Field) -> frozenset[str]:
    out = {fold(f.vi), fold(f.en), fold(f.key), fold(f.key.replace("_", " "))}
    out |= {fold(a) for a in f.aliases}
    return frozenset(out)


# Sheet key → (Vietnamese name, English name). Order is the order of the workbook.
SHEETS: dict[str, tuple[str, str]] = {
    "guide": ("Hướng dẫn", "Guide"),
    "program": ("Chương trình", "Program"),
    "sources": ("Nguồn kinh phí", "Funding sources"),
    "tasks": ("Nhiệm vụ", "Tasks"),
    "agencies": ("Cơ quan", "Agencies"),
    "roles": ("Phân công", "Assignments"),
    "units": ("Địa bàn", "Units"),
    "targets": ("Chỉ tiêu", "Targets"),
    "budget": ("Dự toán", "Budget"),
    "policy": ("Chính sách phân bổ", "Allocation policy"),
    "reporting": ("Báo cáo", "Reporting"),
    "assumptions": ("Giả định", "Assumptions"),
}


def sheet_title(key: str, lang: str) -> str:
    return SHEETS[key][0 if lang == "vi" else 1]


# Enum key → {value: (Vietnamese label, English label)}. Cells may hold the value or either label.
ENUM_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "level": {
        Level.PROVINCE.value: ("Tỉnh/Thành phố", "province"),
        Level.DISTRICT.value: ("Quận/Huyện", "district"),
        Level.COMMUNE.value: ("Xã/Phường", "commune"),
    },
    "alloc_level": {"district": ("Quận/Huyện", "district"), "commune": ("Xã/Phường", "commune")},
    "unit_kind": {k.value: (k.value, k.value) for k in UnitKind},
    "role": {Role.LEAD.value: ("Chủ trì", "lead"), Role.SUPPORT.value: ("Phối hợp", "support")},
    "source_kind": {
        SourceKind.PROVINCE_BUDGET.value: ("Ngân sách tỉnh/thành phố", "province_budget"),
        SourceKind.DISTRICT_BUDGET.value: ("Ngân sách quận/huyện", "district_budget"),
        SourceKind.COMMUNE_BUDGET.value: ("Ngân sách xã", "commune_budget"),
        SourceKind.CENTRAL_SUPPORT.value: ("Trung ương hỗ trợ", "central_support"),
        SourceKind.SOCIALIZATION.value: ("Xã hội hóa", "socialization"),
        SourceKind.OTHER.value: ("Khác", "other"),
    },
    "carry_over": {
        CarryOver.UNIT.value: ("Giữ cho đơn vị (chuyển nguồn)", "stays with the unit"),
        CarryOver.POOL.value: ("Trả về quỹ chung", "returns to the pool"),
    },
    "cadence": {
        Cadence.MONTHLY.value: ("Hằng tháng", "monthly"),
        Cadence.QUARTERLY.value: ("Hằng quý", "quarterly"),
        Cadence.SEMIANNUAL.value: ("6 tháng", "semiannual"),
        Cadence.ANNUAL.value: ("Hằng năm", "annual"),
        Cadence.AD_HOC.value: ("Đột xuất", "ad_hoc"),
        Cadence.FINAL.value: ("Sơ kết/tổng kết", "final"),
    },
    "policy_kind": {
        PolicyKind.PROPORTIONAL.value: ("Theo tỷ lệ nhu cầu", "proportional"),
        PolicyKind.MIN_DEVIATION.value: ("Sát tỷ lệ nhu cầu", "min_deviation"),
        PolicyKind.MAX_MIN.value: ("Công bằng", "max_min"),
        PolicyKind.MAX_OUTCOME.value: ("Tối đa hiệu quả", "max_outcome"),
    },
    "deviation": {
        DeviationWeighting.ABSOLUTE.value: ("Tuyệt đối", "absolute"),
        DeviationWeighting.RELATIVE.value: ("Tương đối", "relative"),
    },
    "constraint_type": {
        "floor": ("Sàn", "floor"),
        "cap": ("Trần", "cap"),
        "earmark": ("Bố trí riêng", "earmark"),
        "eligibility": ("Điều kiện hưởng", "eligibility"),
        "absorption": ("Khả năng giải ngân", "absorption"),
        "stability": ("Ổn định", "stability"),
        "target": ("Chỉ tiêu", "target"),
    },
    "op": {op: (op, op) for op in (">", ">=", "==", "!=", "<=", "<")},
    "solver": {"highs": ("highs", "highs"), "cbc": ("cbc", "cbc")},
    "money_unit": {
        "1": ("đồng", "VND"),
        "1000": ("nghìn đồng", "thousand VND"),
        "1000000": ("triệu đồng", "million VND"),
        "1000000000": ("tỷ đồng", "billion VND"),
    },
}


def enum_options(enum: str, lang: str) -> list[str]:
    return [labels[0 if lang == "vi" else 1] for labels in ENUM_LABELS[enum].values()]


def enum_label(enum: str, value: Any, lang: str) -> str:
    if isinstance(value, Enum):
        value = value.value
    return ENUM_LABELS[enum][str(value)][0 if lang == "vi" else 1]


# Known need attributes get readable headers; any other attribute's header is its name.
ATTRIBUTE_LABELS: dict[str, tuple[str, str]] = {
    "population": ("Dân số", "dân số (người)"),
    "area_km2": ("Diện tích (km²)", "diện tích tự nhiên, km²"),
    "communes": ("Số xã, phường", "số xã, phường, thị trấn trực thuộc"),
    "healthy_communes": ("Số xã lành mạnh", "số xã, phường, thị trấn lành mạnh, không có tệ nạn"),
    "unhealthy_communes": ("Số xã chưa lành mạnh", "số xã, phường, thị trấn còn tệ nạn"),
    "coastal": ("Ven biển", "1 nếu địa bàn ven biển, 0 nếu không"),
    "border": ("Biên giới", "1 nếu địa bàn giáp biên giới, 0 nếu không"),
    "hotspots": ("Số điểm nóng", "số điểm nóng về tệ nạn"),
}

F = Field

TABLES: tuple[TableDef, ...] = (
    TableDef(
        "program", "program", "ChuongTrinh", "Thông tin chung về chương trình", "Program",
        (
            F("code", "Mã chương trình", "Program code", "Mã ngắn gọn, duy nhất, ví dụ HP-PCMD-2011-2015.", "code", required=True),
            F("name", "Tên chương trình", "Program name", "Tên đầy đủ của kế hoạch hoặc chương trình.", "text", required=True),
            F("authority", "Cơ quan ban hành", "Issuing authority", "Ví dụ: Ủy ban nhân dân thành phố Hải Phòng.", "text", required=True),
            F("locality", "Địa phương", "Locality", "Tỉnh, thành phố thực hiện.", "text"),
            F("level", "Cấp ban hành", "Level", "Cấp của cơ quan ban hành.", "enum", enum="level"),
            F("first_year", "Năm đầu", "First year", "Năm bắt đầu giai đoạn kế hoạch.", "int", required=True),
            F("last_year", "Năm cuối", "Last year", "Năm kết thúc giai đoạn kế hoạch.", "int", required=True),
            F("total", "Tổng kinh phí", "Total budget", "Tổng kinh phí cả giai đoạn, tính theo Đơn vị tiền bên dưới; có thể ghi chữ như 22,5 tỷ đồng.", "money", required=True),
            F("display_unit", "Đơn vị tiền", "Money unit", "Đơn vị của mọi ô số tiền trong tệp (đồng, nghìn đồng, triệu đồng, tỷ đồng). Ô ghi kèm đơn vị (450 triệu) được đọc theo đơn vị ghi trong ô.", "enum", enum="money_unit", aliases=("don vi", "unit")),
            F("document", "Văn bản", "Source document", "Số hiệu, ngày của văn bản gốc.", "text"),
            F("schema_version", "Phiên bản mẫu", "Schema version", "Phiên bản cấu trúc tệp; để nguyên.", "int"),
        ),
        keyvalue=True,
    ),
    TableDef(
        "sources", "sources", "NguonKinhPhi", "Nguồn kinh phí", "Funding sources",
        (
            F("code", "Mã nguồn", "Source code", "Mã ngắn, duy nhất, ví dụ NS_TP.", "code", required=True, width=12),
            F("name", "Tên nguồn", "Source name", "Ví dụ: Ngân sách thành phố.", "text", required=True, width=32),
            F("kind", "Loại nguồn", "Kind", "Chọn trong danh sách.", "enum", enum="source_kind", width=26),
            F("tasks", "Chỉ dùng cho nhiệm vụ", "Only for tasks", "Để trống nếu nguồn được dùng cho mọi nhiệm vụ; nếu không, ghi các mã nhiệm vụ cách nhau bằng dấu phẩy.", "list", width=24),
            F("carry_over", "Chưa giải ngân cuối năm", "Undisbursed at year end", "Kinh phí đơn vị chưa giải ngân khi khóa sổ năm: giữ cho đơn vị (chuyển nguồn) hoặc trả về quỹ chung để phân bổ lại năm sau. Để trống: trả về quỹ chung.", "enum", enum="carry_over", width=26),
        ),
    ),
    TableDef(
        "tasks", "tasks", "NhiemVu", "Nhiệm vụ, hoạt động", "Tasks and activities",
        (
            F("code", "Mã nhiệm vụ", "Task code", "Mã ngắn, duy nhất, ví dụ TT.", "code", required=True, width=12),
            F("name", "Tên nhiệm vụ", "Task name", "Tên nhiệm vụ hoặc hoạt động.", "text", required=True, width=44),
            F("name_en", "Tên tiếng Anh", "English name", "Không bắt buộc.", "text", width=30),
            F("group", "Thuộc nhóm", "Task group", "Mã nhóm nhiệm vụ cấp trên nếu đây là một hoạt động; để trống nếu là nhóm.", "opt_code", dropdown="tasks", width=12),
            F("need", "Công thức nhu cầu", "Need formula", "Nhu cầu của mỗi địa bàn, dùng các cột thuộc tính của sheet Địa bàn, ví dụ: population + 5000*communes.", "need", width=34),
            F("description", "Mô tả", "Description", "Nội dung chính, căn cứ trong văn bản.", "text", width=50),
        ),
    ),
    TableDef(
        "agencies", "agencies", "CoQuan", "Cơ quan tham gia", "Agencies",
        (
            F("code", "Mã cơ quan", "Agency code", "Mã ngắn, duy nhất, ví dụ LDTBXH.", "code", required=True, width=14),
            F("name", "Tên cơ quan", "Agency name", "Ví dụ: Sở Lao động - Thương binh và Xã hội.", "text", required=True, width=44),
            F("name_en", "Tên tiếng Anh", "English name", "Không bắt buộc.", "text", width=40),
        ),
    ),
    TableDef(
        "roles", "roles", "PhanCong", "Phân công cơ quan chủ trì, phối hợp", "Task assignments",
        (
            F("task", "Mã nhiệm vụ", "Task code", "Nhiệm vụ được phân công (chọn trong danh sách).", "code", dropdown="tasks", required=True, width=14),
            F("agency", "Mã cơ quan", "Agency code", "Cơ quan được phân công (chọn trong danh sách).", "code", dropdown="agencies", required=True, width=14),
            F("role", "Vai trò", "Role", "Chủ trì hoặc Phối hợp; mỗi nhiệm vụ có đúng một cơ quan chủ trì.", "enum", enum="role", width=12),
        ),
    ),
    TableDef(
        "units", "units", "DiaBan", "Địa bàn và số liệu", "Administrative units",
        (
            F("code", "Mã địa bàn", "Unit code", "Mã đơn vị hành chính theo danh mục (ví dụ 303).", "code", required=True, width=12),
            F("name", "Tên địa bàn", "Unit name", "Ví dụ: Quận Hồng Bàng.", "text", required=True, width=26),
            F("kind", "Loại", "Kind", "Quận, Huyện, Thị xã, Thành phố, Xã, Phường, Thị trấn.", "enum", enum="unit_kind", required=True, width=11),
            F("parent", "Mã cấp trên", "Parent code", "Mã quận, huyện (với xã, phường) hoặc mã tỉnh.", "opt_code", width=11),
        ),
        dynamic="attributes",
    ),
    TableDef(
        "targets", "targets", "ChiTieu", "Chỉ tiêu", "Targets",
        (
            F("code", "Mã chỉ tiêu", "Target code", "Mã ngắn, duy nhất, ví dụ CT1.", "code", required=True, width=11),
            F("name", "Tên chỉ tiêu", "Target name", "Nội dung chỉ tiêu.", "text", required=True, width=44),
            F("name_en", "Tên tiếng Anh", "English name", "Không bắt buộc.", "text", width=30),
            F("unit", "Đơn vị tính", "Unit of measure", "Ví dụ: %, xã, người.", "text", width=12),
            F("baseline", "Hiện trạng", "Baseline", "Giá trị ở năm gốc.", "opt_float", width=11),
            F("baseline_year", "Năm gốc", "Baseline year", "Năm của giá trị hiện trạng.", "opt_int", width=9),
            F("denominator", "Mẫu số", "Denominator", "Tổng số để tính tỷ lệ (ví dụ 223 xã); để trống nếu không có.", "opt_float", width=9),
            F("task", "Nhiệm vụ liên quan", "Related task", "Nhiệm vụ có kinh phí quyết định chỉ tiêu.", "opt_code", dropdown="tasks", width=12),
            F("lower_is_better", "Càng thấp càng tốt", "Lower is better", "Có nếu giá trị càng thấp càng tốt.", "bool", width=10),
        ),
        dynamic="years",
    ),
    TableDef(
        "budget_lines", "budget", "DuToan", "Dự toán kinh phí", "Budget lines",
        (
            F("task", "Mã nhiệm vụ", "Task code", "Chọn trong danh sách nhiệm vụ.", "code", dropdown="tasks", required=True, width=12),
            F("agency", "Mã cơ quan", "Agency code", "Cơ quan được giao dự toán.", "code", dropdown="agencies", required=True, width=14),
            F("year", "Năm", "Year", "Năm ngân sách.", "int", required=True, width=8),
            F("source", "Mã nguồn", "Source code", "Nguồn kinh phí.", "code", dropdown="sources", required=True, width=12),
            F("amount", "Số tiền", "Amount", "Theo Đơn vị tiền ở sheet Chương trình; có thể ghi chữ như 450 triệu.", "money", required=True, width=16),
            F("note", "Ghi chú", "Note", "Không bắt buộc.", "text", width=30),
        ),
    ),
    TableDef(
        "policy", "policy", "ChinhSach", "Chính sách phân bổ", "Allocation policy",
        (
            F("kind", "Phương pháp phân bổ", "Method", "Theo tỷ lệ nhu cầu; Sát tỷ lệ nhu cầu (thỏa mọi ràng buộc); Công bằng (nâng mức thấp nhất); Tối đa hiệu quả.", "enum", enum="policy_kind", aliases=("policy", "chinh sach")),
            F("level", "Cấp nhận phân bổ", "Allocation level", "Quận, huyện hoặc Xã, phường.", "enum", enum="alloc_level"),
            F("rounding_unit", "Làm tròn đến (đồng)", "Round to (VND)", "Mỗi khoản phân bổ là bội số của số đồng này, ví dụ 1.000.000.", "dong"),
            F("years", "Các năm phân bổ", "Years", "Để trống để phân bổ mọi năm; hoặc ghi các năm cách nhau bằng dấu phẩy.", "years"),
            F("deviation", "Cách đo độ lệch", "Deviation", "Tuyệt đối hoặc Tương đối (so với phần theo tỷ lệ).", "enum", enum="deviation"),
            F("solver", "Bộ giải", "Solver", "highs (mặc định) hoặc cbc.", "enum", enum="solver"),
        ),
        keyvalue=True,
    ),
    TableDef(
        "constraints", "policy", "RangBuoc", "Ràng buộc phân bổ", "Allocation constraints",
        (
            F("type", "Loại ràng buộc", "Constraint type", "Sàn, Trần, Bố trí riêng, Điều kiện hưởng, Khả năng giải ngân, Ổn định, Chỉ tiêu.", "enum", enum="constraint_type", required=True, width=16),
            F("name", "Tên ràng buộc", "Constraint name", "Tên dễ hiểu, dùng trong phần giải thích.", "text", required=True, width=40),
            F("tasks", "Nhiệm vụ", "Tasks", "Các mã nhiệm vụ cách nhau bằng dấu phẩy; trống = mọi nhiệm vụ.", "list", width=12),
            F("units", "Địa bàn", "Units", "Các mã địa bàn cách nhau bằng dấu phẩy; trống = mọi địa bàn.", "list", width=12),
            F("years", "Năm", "Years", "Các năm cách nhau bằng dấu phẩy; trống = mọi năm.", "years", width=10),
            F("amount", "Số tiền", "Amount", "Mức sàn/trần/bố trí riêng/giải ngân, theo Đơn vị tiền.", "money", width=12),
            F("share_of_budget", "Tỷ lệ ngân sách nhiệm vụ", "Share of task budget", "Ví dụ 0,25 = 25% ngân sách nhiệm vụ trong năm.", "opt_float", width=12),
            F("times_proportional", "Bội số phần theo tỷ lệ", "Times proportional share", "Ví dụ 1,5 = 150% phần chia theo tỷ lệ nhu cầu.", "opt_float", width=12),
            F("unit", "Địa bàn (bố trí riêng)", "Unit (earmark)", "Một mã địa bàn, cho ràng buộc Bố trí riêng.", "opt_code", dropdown="units", width=12),
            F("task", "Nhiệm vụ (riêng)", "Task (single)", "Một mã nhiệm vụ, cho Bố trí riêng và Chỉ tiêu.", "opt_code", dropdown="tasks", width=12),
            F("attribute", "Thuộc tính", "Attribute", "Tên cột thuộc tính ở sheet Địa bàn (Điều kiện hưởng, Khả năng giải ngân).", "opt_text", width=14),
            F("op", "Phép so sánh", "Operator", "> >= == != <= < (Điều kiện hưởng).", "enum", enum="op", width=8),
            F("value", "Giá trị so sánh", "Compare value", "Giá trị thuộc tính để so sánh (Điều kiện hưởng).", "opt_float", width=10),
            F("per_attribute_amount", "Số tiền theo thuộc tính", "Amount per attribute", "Khả năng giải ngân tăng thêm cho mỗi đơn vị thuộc tính.", "money", width=12),
            F("max_change", "Biến động tối đa", "Max change", "Ổn định: 0,3 = không quá ±30% so với năm trước.", "opt_float", width=10),
            F("target", "Mã chỉ tiêu", "Target code", "Chỉ tiêu cần đạt (ràng buộc Chỉ tiêu).", "opt_code", dropdown="targets", width=10),
            F("unit_cost", "Chi phí mỗi đơn vị", "Unit cost", "Kinh phí để đạt thêm một đơn vị chỉ tiêu.", "money", width=12),
            F("capacity_attribute", "Thuộc tính sức chứa", "Capacity attribute", "Mặc định communes.", "opt_text", width=14),
            F("baseline_attribute", "Thuộc tính hiện trạng", "Baseline attribute", "Mặc định healthy_communes.", "opt_text", width=14),
            F("required", "Số cần đạt", "Required", "Để trống: lấy chỉ tiêu năm cuối trừ hiện trạng.", "opt_float", width=10),
        ),
    ),
    TableDef(
        "priors", "policy", "SoLieuNamTruoc", "Số liệu năm trước (cho ràng buộc Ổn định)", "Prior-year amounts (stability)",
        (
            F("constraint", "Tên ràng buộc", "Constraint name", "Tên ràng buộc Ổn định mà số liệu này thuộc về.", "text", dropdown="constraints", required=True, width=40),
            F("unit", "Mã địa bàn", "Unit code", "Địa bàn.", "code", dropdown="units", required=True, width=12),
            F("task", "Mã nhiệm vụ", "Task code", "Nhiệm vụ.", "code", dropdown="tasks", required=True, width=12),
            F("amount", "Số tiền năm trước", "Prior amount", "Theo Đơn vị tiền.", "money", required=True, width=16),
        ),
    ),
    TableDef(
        "curves", "policy", "DuongDapUng", "Đường đáp ứng (cho phương pháp Tối đa hiệu quả)", "Response curves (max outcome)",
        (
            F("task", "Mã nhiệm vụ", "Task code", "Nhiệm vụ của đường đáp ứng; các dòng liền nhau cùng nhiệm vụ và kết quả là các đoạn của một đường.", "code", dropdown="tasks", required=True, width=12),
            F("outcome", "Kết quả đo", "Outcome", "Cái được đếm, ví dụ lượt người được tiếp cận.", "text", width=30),
            F("width", "Độ rộng đoạn", "Segment width", "Bội số của phần theo tỷ lệ; để trống ở đoạn cuối = không giới hạn.", "opt_float", width=12),
            F("outcome_per_million", "Kết quả mỗi triệu đồng", "Outcome per million", "Giảm dần qua các đoạn.", "float", required=True, width=14),
        ),
    ),
    TableDef(
        "reporting", "reporting", "BaoCao", "Chế độ báo cáo", "Reporting",
        (
            F("cadence", "Kỳ báo cáo", "Cadence", "Hằng tháng, Hằng quý, 6 tháng, Hằng năm, Đột xuất, Sơ kết, tổng kết.", "enum", enum="cadence", required=True, width=16),
            F("reporter", "Đơn vị báo cáo", "Reporter", "Ai báo cáo.", "text", required=True, width=40),
            F("recipient", "Nơi nhận", "Recipient", "Báo cáo gửi ai.", "text", required=True, width=40),
            F("description", "Nội dung", "Description", "Nội dung báo cáo.", "text", width=50),
            F("due", "Thời hạn", "Due", "Ví dụ: trước 15/12 hằng năm.", "text", width=20),
        ),
    ),
    TableDef(
        "assumptions", "assumptions", "GiaDinh", "Giả định của người lập kế hoạch", "Planning assumptions",
        (
            F("code", "Mã", "Code", "Mã giả định, ví dụ A1.", "code", required=True, width=8),
            F("text_vi", "Nội dung", "Text (Vietnamese)", "Con số văn bản gốc không nêu, do người lập kế hoạch chọn.", "text", required=True, width=70),
            F("text_en", "Nội dung tiếng Anh", "Text (English)", "Không bắt buộc.", "text", width=60),
        ),
    ),
)

TABLE_BY_KEY: dict[str, TableDef] = {t.key: t for t in TABLES}

KEYVALUE_HEADERS = {"vi": ("Thông tin", "Giá trị", "Giải thích"), "en": ("Field", "Value", "Explanation")}
