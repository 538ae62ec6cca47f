"""The conditions of 风险消除 (DOMAIN.md §5), as pure functions over one ``Facts`` object.

``elimination_facts`` gathers the facts in one place (the household, its risk points, its measures, its monthly
history and the monitoring line); each condition returns ``Condition(name, met, evidence)``. They are shown at
every step of an elimination case and in the API's ``conditions``; a failed one blocks approve unless a county
reviewer overrides it with a reason (audited, and the case is then marked 存疑).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

MONITORED_MONTHS = 6
INCOME_MONTHS = 6
SECURE_HOUSING = {"A", "B"}


@dataclass(frozen=True)
class Condition:
    name: str
    met: bool
    evidence: str


@dataclass(frozen=True)
class Facts:
    today: date
    identified_month: str  # YYYYMM or ""
    per_capita_income: Decimal | None
    line: Decimal | None
    # The last months on record, newest first: (YYYY-MM, per-capita income or None).
    months: list[tuple[str, Decimal | None]] = field(default_factory=list)
    food_clothing_secure: bool | None = None
    education_secure: bool | None = None
    medical_secure: bool | None = None
    housing_grade: str = ""
    water_safe: bool | None = None
    open_risks: list[str] = field(default_factory=list)  # labels of risk points not eliminated
    measures_done: int = 0
    measures_total: int = 0
    has_labour: bool = True


def months_between(yyyymm: str, today: date) -> int | None:
    if len(yyyymm or "") != 6 or not yyyymm.isdigit():
        return None
    return (today.year - int(yyyymm[:4])) * 12 + today.month - int(yyyymm[4:])


def monitored_long_enough(f: Facts) -> Condition:
    name = f"监测满{MONITORED_MONTHS}个月"
    months = months_between(f.identified_month, f.today)
    if months is None:
        return Condition(name, False, "没有识别监测时间，无法计算监测时长")
    shown = f"{f.identified_month[:4]}-{f.identified_month[4:]}"
    return Condition(name, months >= MONITORED_MONTHS, f"{shown} 纳入监测，至今 {months} 个月")


def income_stably_above_line(f: Facts) -> Condition:
    name = f"人均纯收入稳定高于监测标准（当前及近{INCOME_MONTHS}个月）"
    if f.line is None:
        return Condition(name, False, "未设置监测收入标准")
    if f.per_capita_income is None:
        return Condition(name, False, "当前人均纯收入未计算")
    now_ok = f.per_capita_income > f.line
    head = f"当前 {f.per_capita_income} 元，标准 {f.line} 元"
    if len(f.months) < INCOME_MONTHS:
        return Condition(name, False, f"{head}；月度记录只有 {len(f.months)} 个月，不足{INCOME_MONTHS}个月")
    below = [m for m, v in f.months[:INCOME_MONTHS] if v is None or v <= f.line]
    if below:
        return Condition(name, False, f"{head}；{'、'.join(below)} 未高于标准")
    if not now_ok:
        return Condition(name, False, f"{head}，当前未高于标准")
    first, last = f.months[INCOME_MONTHS - 1][0], f.months[0][0]
    return Condition(name, True, f"{head}；{first} 至 {last} 各月均高于标准")


def basic_needs_secure(f: Facts) -> Condition:
    name = "两不愁三保障及饮水安全有保障"
    checks = [
        ("吃穿不愁", f.food_clothing_secure),
        ("义务教育", f.education_secure),
        ("基本医疗", f.medical_secure),
        ("住房安全", (f.housing_grade in SECURE_HOUSING) if f.housing_grade else None),
        ("饮水安全", f.water_safe),
    ]
    bad = [label for label, ok in checks if ok is False]
    unknown = [label for label, ok in checks if ok is None]
    if not bad and not unknown:
        return Condition(name, True, "吃穿、义务教育、基本医疗、住房、饮水均有保障")
    parts = []
    if bad:
        parts.append("未保障：" + "、".join(bad))
    if unknown:
        parts.append("未核实：" + "、".join(unknown))
    return Condition(name, False, "；".join(parts))


def risks_all_closed(f: Facts) -> Condition:
    name = "风险点均已消除"
    if f.open_risks:
        return Condition(name, False, f"尚有 {len(f.open_risks)} 个风险点未消除：{'、'.join(f.open_risks)}")
    return Condition(name, True, "没有未消除的风险点")


def measure_carried_out(f: Facts) -> Condition:
    name = "至少一项帮扶措施已落实"
    return Condition(
        name, f.measures_done > 0, f"帮扶措施 {f.measures_total} 项，其中已落实 {f.measures_done} 项"
    )


def not_all_without_labour(f: Facts) -> Condition:
    name = "家庭有劳动能力（无劳动能力户继续兜底监测）"
    if f.has_labour:
        return Condition(name, True, "家庭成员中有劳动力")
    return Condition(name, False, "家庭成员均无劳动能力，应继续纳入兜底保障监测，不标注风险消除")


CONDITIONS = (
    monitored_long_enough,
    income_stably_above_line,
    basic_needs_secure,
    risks_all_closed,
    measure_carried_out,
    not_all_without_labour,
)


def evaluate(facts: Facts) -> list[Condition]:
    return [check(facts) for check in CONDITIONS]


def elimination_facts(household, *, today: date) -> Facts:
    """Everything the conditions read, gathered for one household (already found through the user's
    jurisdiction, or locked by the service)."""
    from fangfan.assistance.choices import MeasureState
    from fangfan.monitoring.choices import RiskType
    from fangfan.monitoring.models import RiskPoint
    from fangfan.policy.services import policy_values

    labels = dict(RiskType.choices)
    open_risks = [
        str(labels.get(t, t))
        for t in household.risk_points.filter(state__in=RiskPoint.UNRESOLVED)
        .order_by("found_on", "id")
        .values_list("risk_type", flat=True)
    ]
    states = list(household.measures.values_list("state", flat=True))
    months = [
        (f"{m:%Y-%m}", income)
        for m, income in household.months.order_by("-month").values_list("month", "per_capita_income")[
            :INCOME_MONTHS
        ]
    ]
    line = policy_values(region_code=household.region_id, year=today.year).get("monitoring_line")
    return Facts(
        today=today,
        identified_month=household.identified_month,
        per_capita_income=household.per_capita_income,
        line=line,
        months=months,
        food_clothing_secure=household.food_clothing_secure,
        education_secure=household.education_secure,
        medical_secure=household.medical_secure,
        housing_grade=household.housing_grade,
        water_safe=household.water_safe,
        open_risks=open_risks,
        measures_done=states.count(MeasureState.DONE),
        measures_total=len(states),
        has_labour=household.has_labour,
    )
