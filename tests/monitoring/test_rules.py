"""Each screening rule, named in the national wording: a household that triggers it and a close one that does not.

Department rules are fed the way departments feed them (``department_import`` of a CSV file, which screens the
batch); registry rules by ``screening_run``. Thresholds are the catalogue defaults unless a test sets them
(监测收入标准 5000, 医保 6000 / 10000, 刚性支出 50%, 收入下降 30%, 义务教育 6–16 岁).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import OTHER_VILLAGE, VILLAGE, operator
from django.utils import timezone
from monitoring.screening_support import id_of, import_rows, rule_codes, warnings
from registry_factory import make_household

from fangfan.monitoring.models import EarlyWarning, Rule
from fangfan.monitoring.rules import RULES, previous_month, yuan_text
from fangfan.monitoring.screening import screening_run
from fangfan.registry.models import HouseholdMonth

pytestmark = pytest.mark.django_db

RICH = {"wage_income": Decimal("60000")}


def school_birth(age: int) -> date:
    """A birth date giving ``age`` on 1 September of the current school year."""
    today = date.today()
    year = today.year if today.month >= 9 else today.year - 1
    return date(year - age, 3, 1)


def monitored(number: str, village: str = VILLAGE, **kwargs):
    return make_household(
        number,
        village,
        household_type="exited",
        exited_class="monitored",
        monitoring_type="unstable",
        monitoring_state="monitoring",
        income=kwargs.pop("income", RICH),
        **kwargs,
    )


def general(number: str, village: str = VILLAGE, **kwargs):
    return make_household(number, village, income=kwargs.pop("income", RICH), **kwargs)


def only(household, rule: str) -> EarlyWarning:
    found = warnings(household, rule)
    assert len(found) == 1, f"{household.number} 应有 1 条 {rule} 预警，实际 {len(found)} 条"
    return found[0]


# --- income and sudden hardship ----------------------------------------------------------------------------------


def test_收入低于监测标准_年人均纯收入4800元预警_5000元不预警(regions):
    low = general(
        "H1",
        income={"wage_income": Decimal("9600")},
        members=[("甲", date(1970, 1, 1), "户主"), ("乙", date(1972, 1, 1), "配偶")],
    )
    at_line = general("H2", income={"wage_income": Decimal("5000")})
    run = screening_run(actor=operator())
    warning = only(low, "income_below_line")
    assert warning.risk_type == "income" and warning.kind == "risk"
    assert warning.channel == "department" and warning.source == ""
    assert warning.explanation == "年人均纯收入 4800 元（家庭人口 2 人），低于监测收入标准 5000 元"
    assert warning.dedupe_key == f"{date.today().year}:4800"
    assert "income_below_line" not in rule_codes(at_line)
    assert run.per_rule["income_below_line"]["new"] == 1


def test_收入低于监测标准_监测中的对象不再重复预警(regions):
    household = monitored("H1", income={"wage_income": Decimal("3000")})
    screening_run(actor=operator())
    assert "income_below_line" not in rule_codes(household)


def test_突发严重困难_合规自付支出达家庭纯收入百分之五十预警_百分之四十不预警(regions):
    heavy = general("H1", income={"wage_income": Decimal("20000"), "compliant_self_paid": Decimal("10000")})
    light = general("H2", income={"wage_income": Decimal("20000"), "compliant_self_paid": Decimal("8000")})
    screening_run(actor=operator())
    warning = only(heavy, "sudden_heavy_expense")
    assert warning.risk_type == "sudden"
    assert warning.explanation == (
        "合规自付支出 10000 元，家庭纯收入 20000 元，自付占比 50%，达到 50% 以上（刚性支出较大）"
    )
    assert "sudden_heavy_expense" not in rule_codes(light)


def test_突发严重困难_年人均纯收入较上月下降三成预警_下降两成半不预警(regions):
    """突发严重困难户: 收入大幅缩减 — against the household's row of the previous month in the monthly history."""
    fell = general("H1", income={"wage_income": Decimal("14000")})
    dipped = general("H2", income={"wage_income": Decimal("15000")})
    last_month = previous_month(timezone.localdate())
    older = previous_month(last_month)
    for household in (fell, dipped):
        month_row(household, older, Decimal("10000"))
        month_row(household, last_month, Decimal("20000"))
    screening_run(actor=operator())
    warning = only(fell, "sudden_income_drop")
    assert warning.explanation == (
        f"年人均纯收入由 {last_month:%Y-%m} 月的 20000 元降至 14000 元，下降 30%，达到 30% 以上（收入大幅缩减）"
    )
    assert "sudden_income_drop" not in rule_codes(dipped)


