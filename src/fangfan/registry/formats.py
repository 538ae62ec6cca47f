"""The household workbook's contract (DATA-FORMATS §2 and §4): sheet names, fixed headers, the aliases the
national system's own export uses, and the value lists with the words people type.

The importer, the downloadable template and the exporter all read their columns from here, so a header is
spelled in exactly one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .choices import (
    DISABILITY_CATEGORIES,
    DISABILITY_GRADES,
    EDUCATION_LEVELS,
    HEALTH_STATES,
    LABOUR_SKILLS,
    MONITORING_TYPE_ALIASES,
    RELATIONS,
    SCHOOL_STATUSES,
    ExitedClass,
    HouseholdType,
    HousingGrade,
    MonitoringState,
    MonitoringType,
)

HOUSEHOLD_SHEET = "户信息"
MEMBER_SHEET = "成员信息"
GUIDE_SHEET = "填写说明"
EXPORT_SHEET = "农户清单"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its fixed header, whether it must be present and filled, and a note for people."""

    header: str
    required: bool
    note: str
    choices: tuple[str, ...] = ()
    text_format: bool = False  # formatted as text in the template (ID numbers, phones, codes)
    example: str = ""


YES_NO = ("是", "否")

# A phone number as people write it: digits, an optional leading "+", and "-" between groups (0551-12345678).


_NUMBER_BAD = re.compile(r"[\s\x00-\x1f\x7f]")


# A 户编号 is unique in the whole system; a writer told that one is taken learns nothing about where (another
# village, town or county): the same words whoever holds it.
NUMBER_TAKEN = "户编号已被占用，请换一个"


def number_taken(number: str) -> str:
    return f"户编号 {number} 已被占用，请换一个"


def clean_household_number(raw: str) -> str:
    """A 户编号 as typed or read (blanks around it removed); ``ValueError`` with the reason when it cannot be one."""
    number = (raw or "").strip()
    if not number:
        raise ValueError("必填")
    if len(number) > 40:
        raise ValueError("过长（最多40个字符）")
    if _NUMBER_BAD.search(number):
        raise ValueError("户编号不能含有空格或控制字符")
    return number


HOUSEHOLD_COLUMNS: list[Column] = [
    Column(
        "户编号",
        True,
        "必填。本户在全国系统中的户编号，全表唯一",
        text_format=True,
        example="341523104201001",
    ),
    Column(
        "行政区划代码",
        True,
        "必填。本户所在村的12位统计用区划代码（设置为文本格式）",
        text_format=True,
        example="341523104201",
    ),
    Column("户类型", True, "必填。一般农户 或 脱贫户", tuple(HouseholdType.labels), example="脱贫户"),
    Column("脱贫年度", False, "脱贫户必填，四位年份，如 2019", example="2019"),
    Column(
        "脱贫户分类",
        False,
        "仅脱贫户填写：不享受政策 / 享受政策 / 脱贫监测户",
        tuple(ExitedClass.labels),
        example="享受政策",
    ),
    Column(
        "监测对象类型",
        False,
        "不是监测对象请留空：脱贫不稳定户 / 边缘易致贫户 / 突发严重困难户",
        tuple(MonitoringType.labels),
    ),
    Column("监测状态", False, "监测中 / 风险已消除；不是监测对象请留空", tuple(MonitoringState.labels)),
    Column("识别监测时间", False, "年月，格式 YYYYMM，如 202405", text_format=True),
    Column("风险消除时间", False, "年月，格式 YYYYMM，如 202411", text_format=True),
    Column("分类定级", False, "一般农户的分类定级（按本地配置的等级填写）"),
    Column("联系电话", False, "户联系电话（设置为文本格式）", text_format=True, example="13800138000"),
    Column("工资性收入", True, "必填。近12个月，元/年，没有请填 0，最多两位小数", example="24000"),
    Column("生产经营性收入", True, "必填。元/年，没有请填 0", example="6000"),
    Column("生产经营性支出", True, "必填。元/年，没有请填 0", example="2000"),
    Column("财产性收入", True, "必填。元/年，没有请填 0", example="300"),
    Column("转移性收入", True, "必填。元/年（养老金、低保金、各类补贴等），没有请填 0", example="3600"),
    Column("合规自付支出", False, "元/年：医疗、教育等报销后个人自付的合规支出", example="0"),
    Column("吃穿不愁", False, "是 / 否；尚未核实请留空", YES_NO, example="是"),
    Column("住房安全等级", False, "A / B / C / D；尚未鉴定请留空", ("A", "B", "C", "D"), example="B"),
    Column("饮水安全", False, "是 / 否；尚未核实请留空", YES_NO, example="是"),
]

