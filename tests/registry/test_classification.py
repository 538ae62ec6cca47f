"""Income formula and household classification (DOMAIN.md §1–2, plan M7).

Test names follow the domain's wording.  Pure Python: no database, no Django settings.
"""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangfan.registry.classification import (
    LABELS,
    HouseholdFacts,
    IncomeItems,
    PolicyParams,
    Suggestion,
    format_percent,
    format_yuan,
    household_net_income,
    per_capita_net_income,
    suggest_classification,
)

D = Decimal
PARAMS = PolicyParams()  # plan defaults: line 5000, Anhui 2025 23828, ratios 0.9 / 0.5 / 0.3
大病 = "成员患有大病"
C级危房 = "住房安全等级为C级"


def exited(per_capita, **kw) -> HouseholdFacts:
    return HouseholdFacts(household_type="脱贫户", per_capita=per_capita, **kw)


def general(per_capita, **kw) -> HouseholdFacts:
    return HouseholdFacts(household_type="一般农户", per_capita=per_capita, **kw)


def suggest(facts, params=PARAMS) -> Suggestion | None:
    return suggest_classification(facts, params)


# ================================================================ income (§2)


def test_家庭纯收入_等于工资性加生产经营性收入减生产经营性支出加财产性加转移性():
    items = IncomeItems(
        wage=D("12000"),
        business_income=D("8000.50"),
        business_expense=D("3000.25"),
        property_income=D("600"),
        transfer_income=D("2400"),
    )
    assert household_net_income(items) == D("20000.25")


def test_家庭纯收入_不扣除合规自付支出():
    items = IncomeItems(D(10000), D(0), D(0), D(0), D(0), compliant_self_paid=D(8000))
    assert household_net_income(items) == D("10000.00")


def test_家庭纯收入_生产经营亏损时可为负数():
    items = IncomeItems(D(0), D(1000), D(5000), D(0), D(500))
    assert household_net_income(items) == D("-3500.00")


def test_年人均纯收入_等于家庭纯收入除以家庭人口():
    items = IncomeItems(D(12000), D(8000), D(2000), D(0), D(500))
    assert per_capita_net_income(items, 3) == D("6166.67")  # 18500 / 3 = 6166.666…


def test_年人均纯收入_四舍五入保留两位小数():
    items = IncomeItems(D("0.05"), D(0), D(0), D(0), D(0))
    assert per_capita_net_income(items, 2) == D("0.03")  # 0.025 → 0.03 (half up)
    items = IncomeItems(D(10), D(0), D(0), D(0), D(0))
    assert per_capita_net_income(items, 3) == D("3.33")


def test_年人均纯收入_家庭人口为零时为空():
    items = IncomeItems(D(12000), D(0), D(0), D(0), D(0))
    assert per_capita_net_income(items, 0) is None


def test_年人均纯收入_家庭人口不能为负():
    with pytest.raises(ValueError):
        per_capita_net_income(IncomeItems(D(1), D(0), D(0), D(0), D(0)), -1)


def test_收入项接受整数字符串和浮点数():
    items = IncomeItems(12000, "800.5", 0.1, 0, 0)
    assert items.business_income == D("800.5")
    assert items.business_expense == D("0.1")
    assert items.compliant_self_paid == D(0)
    assert household_net_income(items) == D("12800.40")


@given(
    st.lists(st.decimals(min_value=0, max_value=10**7, places=2), min_size=5, max_size=5),
    st.integers(min_value=1, max_value=20),
)
def test_年人均纯收入乘以人口约等于家庭纯收入(amounts, size):
    items = IncomeItems(*amounts)
    per_capita = per_capita_net_income(items, size)
    assert abs(per_capita * size - household_net_income(items)) <= D("0.005") * size


# ================================================================ 脱贫户 three classes (M7)