def test_突发严重困难_收入下降只与上月比较_更早的高收入不预警(regions):
    household = general("H1", income={"wage_income": Decimal("14000")})
    last_month = previous_month(timezone.localdate())
    month_row(household, previous_month(last_month), Decimal("20000"))
    month_row(household, last_month, Decimal("14000"))
    screening_run(actor=operator())
    assert "sudden_income_drop" not in rule_codes(household)


def month_row(household, month, per_capita):
    HouseholdMonth.objects.create(
        household=household, month=month, region_code=household.region_id, household_type=household.household_type,
        size=1, net_income=per_capita, per_capita_income=per_capita, taken_at=timezone.now(),
    )  # fmt: skip


# --- 因病 ---------------------------------------------------------------------------------------------------------


def test_因病_家庭成员患有大病预警_长期慢性病不预警(regions):
    ill = general("H1", members=[("王大力", date(1955, 1, 2), "户主", {"health": "患有大病"})])
    chronic = general("H2", members=[("李四", date(1956, 1, 2), "户主", {"health": "长期慢性病"})])
    screening_run(actor=operator())
    warning = only(ill, "illness_serious")
    assert warning.risk_type == "illness"
    assert warning.explanation == "家庭成员 王大力（1955年生） 患有大病"
    assert "illness_serious" not in rule_codes(chronic)


def test_因病_已减少的成员患有大病不预警(regions):
    household = general("H1", members=[("户主", date(1960, 1, 1), "户主"),
                                       ("老人", date(1930, 1, 1), "之父", {"health": "患有大病",
                                                                         "status": "removed"})])  # fmt: skip
    screening_run(actor=operator())
    assert "illness_serious" not in rule_codes(household)


def test_因病_医保个人自付8000元_脱贫监测户预警_一般农户不预警(regions, tmp_path):
    poor = monitored("H1")
    ordinary = general("H2")
    summary = import_rows(
        tmp_path,
        "medical",
        [
            {"证件号码": id_of(poor), "姓名": "张三", "结算日期": "2026-03-05", "医疗总费用": "32000",
             "个人自付金额": "8000"},
            {"证件号码": id_of(ordinary), "姓名": "张三", "结算日期": "2026-03-06", "医疗总费用": "32000",
             "个人自付金额": "8000"},
        ],
    )  # fmt: skip
    assert summary.matched == 2 and summary.warnings == 1
    warning = only(poor, "medical_self_paid")
    assert warning.source == "medical" and warning.risk_type == "illness"
    assert warning.record is not None and warning.record.household_id == poor.pk
    assert (
        warning.explanation
        == "医保结算：张三（1970年生） 2026-03-05 个人自付 8000 元，超过监测对象/脱贫户预警线 6000 元"
    )
    assert warning.evidence["amount"] == 8000 and warning.evidence["threshold"] == 6000
    assert "medical_self_paid" not in rule_codes(ordinary)


def test_因病_医保个人自付10500元_一般农户预警(regions, tmp_path):
    ordinary = general("H1")
    import_rows(
        tmp_path,
        "medical",
        [{"证件号码": id_of(ordinary), "结算日期": "2026-03-05", "个人自付金额": "10500.5"}],
    )
    warning = only(ordinary, "medical_self_paid")
    assert "个人自付 10500.5 元，超过一般农户预警线 10000 元" in warning.explanation


def test_因病_同一户多条医保记录只产生一条预警_引用自付最多的一条(regions, tmp_path):
    poor = monitored("H1", members=[("甲", date(1970, 1, 1), "户主"), ("乙", date(1971, 1, 1), "配偶")])
    head, spouse = poor.members.order_by("id")
    import_rows(
        tmp_path,
        "medical",
        [
            {"证件号码": head.id_number, "结算日期": "2026-01-05", "个人自付金额": "7000"},
            {"证件号码": spouse.id_number, "结算日期": "2026-02-05", "个人自付金额": "9000"},
        ],
    )
    warning = only(poor, "medical_self_paid")
    assert "9000 元" in warning.explanation and warning.record.member_id == spouse.pk


