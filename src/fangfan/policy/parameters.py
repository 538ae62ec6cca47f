"""The catalogue of policy parameters: every figure that differs by province, region or year (DOMAIN.md).

Each has a default (the plan's or the national figure); a region may override it for a year, and the nearest
ancestor region's value applies. Labels are what the policy page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class ParameterSpec:
    key: str
    label: str
    unit: str
    default: Decimal
    help: str = ""


PARAMETERS: dict[str, ParameterSpec] = {
    p.key: p
    for p in [
        ParameterSpec(
            "monitoring_line",
            "监测收入标准",
            "元/人·年",
            Decimal("5000"),
            "方案：年人均纯收入低于5000元且具有风险",
        ),
        ParameterSpec(
            "provincial_income", "全省农村居民人均可支配收入", "元", Decimal("23828"), "安徽省2025年：23828元"
        ),
        ParameterSpec(
            "near_average_ratio",
            "“接近”全省平均水平的比例",
            "倍",
            Decimal("0.9"),
            "达到该比例即视为接近或达到",
        ),
        ParameterSpec(
            "sudden_hardship_ratio", "刚性支出较大：合规自付支出占家庭纯收入比例", "倍", Decimal("0.5")
        ),
        ParameterSpec(
            "sudden_income_drop_ratio", "收入大幅缩减：较上次年人均纯收入下降比例", "倍", Decimal("0.3")
        ),
        ParameterSpec(
            "medical_self_paid_monitored", "医保预警：监测对象/脱贫户单次自付超过", "元", Decimal("6000")
        ),
        ParameterSpec("medical_self_paid_general", "医保预警：一般农户单次自付超过", "元", Decimal("10000")),
        ParameterSpec("school_age_min", "义务教育起始年龄（9月1日）", "岁", Decimal("6")),
        ParameterSpec("school_age_max", "义务教育截止年龄（9月1日）", "岁", Decimal("16")),
        ParameterSpec("verify_days", "入户核查时限", "天", Decimal("3")),
        ParameterSpec("decide_days", "线索到认定时限", "天", Decimal("15")),
        ParameterSpec("risk_deadline_days", "风险点限期消除", "天", Decimal("90")),
        ParameterSpec(
            "emergency_advance_limit",
            "救急难先行救助：每案限额",
            "元",
            Decimal("3000"),
            "尚未认定的农户，救急难基金每次先行救助不超过该金额",
        ),
    ]
}