def test_脱贫监测户_年人均纯收入低于5000元且具有返贫风险():
    s = suggest(exited(D(4620), risks=[大病]))
    assert s == Suggestion(
        "monitored", "脱贫监测户", "年人均纯收入 4,620 元，低于监测收入标准 5,000 元；成员患有大病"
    )
    assert s.monitoring_type == "脱贫不稳定户"


def test_脱贫监测户_多个风险都写入理由():
    s = suggest(exited(D("4999.99"), risks=[大病, C级危房, "饮水不安全"]))
    assert s.code == "monitored"
    assert s.reason == (
        "年人均纯收入 4,999.99 元，低于监测收入标准 5,000 元；成员患有大病；住房安全等级为C级；饮水不安全"
    )


def test_脱贫监测户_年人均纯收入恰好5000元不算低于监测收入标准():
    s = suggest(exited(D(5000), risks=[大病]))
    assert s.code == "enjoying"
    assert "不低于监测收入标准 5,000 元" in s.reason
    assert "成员患有大病" in s.reason


def test_享受政策的脱贫户_年人均纯收入低于5000元但未发现风险_建议核实风险():
    s = suggest(exited(D(4620)))
    assert s.code == "enjoying"
    assert s.label == "享受政策"
    assert s.reason == "年人均纯收入 4,620 元，低于监测收入标准 5,000 元，但未发现返贫风险，建议核实风险"
    assert s.monitoring_type is None


def test_不享受政策的脱贫户_年人均纯收入接近全省农村居民人均可支配收入且无风险():
    s = suggest(exited(D(22100)))
    assert s.code == "not_enjoying"
    assert s.label == "不享受政策"
    assert s.reason == (
        "年人均纯收入 22,100 元，达到全省农村居民人均可支配收入 23,828 元的 90%（21,445.2 元）以上，且无返贫风险"
    )


def test_不享受政策的脱贫户_年人均纯收入高于全省平均():
    assert suggest(exited(D(30000))).code == "not_enjoying"


def test_不享受政策的脱贫户_恰好达到全省平均的90即为接近():
    assert suggest(exited(D("21445.20"))).code == "not_enjoying"
    assert suggest(exited(D("21445.19"))).code == "enjoying"


def test_享受政策的脱贫户_收入较高但低于全省平均_无风险():
    s = suggest(exited(D(12000)))
    assert s.code == "enjoying"
    assert s.reason == (
        "年人均纯收入 12,000 元，不低于监测收入标准 5,000 元，但低于全省农村居民人均可支配收入 23,828 元的 90%"
        "（21,445.2 元），无返贫风险"
    )


def test_享受政策的脱贫户_收入高于监测收入标准但有风险不是监测户():
    s = suggest(exited(D(8000), risks=[C级危房]))
    assert s.code == "enjoying"
    assert s.reason.endswith("；存在返贫风险：住房安全等级为C级")


def test_享受政策的脱贫户_接近全省平均但有返贫风险不能不享受政策():
    s = suggest(exited(D(25000), risks=[大病]))
    assert s.code == "enjoying"
    assert "但存在返贫风险：成员患有大病" in s.reason


def test_享受政策的脱贫户_接近全省平均但无劳动能力_自我发展能力弱():
    s = suggest(exited(D(25000), no_labour_capacity=True))
    assert s.code == "enjoying"
    assert s.reason.endswith("但家庭无劳动能力，自我发展能力弱")


# ================================================================ 一般农户 (§1)


def test_边缘易致贫户_一般农户年人均纯收入低于监测收入标准且具有致贫风险():
    s = suggest(general(D(4000), risks=["义务教育阶段成员未在校"]))
    assert s == Suggestion(
        "marginal", "边缘易致贫户", "年人均纯收入 4,000 元，低于监测收入标准 5,000 元；义务教育阶段成员未在校"
    )
    assert s.monitoring_type == "边缘易致贫户"


def test_一般农户_年人均纯收入低于监测收入标准但无风险_不作建议():
    assert suggest(general(D(4000))) is None