def test_未参加基本医疗保险预警_参加职工医保不预警(regions):
    uninsured = general("H1", members=[("甲", date(1980, 1, 1), "户主", {"resident_medical": False})])
    employee = general(
        "H2",
        members=[("乙", date(1980, 1, 1), "户主", {"resident_medical": False, "employee_medical": True})],
    )
    screening_run(actor=operator())
    assert only(uninsured, "medical_uninsured").explanation.startswith(
        "家庭成员 甲（1980年生） 未参加基本医疗保险"
    )
    assert "medical_uninsured" not in rule_codes(employee)


# --- 因残 ---------------------------------------------------------------------------------------------------------


def test_因残_残联新办残疾人证预警_档案已登记同等级不预警(regions, tmp_path):
    new = general("H1")
    known = general("H2", members=[("乙", date(1975, 1, 1), "户主", {"health": "残疾", "disability_grade": "二级",
                                                                     "disability_category": "肢体"})])  # fmt: skip
    import_rows(
        tmp_path,
        "disability",
        [
            {"证件号码": id_of(new), "残疾类别": "肢体", "残疾等级": "二级", "发证日期": "2026-02-01"},
            {"证件号码": id_of(known), "残疾类别": "肢体", "残疾等级": "2", "发证日期": "2026-02-01"},
        ],
    )
    warning = only(new, "disability_certificate")
    assert warning.risk_type == "disability" and warning.source == "disability"
    assert "（肢体二级）" in warning.explanation
    assert "disability_certificate" not in rule_codes(known)


# --- 因学 ---------------------------------------------------------------------------------------------------------


def test_因学_义务教育阶段成员非在校生且无原因预警_登记送教上门不预警(regions):
    child = ("小明", school_birth(10), "之子", {"school_status": "非在校生"})
    excused = (
        "小红",
        school_birth(10),
        "之女",
        {"school_status": "非在校生", "not_in_school_reason": "送教上门"},
    )
    out = general("H1", members=[("父", date(1980, 1, 1), "户主"), child])
    ok = general("H2", members=[("父", date(1981, 1, 1), "户主"), excused])
    screening_run(actor=operator())
    warning = only(out, "schooling_out_of_school")
    assert warning.risk_type == "schooling"
    assert "在校生状况为“非在校生”" in warning.explanation
    assert "schooling_out_of_school" not in rule_codes(ok)


def test_因学_年满16周岁不在义务教育年龄不预警(regions):
    older = general("H1", members=[("父", date(1980, 1, 1), "户主"),
                                   ("大明", school_birth(16), "之子", {"school_status": "非在校生"})])  # fmt: skip
    screening_run(actor=operator())
    assert "schooling_out_of_school" not in rule_codes(older)


def test_因学_教育部门辍学记录预警_在读不预警(regions, tmp_path):
    drop = general("H1", members=[("父", date(1980, 1, 1), "户主"), ("小明", school_birth(13), "之子")])
    study = general("H2", members=[("父", date(1980, 1, 1), "户主"), ("小亮", school_birth(13), "之子")])
    import_rows(
        tmp_path,
        "education",
        [
            {"证件号码": id_of(drop, "之子"), "学段": "七至九年级", "状态": "辍学", "日期": "2026-03-01"},
            {"证件号码": id_of(study, "之子"), "学段": "七至九年级", "状态": "在读", "日期": "2026-03-01"},
        ],
    )
    assert only(drop, "education_dropout").explanation.endswith("2026-03-01 辍学（七至九年级）")
    assert "education_dropout" not in rule_codes(study)


def test_疑点_义务教育阶段成员既无在校生状况也无原因_为疑点而非风险(regions):
    blank = general("H1", members=[("父", date(1980, 1, 1), "户主"), ("小明", school_birth(8), "之子")])
    filled = general("H2", members=[("父", date(1980, 1, 1), "户主"),
                                    ("小亮", school_birth(8), "之子", {"school_status": "小学"})])  # fmt: skip
    screening_run(actor=operator())
    warning = only(blank, "doubt_school_status_missing")
    assert warning.kind == "doubt" and warning.risk_type == "doubt"
    assert "schooling_out_of_school" not in rule_codes(blank)
    assert rule_codes(filled) == set()


# --- 因安全住房 / 因安全饮水 ------------------------------------------------------------------------------------


def test_因安全住房_住房C级预警_B级不预警(regions):
    unsafe = general("H1", housing_grade="C")
    safe = general("H2", housing_grade="B")
    screening_run(actor=operator())
    assert only(unsafe, "housing_unsafe").explanation == "住房安全等级为 C 级（危房）"
    assert "housing_unsafe" not in rule_codes(safe)