MEMBER_COLUMNS: list[Column] = [
    Column(
        "户编号",
        True,
        "必填。所属户的户编号：“户信息”表中的，或系统中已有的",
        text_format=True,
        example="341523104201001",
    ),
    Column("姓名", True, "必填", example="张三"),
    Column(
        "证件号码",
        True,
        "必填。18位身份证号（也可填15位旧号或20位残疾人证号）；务必设置为文本格式，否则 Excel 会把它变成数字",
        text_format=True,
        example="34152319700101001X",
    ),
    Column("与户主关系", True, "必填。每户有且只有一个“户主”", tuple(RELATIONS), example="户主"),
    Column("文化程度", False, "", tuple(EDUCATION_LEVELS), example="初中"),
    Column("在校生状况", False, "", tuple(SCHOOL_STATUSES), example="非在校生"),
    Column("义务教育阶段未上学原因", False, "义务教育年龄段未在校时填写原因（如 送教上门、重度残疾）"),
    Column(
        "健康状况",
        False,
        "健康 / 长期慢性病 / 患有大病 / 残疾，可填多项，用“、”分隔",
        tuple(HEALTH_STATES),
        example="健康",
    ),
    Column("残疾类别", False, "", tuple(DISABILITY_CATEGORIES)),
    Column("残疾等级", False, "", tuple(DISABILITY_GRADES)),
    Column("劳动技能", False, "", tuple(LABOUR_SKILLS), example="普通劳动力"),
    Column("务工时间（月）", False, "0–12 的整数", example="10"),
    Column("务工地", False, "", example="江苏省苏州市"),
    Column("参加城乡居民基本医疗保险", False, "是 / 否", YES_NO, example="是"),
    Column("参加职工基本医疗保险", False, "是 / 否", YES_NO, example="否"),
    Column("参加城乡居民基本养老保险", False, "是 / 否", YES_NO, example="是"),
    Column("享受低保", False, "是 / 否", YES_NO, example="否"),
    Column("特困供养", False, "是 / 否", YES_NO, example="否"),
    Column("联系电话", False, "成员本人电话（设置为文本格式）", text_format=True),
]

# 农户清单 (DATA-FORMATS §4): every column of 户信息, then the derived figures.
EXPORT_EXTRA_HEADERS = ["户主姓名", "家庭人口", "家庭纯收入", "年人均纯收入", "系统建议分类", "建议理由"]
EXPORT_HEADERS = [c.header for c in HOUSEHOLD_COLUMNS] + EXPORT_EXTRA_HEADERS