def test_一般农户_年人均纯收入恰好等于监测收入标准_不是边缘易致贫户():
    assert suggest(general(D(5000), risks=[大病])) is None


def test_一般农户_收入高于监测收入标准且无突发困难_不作建议():
    assert suggest(general(D(30000))) is None
    assert suggest(general(D(6000), risks=[大病])) is None


# ================================================================ 突发严重困难户 (§1)


def test_突发严重困难户_收入高于监测收入标准但合规自付支出较大():
    facts = general(D(8000), net_income=D(32000), size=4, compliant_self_paid=D(20000), risks=[大病])
    s = suggest(facts)
    assert s.code == "sudden_hardship"
    assert s.label == "突发严重困难户"
    assert s.monitoring_type == "突发严重困难户"
    assert s.reason == (
        "年人均纯收入 8,000 元，不低于监测收入标准 5,000 元，但合规自付支出 20,000 元，"
        "占家庭纯收入 32,000 元的 62.5%，达到 50% 以上（刚性支出较大）；成员患有大病"
    )


def test_突发严重困难户_脱贫户也适用():
    facts = exited(D(22100), net_income=D(44200), size=2, compliant_self_paid=D(30000))
    assert suggest(facts).code == "sudden_hardship"


def test_突发严重困难户_合规自付支出恰好达到家庭纯收入的一半():
    at = general(D(8000), net_income=D(32000), size=4, compliant_self_paid=D(16000))
    below = general(D(8000), net_income=D(32000), size=4, compliant_self_paid=D("15999.99"))
    assert suggest(at).code == "sudden_hardship"
    assert suggest(below) is None


def test_突发严重困难户_未给家庭纯收入时由人均乘人口得出():
    facts = general(D(8000), size=4, compliant_self_paid=D(16000))
    assert suggest(facts).code == "sudden_hardship"


def test_突发严重困难户_收入大幅缩减():
    s = suggest(general(D(7000), previous_per_capita=D(10000)))
    assert s.code == "sudden_hardship"
    assert s.reason == (
        "年人均纯收入 7,000 元，不低于监测收入标准 5,000 元，但年人均纯收入较上期 10,000 元下降 30%，"
        "达到 30% 以上（收入大幅缩减）"
    )


def test_突发严重困难户_收入下降不足30不算():
    assert suggest(general(D("7000.01"), previous_per_capita=D(10000))) is None
    assert suggest(exited(D(22100), previous_per_capita=D(30000))).code == "not_enjoying"  # fell 26.3 %


def test_突发严重困难户_收入上升不算():
    assert suggest(general(D(9000), previous_per_capita=D(6000))) is None


def test_突发严重困难户_优先于不享受政策():
    s = suggest(exited(D(22100), previous_per_capita=D(40000)))
    assert s.code == "sudden_hardship"


def test_脱贫监测户_优先于突发严重困难户():
    facts = exited(D(4000), net_income=D(12000), size=3, compliant_self_paid=D(9000), risks=[大病])
    assert suggest(facts).code == "monitored"


def test_收入低于监测收入标准_刚性支出较大也算风险():
    facts = general(D(4000), net_income=D(12000), size=3, compliant_self_paid=D(9000))
    s = suggest(facts)
    assert s.code == "marginal"
    assert "刚性支出较大" in s.reason


def test_收入低于监测收入标准_收入大幅缩减也算风险():
    s = suggest(exited(D(3000), previous_per_capita=D(9000)))
    assert s.code == "monitored"
    assert "收入大幅缩减" in s.reason


def test_收入低于监测收入标准_家庭纯收入为负且有合规自付支出():
    facts = general(D(-500), net_income=D(-1000), size=2, compliant_self_paid=D(3000))
    assert suggest(facts).code == "marginal"


# ================================================================ missing data, parameters


def test_收入缺失_不作建议():
    assert suggest(exited(None, risks=[大病])) is None
    assert suggest(general(None, risks=[大病])) is None