def test_因安全住房_住建鉴定D级预警_档案已登记D级不重复预警(regions, tmp_path):
    new = general("H1", housing_grade="B")
    known = general("H2", housing_grade="D")
    import_rows(
        tmp_path,
        "housing",
        [
            {"证件号码": id_of(new), "鉴定等级": "D", "鉴定日期": "2026-04-01"},
            {"证件号码": id_of(known), "鉴定等级": "D级", "鉴定日期": "2026-04-01"},
        ],
    )
    assert only(new, "housing_appraisal").risk_type == "housing"
    assert "housing_appraisal" not in rule_codes(known)


def test_因安全饮水_档案饮水不安全预警_安全不预警(regions):
    unsafe = general("H1", water_safe=False)
    unknown = general("H2", water_safe=None)
    screening_run(actor=operator())
    assert only(unsafe, "water_unsafe").risk_type == "water"
    assert "water_unsafe" not in rule_codes(unknown)


def test_因安全饮水_水利核查否预警_是不预警(regions, tmp_path):
    bad = general("H1", water_safe=True)
    good = general("H2", water_safe=True)
    import_rows(
        tmp_path,
        "water",
        [
            {"证件号码": id_of(bad), "饮水安全": "否", "原因": "水量不足", "日期": "2026-05-01"},
            {"证件号码": id_of(good), "饮水安全": "是", "原因": "", "日期": "2026-05-01"},
        ],
    )
    assert only(bad, "water_department").explanation.endswith("：水量不足")
    assert "water_department" not in rule_codes(good)


# --- 因灾 ---------------------------------------------------------------------------------------------------------


def test_因灾_应急受灾人员预警_未匹配的受灾人员不产生预警但保留(regions, tmp_path):
    victim = general("H1")
    summary = import_rows(
        tmp_path,
        "disaster",
        [
            {
                "证件号码": id_of(victim),
                "灾害类型": "洪涝灾害",
                "受灾日期": "2026-06-20",
                "损失金额": "12000",
            },
            {"证件号码": "11010519491231002X", "灾害类型": "洪涝", "受灾日期": "2026-06-20"},
        ],
    )
    warning = only(victim, "disaster_victim")
    assert warning.explanation.endswith("2026-06-20 遭受洪涝灾害，损失 12000 元")
    assert summary.unmatched == 1 and EarlyWarning.objects.count() == 1


# --- 缺劳动力 / 家庭变故 -----------------------------------------------------------------------------------------


def test_家庭变故_有劳动能力的成员死亡预警_无劳动力成员死亡不预警(regions, tmp_path):
    lost = general("H1", members=[("户主", date(1975, 1, 1), "户主", {"labour_skill": "普通劳动力"}),
                                  ("妻", date(1976, 1, 1), "配偶", {"labour_skill": "普通劳动力"})])  # fmt: skip
    elder = general("H2", members=[("户主", date(1975, 1, 1), "户主", {"labour_skill": "普通劳动力"}),
                                   ("老父", date(1935, 1, 1), "之父", {"labour_skill": "无劳动力"})])  # fmt: skip
    import_rows(
        tmp_path,
        "registry",
        [
            {"证件号码": id_of(lost, "配偶"), "事件": "死亡", "日期": "2026-02-02"},
            {"证件号码": id_of(elder, "之父"), "事件": "死亡", "日期": "2026-02-02"},
        ],
    )
    warning = only(lost, "death_of_labour")
    assert warning.risk_type == "family" and warning.source == "registry"
    assert warning.explanation.endswith("于 2026-02-02 死亡，生前为普通劳动力")
    assert "death_of_labour" not in rule_codes(elder)


def test_缺劳动力_家庭无劳动能力且无兜底预警_有弱劳动力或已享受特困供养不预警(regions):
    none = general("H1", members=[("甲", date(1940, 1, 1), "户主", {"labour_skill": "丧失劳动力"})])
    weak = general("H2", members=[("乙", date(1950, 1, 1), "户主", {"labour_skill": "弱劳动力或半劳动力"})])
    covered = general(
        "H3", members=[("丙", date(1940, 1, 1), "户主", {"labour_skill": "无劳动力", "tekun": True})]
    )
    screening_run(actor=operator())
    assert only(none, "no_labour").risk_type == "labour"
    assert "no_labour" not in rule_codes(weak) | rule_codes(covered)


# --- 因务工就业不稳 / 民政 ---------------------------------------------------------------------------------------