# Other names for our headers, as the national system's export and older templates write them (normalised:
# no spaces, full-width brackets, no "*", no unit suffix).
HOUSEHOLD_ALIASES = {
    "户编码": "户编号",
    "户号": "户编号",
    "行政区划": "行政区划代码",
    "区划代码": "行政区划代码",
    "行政区划编码": "行政区划代码",
    "村代码": "行政区划代码",
    "村级区划代码": "行政区划代码",
    "户属性": "户类型",
    "脱贫年份": "脱贫年度",
    "脱贫户类别": "脱贫户分类",
    "监测对象类别": "监测对象类型",
    "识别时间": "识别监测时间",
    "纳入监测时间": "识别监测时间",
    "纳入监测年月": "识别监测时间",
    "消除风险时间": "风险消除时间",
    "风险消除年月": "风险消除时间",
    "户联系电话": "联系电话",
    "联系方式": "联系电话",
    "工资性收入合计": "工资性收入",
    "生产经营性收入合计": "生产经营性收入",
    "转移性收入合计": "转移性收入",
    "财产性收入合计": "财产性收入",
    "是否吃穿不愁": "吃穿不愁",
    "住房安全鉴定等级": "住房安全等级",
    "住房安全": "住房安全等级",
    "是否饮水安全": "饮水安全",
    "饮水安全有保障": "饮水安全",
}
MEMBER_ALIASES = {
    "户编码": "户编号",
    "户号": "户编号",
    "成员姓名": "姓名",
    "身份证号": "证件号码",
    "身份证号码": "证件号码",
    "证件号": "证件号码",
    "公民身份号码": "证件号码",
    "证件号码（身份证号）": "证件号码",
    "户主关系": "与户主关系",
    "在校生情况": "在校生状况",
    "义务教育未上学原因": "义务教育阶段未上学原因",
    "未上学原因": "义务教育阶段未上学原因",
    "务工时间": "务工时间（月）",
    "务工时间月": "务工时间（月）",
    "务工地点": "务工地",
    "务工所在地": "务工地",
    "是否参加城乡居民基本医疗保险": "参加城乡居民基本医疗保险",
    "是否参加职工基本医疗保险": "参加职工基本医疗保险",
    "是否参加城乡居民基本养老保险": "参加城乡居民基本养老保险",
    "是否享受低保": "享受低保",
    "是否特困供养": "特困供养",
    "是否享受特困供养": "特困供养",
}
# Columns of the national export we recognise and deliberately ignore (derived here, or not ours).
DERIVED_HEADERS = frozenset(
    {"人均纯收入", "年人均纯收入", "家庭纯收入", "家庭人口", "户主姓名", "系统建议分类", "建议理由", "序号"}
)

_UNIT_SUFFIX = re.compile(r"（(元|元/年|元／年)）$")


def normalise_header(header: str) -> str:
    """Header as matched: no blanks (full-width included), ASCII brackets as full-width, no required-mark ``*``,
    no unit suffix ``（元）``."""
    value = re.sub(r"\s+", "", str(header or "")).replace("(", "（").replace(")", "）").replace("*", "")
    value = value.replace("＊", "")
    return _UNIT_SUFFIX.sub("", value)


# --- value lists: the words people type → stored codes ---------------------------------------------------------


def _labels(choices) -> dict[str, str]:
    return {label: value for value, label in choices.choices}


HOUSEHOLD_TYPE_VALUES = {**_labels(HouseholdType), "一般户": HouseholdType.GENERAL}
EXITED_CLASS_VALUES = {
    **_labels(ExitedClass),
    "脱贫不享受政策户": ExitedClass.NOT_ENJOYING,
    "不享受政策户": ExitedClass.NOT_ENJOYING,
    "享受政策户": ExitedClass.ENJOYING,
    "脱贫享受政策户": ExitedClass.ENJOYING,
}
MONITORING_TYPE_VALUES = {**_labels(MonitoringType), **MONITORING_TYPE_ALIASES}
MONITORING_STATE_VALUES = {
    **_labels(MonitoringState),
    "已消除风险": MonitoringState.ELIMINATED,
    "风险消除": MonitoringState.ELIMINATED,
}
HOUSING_GRADE_VALUES = {
    **{g: g for g in ("A", "B", "C", "D")},
    **{f"{g}级": g for g in ("A", "B", "C", "D")},
    **_labels(HousingGrade),
}
RELATION_VALUES = {**{r: r for r in RELATIONS}, "本人": "户主", "户主本人": "户主"}
DISABILITY_CATEGORY_VALUES = {
    **{c: c for c in DISABILITY_CATEGORIES},
    **{f"{c}残疾": c for c in DISABILITY_CATEGORIES},
}
DISABILITY_GRADE_VALUES = {
    **{g: g for g in DISABILITY_GRADES},
    **{str(i): g for i, g in enumerate(DISABILITY_GRADES, start=1)},
    **{f"{i}级": g for i, g in enumerate(DISABILITY_GRADES, start=1)},
}

# Code → the word written in exports.
HOUSEHOLD_TYPE_LABELS = dict(HouseholdType.choices)
EXITED_CLASS_LABELS = dict(ExitedClass.choices)
MONITORING_TYPE_LABELS = dict(MonitoringType.choices)
MONITORING_STATE_LABELS = dict(MonitoringState.choices)