def test_未知户类型_报错():
    with pytest.raises(ValueError):
        suggest(HouseholdFacts(household_type="城镇户", per_capita=D(1000)))


def test_监测收入标准可配置():
    params = PolicyParams(monitoring_line=D(7300))
    s = suggest(exited(D(6000), risks=[大病]), params)
    assert s.code == "monitored"
    assert "低于监测收入标准 7,300 元" in s.reason
    assert suggest(exited(D(6000), risks=[大病])).code == "enjoying"


def test_接近全省平均的比例和全省收入可配置():
    params = PolicyParams(provincial_income=D(21144), near_average_ratio=D("0.8"))
    s = suggest(exited(D(17000)), params)
    assert s.code == "not_enjoying"
    assert "21,144 元的 80%（16,915.2 元）" in s.reason


def test_默认参数为计划和安徽2025年数值():
    assert PARAMS.monitoring_line == D(5000)
    assert PARAMS.provincial_income == D(23828)
    assert PARAMS.near_average_line == D("21445.2")
    assert suggest_classification(exited(D(4620), risks=[大病])).code == "monitored"  # params optional


def test_由收入项得出家庭情况():
    items = IncomeItems(D(9000), D(3000), D(1000), D(0), D(1000), compliant_self_paid=D(500))
    facts = HouseholdFacts.from_income("脱贫户", items, 3, risks=[大病])
    assert facts.net_income == D("12000.00")
    assert facts.per_capita == D("4000.00")
    assert facts.compliant_self_paid == D(500)
    assert suggest(facts).code == "monitored"


def test_标签集中一处():
    assert LABELS == {
        "not_enjoying": "不享受政策",
        "enjoying": "享受政策",
        "monitored": "脱贫监测户",
        "marginal": "边缘易致贫户",
        "sudden_hardship": "突发严重困难户",
    }


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (D(4620), "4,620"),
        (D("21445.2"), "21,445.2"),
        (D("4999.99"), "4,999.99"),
        (D("-1000"), "-1,000"),
        (D("0.5"), "0.5"),
    ],
)
def test_金额显示千分位(amount, text):
    assert format_yuan(amount) == text


@pytest.mark.parametrize(
    ("ratio", "text"), [(D("0.9"), "90%"), (D("0.625"), "62.5%"), (D(1), "100%"), (D("0.3"), "30%")]
)
def test_比例显示为百分数(ratio, text):
    assert format_percent(ratio) == text


# ================================================================ properties

money = st.decimals(min_value=-10000, max_value=100000, places=2)
risk_lists = st.lists(st.sampled_from([大病, C级危房, "饮水不安全"]), max_size=3)


@given(st.sampled_from(["脱贫户", "一般农户"]), money, risk_lists, st.none() | money, st.booleans())
def test_建议只取规定的类别(household_type, per_capita, risks, previous, no_labour):
    facts = HouseholdFacts(
        household_type=household_type,
        per_capita=per_capita,
        size=2,
        risks=risks,
        previous_per_capita=previous,
        no_labour_capacity=no_labour,
    )
    s = suggest(facts)
    if household_type == "脱贫户":
        assert s is not None
        assert s.code in {"not_enjoying", "enjoying", "monitored", "sudden_hardship"}
    else:
        assert s is None or s.code in {"marginal", "sudden_hardship"}
    if s is not None:
        assert s.label == LABELS[s.code]
        assert s.reason.startswith("年人均纯收入 ")
    if risks and per_capita < PARAMS.monitoring_line:
        assert s.code == ("monitored" if household_type == "脱贫户" else "marginal")
    if per_capita >= PARAMS.monitoring_line:
        assert s is None or s.code not in {"monitored", "marginal"}
    if s is not None and s.code == "not_enjoying":
        assert per_capita >= PARAMS.near_average_line and not risks and not no_labour