def test_因务工就业不稳_失业或返乡预警_就业不预警(regions, tmp_path):
    back = general("H1")
    work = general("H2")
    import_rows(
        tmp_path,
        "employment",
        [
            {"证件号码": id_of(back), "状态": "返乡", "日期": "2026-01-15"},
            {"证件号码": id_of(work), "状态": "就业", "日期": "2026-01-15"},
        ],
    )
    assert only(back, "employment_unstable").risk_type == "employment"
    assert "employment_unstable" not in rule_codes(work)


def test_民政新增低保对象预警_档案已享受低保或在保不预警(regions, tmp_path):
    new = general("H1")
    known = general("H2", members=[("乙", date(1960, 1, 1), "户主", {"dibao": True})])
    staying = general("H3")
    import_rows(
        tmp_path,
        "civil",
        [
            {"证件号码": id_of(new), "救助类型": "低保", "状态": "新增", "日期": "2026-03-01"},
            {"证件号码": id_of(known), "救助类型": "低保", "状态": "新增", "日期": "2026-03-01"},
            {"证件号码": id_of(staying), "救助类型": "低保", "状态": "在保", "日期": "2026-03-01"},
        ],
    )
    assert "新纳入低保" in only(new, "civil_new_assistance").explanation
    assert "civil_new_assistance" not in rule_codes(known) | rule_codes(staying)


# --- doubts -------------------------------------------------------------------------------------------------------


def test_疑点_比对发现车辆信息_为待核实疑点而非风险(regions, tmp_path):
    car = general("H1")
    import_rows(
        tmp_path,
        "exclusion",
        [{"证件号码": id_of(car), "姓名": "张三", "比对类型": "车辆", "说明": "小型轿车1辆（2024年登记）"}],
    )
    warning = only(car, "doubt_exclusion")
    assert warning.kind == "doubt" and warning.risk_type == "doubt" and warning.source == "exclusion"
    assert warning.explanation == "比对发现张三（1970年生）有车辆信息（小型轿车1辆（2024年登记）），请核实"


def test_疑点_识别不满6个月即消除风险_满6个月不是疑点(regions):
    soon = general("H1", monitoring_type="marginal", monitoring_state="eliminated")
    soon.identified_month, soon.eliminated_month = "202503", "202507"
    soon.save()
    later = general("H2", monitoring_type="marginal", monitoring_state="eliminated")
    later.identified_month, later.eliminated_month = "202503", "202509"
    later.save()
    screening_run(actor=operator())
    assert "仅间隔 4 个月" in only(soon, "doubt_eliminated_too_soon").explanation
    assert "doubt_eliminated_too_soon" not in rule_codes(later)


def test_疑点_风险消除时收入仍低于监测标准(regions):
    below = general("H1", monitoring_type="marginal", monitoring_state="eliminated",
                    income={"wage_income": Decimal("4000")})  # fmt: skip
    above = general("H2", monitoring_type="marginal", monitoring_state="eliminated")
    screening_run(actor=operator())
    assert only(below, "doubt_eliminated_below_line").kind == "doubt"
    assert "doubt_eliminated_below_line" not in rule_codes(above)


# --- the catalogue itself -----------------------------------------------------------------------------------------


def test_规则目录同步到规则表_保留启用状态(regions):
    screening_run(actor=operator())
    assert set(Rule.objects.values_list("code", flat=True)) == set(RULES)
    Rule.objects.filter(code="housing_unsafe").update(enabled=False, name="旧名称")
    household = general("H1", housing_grade="D", village=OTHER_VILLAGE)
    run = screening_run(actor=operator())
    rule = Rule.objects.get(code="housing_unsafe")
    assert rule.enabled is False and rule.name == RULES["housing_unsafe"].name
    assert "housing_unsafe" not in run.per_rule and "housing_unsafe" not in rule_codes(household)


def test_每条规则都有风险类型_模板与参数(regions):
    from fangfan.policy.parameters import PARAMETERS

    for spec in RULES.values():
        assert spec.template and len(spec.template) <= 300
        assert set(spec.parameters) <= set(PARAMETERS)
        assert spec.kind in ("risk", "doubt")
        assert (spec.kind == "doubt") == (spec.risk_type == "doubt")


def test_金额文字与数据库一致():
    assert [yuan_text(Decimal(v)) for v in ("8000", "8000.50", "8000.05", "0")] == [
        "8000",
        "8000.5",
        "8000.05",
        "0",
    ]
