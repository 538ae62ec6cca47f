"""Income and classification rules for rural households (DOMAIN.md §1–2, plan M7).

Pure rules on plain values — no Django import — so the same functions serve the household page, the
yearly classification run, importers and tests.  Every figure that differs by province or year
(the monitoring line, the provincial income, the ratios) comes in through :class:`PolicyParams`, which
the caller fills from the configured policy table; the defaults here are only the plan's figures.

The result is a *suggestion*: villages verify and the approval chain decides (M7 "村级核实上报").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

__all__ = [
    "EXITED",
    "GENERAL",
    "HOUSEHOLD_TYPES",
    "LABELS",
    "MONITORING_TYPES",
    "HouseholdFacts",
    "IncomeItems",
    "PolicyParams",
    "Suggestion",
    "format_percent",
    "format_yuan",
    "household_net_income",
    "per_capita_net_income",
    "suggest_classification",
]

#: 户类型
GENERAL = "一般农户"
EXITED = "脱贫户"
HOUSEHOLD_TYPES = (GENERAL, EXITED)

#: Suggestion code → label, in the words of the import format (DATA-FORMATS.md §2): 脱贫户分类 for the
#: first three, 监测对象类型 for the last two.  Kept in one place so a renaming is one edit.
LABELS: dict[str, str] = {
    "not_enjoying": "不享受政策",
    "enjoying": "享受政策",
    "monitored": "脱贫监测户",
    "marginal": "边缘易致贫户",
    "sudden_hardship": "突发严重困难户",
}

#: Suggestion code → national 监测对象类型 (2021–2025 wording) for the codes that make a household a
#: monitoring object.  A 脱贫户 suggested as 突发严重困难户 is a monitoring object too (its 脱贫户分类
#: then becomes 脱贫监测户).
MONITORING_TYPES: dict[str, str] = {
    "monitored": "脱贫不稳定户",
    "marginal": "边缘易致贫户",
    "sudden_hardship": "突发严重困难户",
}

_CENT = Decimal("0.01")
_ZERO = Decimal(0)


def _dec(value: object) -> Decimal:
    """A money or ratio value as Decimal (floats through their shortest repr, never binary noise)."""
    if type(value) is Decimal or isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)  # type: ignore[arg-type]


def _dec_or_none(value: object) -> Decimal | None:
    return None if value is None else _dec(value)


@dataclass
class IncomeItems:
    """A household's income for the rolling 12 months (yuan per year), by the national items:
    工资性收入 (``wage``), 生产经营性收入 (``business_income``), 生产经营性支出 (``business_expense``),
    财产性收入 (``property_income``), 转移性收入 (``transfer_income``) and 合规自付支出
    (``compliant_self_paid``: medical, schooling… after reimbursement — not part of net income, but the
    measure of rigid expenditure).  Ints, strings and floats are accepted and stored as Decimal."""

    wage: Decimal
    business_income: Decimal
    business_expense: Decimal
    property_income: Decimal
    transfer_income: Decimal
    compliant_self_paid: Decimal = _ZERO

    def __post_init__(self) -> None:
        for name in (
            "wage",
            "business_income",
            "business_expense",
            "property_income",
            "transfer_income",
            "compliant_self_paid",
        ):
            value = getattr(self, name)
            if type(value) is not Decimal:
                setattr(self, name, _dec(value))


def household_net_income(items: IncomeItems) -> Decimal:
    """家庭纯收入 = 工资性收入 + 生产经营性收入 − 生产经营性支出 + 财产性收入 + 转移性收入 (the national
    formula; 合规自付支出 is not deducted).  Rounded to the fen (0.01 yuan, half up); may be negative."""
    total = (
        items.wage
        + items.business_income
        - items.business_expense
        + items.property_income
        + items.transfer_income
    )
    return total.quantize(_CENT, rounding=ROUND_HALF_UP)


def per_capita_net_income(items: IncomeItems, size: int) -> Decimal | None:
    """年人均纯收入 = 家庭纯收入 ÷ 家庭人口 (members registered in the household who live and share
    income together), rounded to the fen half up.  None when the household has no member, since there
    is nothing to divide by."""
    if size < 0:
        raise ValueError("家庭人口不能为负数")
    if size == 0:
        return None
    total = (
        items.wage
        + items.business_income
        - items.business_expense
        + items.property_income
        + items.transfer_income
    )
    return (total / Decimal(size)).quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass
class PolicyParams:
    """The configurable figures the classification uses (DOMAIN.md §2, "varies"):

    * ``monitoring_line`` — 监测收入标准, yuan per person per year (plan: 5000);
    * ``provincial_income`` — 全省农村居民人均可支配收入 (Anhui 2025: 23828);
    * ``near_average_ratio`` — the share of that average counting as "接近" it for 不享受政策 (0.9);
    * ``sudden_hardship_ratio`` — 合规自付支出 at or above this share of 家庭纯收入 is "刚性支出较大" (0.5);
    * ``sudden_income_drop_ratio`` — a fall of 年人均纯收入 by at least this share against the previous
      figure is "收入大幅缩减" (0.3).
    """

    monitoring_line: Decimal = Decimal(5000)
    provincial_income: Decimal = Decimal(23828)
    near_average_ratio: Decimal = Decimal("0.9")
    sudden_hardship_ratio: Decimal = Decimal("0.5")
    sudden_income_drop_ratio: Decimal = Decimal("0.3")

    def __post_init__(self) -> None:
        for name in (
            "monitoring_line",
            "provincial_income",
            "near_average_ratio",
            "sudden_hardship_ratio",
            "sudden_income_drop_ratio",
        ):
            setattr(self, name, _dec(getattr(self, name)))

    @property
    def near_average_line(self) -> Decimal:
        """The per-capita income from which a 脱贫户 counts as near the provincial average:
        ``provincial_income × near_average_ratio`` (23828 × 0.9 = 21445.2)."""
        return self.provincial_income * self.near_average_ratio


@dataclass
class HouseholdFacts:
    """What the classification looks at for one household.

    ``household_type`` is 一般农户 or 脱贫户; ``per_capita`` the 年人均纯收入 (None when income has not
    been collected); ``net_income`` the 家庭纯收入; ``compliant_self_paid`` the 合规自付支出; ``size``
    the 家庭人口; ``risks`` the risks already derived from members and indicators, in Chinese
    ("成员患有大病", "住房安全等级为C级", "饮水不安全", "义务教育阶段成员未在校"…);
    ``previous_per_capita`` the previous period's 年人均纯收入, if known; ``no_labour_capacity`` True when
    no member can work (丧失劳动力 / 无劳动力 throughout).
    """

    household_type: str
    per_capita: Decimal | None
    net_income: Decimal | None = None
    compliant_self_paid: Decimal = _ZERO
    size: int = 0
    risks: list[str] = field(default_factory=list)
    previous_per_capita: Decimal | None = None
    no_labour_capacity: bool = False

    def __post_init__(self) -> None:
        self.per_capita = _dec_or_none(self.per_capita)
        self.net_income = _dec_or_none(self.net_income)
        self.compliant_self_paid = _dec(self.compliant_self_paid or 0)
        self.previous_per_capita = _dec_or_none(self.previous_per_capita)
        self.risks = list(self.risks or [])

    @classmethod
    def from_income(
        cls,
        household_type: str,
        items: IncomeItems,
        size: int,
        *,
        risks: list[str] | None = None,
        previous_per_capita: Decimal | None = None,
        no_labour_capacity: bool = False,
    ) -> HouseholdFacts:
        """Facts for a household from its income items and size (net and per-capita income computed
        by the national formula)."""
        total = (  # the two national formulas share their sum (see household_net_income / per_capita_net_income)
            items.wage
            + items.business_income
            - items.business_expense
            + items.property_income
            + items.transfer_income
        )
        if size < 0:
            raise ValueError("家庭人口不能为负数")
        return cls(
            household_type=household_type,
            per_capita=None if size == 0 else (total / Decimal(size)).quantize(_CENT, rounding=ROUND_HALF_UP),
            net_income=total.quantize(_CENT, rounding=ROUND_HALF_UP),
            compliant_self_paid=items.compliant_self_paid,
            size=size,
            risks=list(risks or []),
            previous_per_capita=previous_per_capita,
            no_labour_capacity=no_labour_capacity,
        )


@dataclass
class Suggestion:
    """A suggested class for a household: ``code`` (not_enjoying / enjoying / monitored / marginal /
    sudden_hardship), its Chinese ``label`` and a Chinese ``reason`` citing the figures, shown to the
    village cadre who verifies it."""

    code: str
    label: str
    reason: str

    @property
    def monitoring_type(self) -> str | None:
        """The national 监测对象类型 this suggestion amounts to, or None when it makes no monitoring object."""
        return MONITORING_TYPES.get(self.code)


def _suggest(code: str, reason: str) -> Suggestion:
    return Suggestion(code=code, label=LABELS[code], reason=reason)


def format_yuan(amount: Decimal) -> str:
    """A yuan figure for a reason text: thousands separators, the fen only when there are any
    (``4620`` → "4,620", ``21445.2`` → "21,445.2", ``4999.55`` → "4,999.55")."""
    value = _dec(amount).quantize(_CENT, rounding=ROUND_HALF_UP)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0")


def format_percent(ratio: Decimal) -> str:
    """A ratio as a percentage for a reason text: ``0.9`` → "90%", ``0.625`` → "62.5%"."""
    value = (_dec(ratio) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


@lru_cache(maxsize=256)
def _line_text(line: Decimal) -> str:
    return f"监测收入标准 {format_yuan(line)} 元"


@lru_cache(maxsize=256)
def _average_text(provincial_income: Decimal, ratio: Decimal) -> str:
    return (
        f"全省农村居民人均可支配收入 {format_yuan(provincial_income)} 元的 "
        f"{format_percent(ratio)}（{format_yuan(provincial_income * ratio)} 元）"
    )


def _heavy_expense(facts: HouseholdFacts, params: PolicyParams) -> str | None:
    """刚性支出较大: 合规自付支出 ≥ sudden_hardship_ratio × 家庭纯收入 (with some 合规自付支出 at all).
    Returns the explanation, or None."""
    paid = facts.compliant_self_paid
    if paid <= 0:
        return None
    net = facts.net_income
    if net is None and facts.per_capita is not None and facts.size > 0:
        net = facts.per_capita * facts.size
    if net is None:
        return None
    if net <= 0:
        return f"合规自付支出 {format_yuan(paid)} 元，而家庭纯收入仅 {format_yuan(net)} 元（刚性支出较大）"
    if paid >= params.sudden_hardship_ratio * net:
        return (
            f"合规自付支出 {format_yuan(paid)} 元，占家庭纯收入 {format_yuan(net)} 元的 "
            f"{format_percent(paid / net)}，达到 {format_percent(params.sudden_hardship_ratio)} 以上（刚性支出较大）"
        )
    return None


def _income_drop(facts: HouseholdFacts, params: PolicyParams) -> str | None:
    """收入大幅缩减: 年人均纯收入 fell by at least sudden_income_drop_ratio of the previous figure.
    Returns the explanation, or None."""
    previous, current = facts.previous_per_capita, facts.per_capita
    if previous is None or current is None or previous <= 0:
        return None
    drop = previous - current
    if drop >= params.sudden_income_drop_ratio * previous:
        return (
            f"年人均纯收入较上期 {format_yuan(previous)} 元下降 {format_percent(drop / previous)}，"
            f"达到 {format_percent(params.sudden_income_drop_ratio)} 以上（收入大幅缩减）"
        )
    return None


def suggest_classification(facts: HouseholdFacts, params: PolicyParams | None = None) -> Suggestion | None:
    """Suggest a household's class from its income and risks (plan M7, DOMAIN.md §1).

    Precedence (the first rule that holds wins):

    1. **Below the line with a risk** — 年人均纯收入 < 监测收入标准 and at least one risk:
       脱贫户 → 脱贫监测户 (``monitored``), 一般农户 → 边缘易致贫户 (``marginal``).  "Below" is strict:
       exactly at the line is not below it.  For this rule a large rigid expenditure or a sharp income
       fall (see 2) also counts as a risk, next to the given ``risks``.
    2. **Above the line but in sudden hardship** — 年人均纯收入 ≥ the line, and either 合规自付支出 ≥
       ``sudden_hardship_ratio`` × 家庭纯收入 (刚性支出较大) or 年人均纯收入 fell by ≥
       ``sudden_income_drop_ratio`` against ``previous_per_capita`` (收入大幅缩减): 突发严重困难户
       (``sudden_hardship``) for either household type.
    3. 脱贫户 only — **不享受政策** (``not_enjoying``) when 年人均纯收入 ≥ ``near_average_ratio`` ×
       全省农村居民人均可支配收入, there is no risk and the household can work (strong self-development);
    4. 脱贫户 only — **享受政策** (``enjoying``) otherwise: income between the line and near the
       average, a near-average household that still has a risk or no labour capacity, and a household
       below the line where no risk was found (the reason then asks to verify the risks: 建议核实风险).

    A 一般农户 matching neither 1 nor 2 gets None (it is graded by 分类定级, not classed here).  None as
    well when income is missing (``per_capita`` is None): nothing can be suggested without it.
    An unknown ``household_type`` raises ValueError.
    """
    params = params or PolicyParams()
    if facts.household_type not in HOUSEHOLD_TYPES:
        raise ValueError(f"未知的户类型：{facts.household_type}")
    per_capita = facts.per_capita
    if per_capita is None:
        return None

    line = params.monitoring_line
    income = f"年人均纯收入 {format_yuan(per_capita)} 元"
    line_text = _line_text(line)
    risks = [r for r in facts.risks if r]
    heavy = _heavy_expense(facts, params)
    drop = _income_drop(facts, params)
    exited = facts.household_type == EXITED

    # 1. below the line with a risk
    if per_capita < line:
        all_risks = risks + [r for r in (heavy, drop) if r]
        if all_risks:
            return _suggest(
                "monitored" if exited else "marginal",
                f"{income}，低于{line_text}；" + "；".join(all_risks),
            )
    # 2. above the line, sudden hardship
    elif heavy or drop:
        reason = f"{income}，不低于{line_text}，但" + "；".join(r for r in (heavy, drop) if r)
        if risks:
            reason += "；" + "；".join(risks)
        return _suggest("sudden_hardship", reason)

    if not exited:
        return None

    # 3./4. the two policy classes of 脱贫户
    near = params.near_average_line
    average_text = _average_text(params.provincial_income, params.near_average_ratio)
    if per_capita < line:
        return _suggest("enjoying", f"{income}，低于{line_text}，但未发现返贫风险，建议核实风险")
    if per_capita >= near:
        reached = f"{income}，达到{average_text}以上"
        if risks:
            return _suggest("enjoying", f"{reached}，但存在返贫风险：" + "；".join(risks))
        if facts.no_labour_capacity:
            return _suggest("enjoying", f"{reached}，但家庭无劳动能力，自我发展能力弱")
        return _suggest("not_enjoying", f"{reached}，且无返贫风险")
    reason = f"{income}，不低于{line_text}，但低于{average_text}"
    reason += ("；存在返贫风险：" + "；".join(risks)) if risks else "，无返贫风险"
    return _suggest("enjoying", reason)
