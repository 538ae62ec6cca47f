"""The household workbook's layout (DATA-FORMATS §2) as the importer stores it: the fields each sheet sets, their
positions, the defaults of a field whose column is missing, and ``classify`` — which table a sheet or CSV file is
and which of its columns hold which field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from pathlib import Path

from fangfan.core.tabular import Table

from .. import formats
from ..derive import DERIVED_FIELDS
from ..models import OFFICIAL_FIELDS

Progress = Callable[[int, int, str], None]

# --- what we store -------------------------------------------------------------------------------------------

# Household fields the file sets, with the header each comes from.
H_INPUT: list[tuple[str, str]] = [
    ("region", "行政区划代码"),
    ("household_type", "户类型"),
    ("exit_year", "脱贫年度"),
    ("exited_class", "脱贫户分类"),
    ("monitoring_type", "监测对象类型"),
    ("monitoring_state", "监测状态"),
    ("identified_month", "识别监测时间"),
    ("eliminated_month", "风险消除时间"),
    ("grade", "分类定级"),
    ("phone", "联系电话"),
    ("wage_income", "工资性收入"),
    ("business_income", "生产经营性收入"),
    ("business_expense", "生产经营性支出"),
    ("property_income", "财产性收入"),
    ("transfer_income", "转移性收入"),
    ("compliant_self_paid", "合规自付支出"),
    ("food_clothing_secure", "吃穿不愁"),
    ("housing_grade", "住房安全等级"),
    ("water_safe", "饮水安全"),
]
H_FIELDS = [f for f, _h in H_INPUT]
# The official status fields the file holds (``models.OFFICIAL_FIELDS``): an existing household's are kept as stored
# unless the import synchronises with the national system; either way each difference is listed.
H_OFFICIAL = [f for f in H_FIELDS if f in OFFICIAL_FIELDS]
H_ALL = H_FIELDS + list(DERIVED_FIELDS)  # compared and written
H_LABEL = {f: h for f, h in H_INPUT} | {
    "size": "家庭人口",
    "net_income": "家庭纯收入",
    "per_capita_income": "年人均纯收入",
    "education_secure": "义务教育有保障",
    "medical_secure": "基本医疗有保障",
    "has_labour": "有劳动能力",
    "head_name": "户主姓名",
    "head_initials": "户主拼音首字母",
    "suggestion": "系统建议分类",
    "suggestion_reason": "建议理由",
}

# Member fields the file sets (compared and written), in a fixed order.
M_FIELDS = [
    "name",
    "name_initials",
    "relation",
    "is_head",
    "education",
    "school_status",
    "not_in_school_reason",
    "health",
    "serious_illness",
    "chronic_illness",
    "disabled",
    "disability_category",
    "disability_grade",
    "labour_skill",
    "migrant_months",
    "migrant_place",
    "resident_medical",
    "employee_medical",
    "resident_pension",
    "dibao",
    "tekun",
    "phone",
]
M_POS = {f: i for i, f in enumerate(M_FIELDS)}
# What an ID number gives (written with a new member, or when a changed member is rewritten).
M_ID_FIELDS = ["id_number", "id_index", "id_masked", "id_last4", "birth_date", "sex"]
# The trigger that fills a member's ``household_region`` when a writer leaves it empty (registry migration 0010).
REGION_TRIGGER = "registry_member_region_insert"
MAX_PROBLEMS = 10_000
ANALYZE_AT = 5_000  # rows written from which an import refreshes the planner's statistics
AUDIT_DETAIL_KEYS = 12
PREVIEW_HOUSEHOLDS = 100  # the households an import's summary names, with what changes (first by 户编号)
AUDIT_DETAIL_MEMBERS = 10
OFFICIAL_SHOWN = 2000  # differences of official fields a job's summary keeps (the command prints every one)
SYNC_SOURCE = "与国家系统同步"  # the source a synchronised change carries in the household's history
OFFICIAL_SECTION = "与系统正式状态不一致的字段（默认不导入）"


class _Keep:
    """A column the file does not have: keep what is stored (or the default for a new row)."""

    def __reduce__(self):
        return "KEEP"

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass
class ImportSummary:
    """What an import read and what it did (or, in a dry run, would do)."""

    file: str
    dry_run: bool
    households_read: int = 0
    members_read: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    members_created: int = 0
    members_updated: int = 0
    members_unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    # The first households (by 户编号) the import creates or changes: {"number", "kind", "what"} — field names and
    # counts only, no values (the job keeps this summary).
    preview: list[dict] = field(default_factory=list)
    # 与国家系统同步 chosen: the official fields of existing households are taken from the file.
    sync_national: bool = False
    # Every existing household's official field whose value in the file differs from the system's: {"number",
    # "field" (the column's header), "system", "file"} (labels as in the file; never an ID number or a name), by
    # 户编号. Without sync they are not imported; with it, they are (and recorded in the household's history).
    official_differences: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks

    @property
    def changed(self) -> bool:
        return bool(
            self.households_created or self.households_updated or self.members_created or self.members_updated
        )

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "dry_run": self.dry_run,
            "households_read": self.households_read,
            "members_read": self.members_read,
            "households_created": self.households_created,
            "households_updated": self.households_updated,
            "households_unchanged": self.households_unchanged,
            "members_created": self.members_created,
            "members_updated": self.members_updated,
            "members_unchanged": self.members_unchanged,
            "ignored_columns": self.ignored_columns,
            "preview": self.preview,
            "sync_national": self.sync_national,
            "official_total": len(self.official_differences),
            "official_households": len({d["number"] for d in self.official_differences}),
            "official_differences": self.official_differences[:OFFICIAL_SHOWN],
            "seconds": round(self.seconds, 2),
        }

    def describe(self) -> str:
        """The summary in a sentence, as the command and the web page show it."""
        head = "检查通过（试导入，未写入任何数据）" if self.dry_run else "导入完成"
        verb = "将" if self.dry_run else ""
        text_ = (
            f"{head}：读取农户 {self.households_read} 户、成员 {self.members_read} 人；"
            f"农户{verb}新增 {self.households_created}、{verb}更新 {self.households_updated}、"
            f"未变 {self.households_unchanged}；成员{verb}新增 {self.members_created}、"
            f"{verb}更新 {self.members_updated}、未变 {self.members_unchanged}。"
        )
        if self.official_differences:
            households = len({d["number"] for d in self.official_differences})
            count = len(self.official_differences)
            if self.sync_national:
                done = "将" if self.dry_run else "已"
                text_ += f"与国家系统同步：{households} 户的 {count} 项正式状态字段{done}按文件更新，并记入该户变更记录。"
            else:
                text_ += (
                    f"{households} 户的 {count} 项正式状态字段与系统不一致，未导入（保留系统中的值；"
                    "如需按文件更新，请由镇扶贫工作站或市县审核选择“与国家系统同步”）。"
                )
        if self.ignored_columns:
            text_ += f"以下列未使用：{'、'.join(self.ignored_columns)}。"
        return text_


HOUSEHOLD_DEFAULTS = {
    "exit_year": None,
    "exited_class": "",
    "monitoring_type": "",
    "monitoring_state": "",
    "identified_month": "",
    "eliminated_month": "",
    "grade": "",
    "phone": "",
    "compliant_self_paid": Decimal("0.00"),
    "food_clothing_secure": None,
    "housing_grade": "",
    "water_safe": None,
}
MEMBER_DEFAULTS = {
    "education": "",
    "school_status": "",
    "not_in_school_reason": "",
    "health": "",
    "serious_illness": False,
    "chronic_illness": False,
    "disabled": False,
    "disability_category": "",
    "disability_grade": "",
    "labour_skill": "",
    "migrant_months": None,
    "migrant_place": "",
    "resident_medical": None,
    "employee_medical": None,
    "resident_pension": None,
    "dibao": None,
    "tekun": None,
    "phone": "",
}


_F = M_POS
_HEAD = M_POS["is_head"]
_M_PHONE = M_POS["phone"]
_FACT_POSITIONS = itemgetter(
    _F["school_status"],
    _F["not_in_school_reason"],
    _F["serious_illness"],
    _F["disabled"],
    _F["labour_skill"],
    _F["resident_medical"],
    _F["employee_medical"],
    _F["is_head"],
)
_M_OPTIONAL_HEADER = {
    "education": "文化程度",
    "school_status": "在校生状况",
    "not_in_school_reason": "义务教育阶段未上学原因",
    "health": "健康状况",
    "disability_category": "残疾类别",
    "disability_grade": "残疾等级",
    "labour_skill": "劳动技能",
    "migrant_months": "务工时间（月）",
    "migrant_place": "务工地",
    "resident_medical": "参加城乡居民基本医疗保险",
    "employee_medical": "参加职工基本医疗保险",
    "resident_pension": "参加城乡居民基本养老保险",
    "dibao": "享受低保",
    "tekun": "特困供养",
    "phone": "联系电话",
}


_H_PHONE = H_ALL.index("phone")


_H_REGION = H_ALL.index("region")


_ID_ELSEWHERE = "该证件号码已登记在系统中的其他农户（同一人只能属于一户，迁入请先办理转户）"


def classify(table: Table) -> None:
    """Decide what a table holds (by its sheet/file name, else by its headers) and map its headers."""
    stem = table.sheet or Path(table.file).stem
    normalised = [formats.normalise_header(h) for h in table.headers]
    if stem.strip() == formats.HOUSEHOLD_SHEET:
        kind = "household"
    elif stem.strip() == formats.MEMBER_SHEET:
        kind = "member"
    else:
        canon = {formats.MEMBER_ALIASES.get(h, h) for h in normalised} | {
            formats.HOUSEHOLD_ALIASES.get(h, h) for h in normalised
        }
        if "户编号" in canon and "证件号码" in canon:
            kind = "member"
        elif "户编号" in canon and ("行政区划代码" in canon or "户类型" in canon):
            kind = "household"
        else:
            kind = ""
    table.kind = kind
    if not kind:
        return
    columns = formats.HOUSEHOLD_COLUMNS if kind == "household" else formats.MEMBER_COLUMNS
    aliases = formats.HOUSEHOLD_ALIASES if kind == "household" else formats.MEMBER_ALIASES
    ours = {c.header for c in columns}
    for position, (raw, norm) in enumerate(zip(table.headers, normalised, strict=True)):
        if not norm:
            continue
        canonical = norm if norm in ours else aliases.get(norm)
        if canonical is None:
            if norm not in formats.DERIVED_HEADERS:
                table.ignored.append(raw)
            continue
        first = table.index.setdefault(canonical, position)
        if first != position:
            table.repeated.setdefault(canonical, [first]).append(position)
