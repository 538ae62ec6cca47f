"""风险消除 conditions: each one failing blocks approve (422 with the conditions), the county reviewer may override
with a reason (audited, the case marked 存疑); the pure functions' evidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from assistance_factory import risk
from django.utils import timezone
from workflows_factory import approve, eliminable, monitored, months_above_line, start, walk

from fangfan.core.models import AuditEvent
from fangfan.workflows import conditions as cond
from fangfan.workflows import services
from fangfan.workflows.services import ConditionsFailed

pytestmark = pytest.mark.django_db


def _names(exc) -> dict:
    return {c.name: c.met for c in exc.value.conditions}


def _breaks(users, how: str):
    hh = eliminable(users)
    model = type(hh).objects.filter(pk=hh.pk)
    if how == "months":
        today = timezone.localdate()
        model.update(identified_month=f"{today:%Y%m}")
    elif how == "income":
        hh.months.order_by("-month").first().delete()  # five months on record
    elif how == "secure":
        model.update(water_safe=False)
    elif how == "risk":
        risk(hh, users["town_station"], risk_type="disaster")
    elif how == "labour":
        model.update(has_labour=False)
    hh.refresh_from_db()
    return hh


@pytest.mark.parametrize(
    ("how", "name"),
    [
        ("months", "监测满6个月"),
        ("income", "人均纯收入稳定高于监测标准（当前及近6个月）"),
        ("secure", "两不愁三保障及饮水安全有保障"),
        ("risk", "风险点均已消除"),
        ("labour", "家庭有劳动能力（无劳动能力户继续兜底监测）"),
    ],
)
def test_each_failing_condition_blocks_approve(users, how, name):
    hh = _breaks(users, how)
    case = start(hh, users, process="eliminate")
    with pytest.raises(ConditionsFailed) as exc:
        approve(case, users)
    met = _names(exc)
    assert met[name] is False
    assert sum(1 for v in met.values() if not v) == 1, met
    case.refresh_from_db()
    assert case.current_step.name == "村级填报" and case.version == 1


def test_no_measure_carried_out_blocks(users):
    hh = monitored(food_clothing_secure=True, housing_grade="A", water_safe=True)
    type(hh).objects.filter(pk=hh.pk).update(education_secure=True, medical_secure=True)
    months_above_line(hh)
    case = start(hh, users, process="eliminate")
    with pytest.raises(ConditionsFailed) as exc:
        approve(case, users)
    assert [c.name for c in exc.value.conditions if not c.met] == ["至少一项帮扶措施已落实"]


def test_the_county_overrides_with_a_reason_and_the_case_is_a_doubt(users):
    hh = eliminable(users)
    case = walk(start(hh, users, process="eliminate"), users, to="镇审查")
    model = type(hh).objects.filter(pk=hh.pk)
    model.update(water_safe=False)  # found at the town's step: the town station cannot override
    with pytest.raises(ConditionsFailed):
        services.case_act(case=case, actor=users["town_station"], action="approve", override_reason="x")
    model.update(water_safe=True)
    case = approve(case, users)
    model.update(water_safe=False)  # found again at the county's step
    with pytest.raises(ConditionsFailed):
        approve(case, users)
    case = services.case_act(
        case=case, actor=users["county_review"], action="approve", override_reason="已改水，待水利部门复核"
    )
    assert case.current_step.name == "省级备案" and case.overridden
    assert case.actions.get(step__name="市县审核").override_reason == "已改水，待水利部门复核"
    assert AuditEvent.objects.filter(action="case.condition_overridden", object_id=str(case.pk)).exists()


def test_conditions_evidence_pure():
    facts = cond.Facts(
        today=date(2026, 7, 1),
        identified_month="202602",
        per_capita_income=Decimal("8000"),
        line=Decimal("5000"),
        months=[("2026-06", Decimal("8000"))] * 4,
    )
    income = cond.income_stably_above_line(facts)
    assert not income.met and "只有 4 个月" in income.evidence
    monitored_ = cond.monitored_long_enough(facts)
    assert not monitored_.met and "5 个月" in monitored_.evidence
    secure = cond.basic_needs_secure(facts)
    assert not secure.met and "未核实" in secure.evidence
