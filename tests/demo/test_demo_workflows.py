"""The demo's approval cases (issue 19): every acting role's 我的待办 has work at first login — the province's 省级备案
too, though no demo household meets every elimination condition by itself."""

from __future__ import annotations

import pytest
from assistance_factory import risk
from workflows_factory import monitored, months_above_line

from fangfan.accounts.models import User
from fangfan.demo.accounts import demo_users_create
from fangfan.demo.workflows import demo_workflows
from fangfan.monitoring.models import RiskPoint
from fangfan.registry.models import Household
from fangfan.workflows.models import Case
from fangfan.workflows.selectors import waiting_for

pytestmark = pytest.mark.django_db

BOLIN = "341523104204"  # a 桃溪镇 village the demo has no clerk account for


def _nearly_eligible(village: str) -> Household:
    """A 脱贫不稳定户 meeting every condition but its open risk point, with no measure carried out yet."""
    station = User.objects.get(username="taoxi_station")
    hh = monitored(village, food_clothing_secure=True, housing_grade="A", water_safe=True)
    risk(hh, station)
    months_above_line(hh)
    Household.objects.filter(pk=hh.pk).update(education_secure=True, medical_secure=True)
    return hh


def test_the_province_has_a_case_at_its_step(regions):
    demo_users_create()
    first, second = _nearly_eligible(BOLIN), _nearly_eligible(BOLIN)

    assert demo_workflows(seed=1)

    at_province = Case.objects.get(household=first)
    assert (at_province.process.code, at_province.current_step.name) == ("eliminate_unstable", "省级备案")
    assert Case.objects.get(household=second).current_step.name == "市县审核"
    # Made eligible as a town station would: the risk point closed after a measure was carried out.
    assert not RiskPoint.objects.filter(household=first, state__in=RiskPoint.UNRESOLVED).exists()
    assert first.measures.filter(state="done").exists()
    # The village's step was the village's: a clerk of 柏林村 that nobody can log in to.
    clerk = at_province.actions.order_by("at", "id").first().actor
    assert (clerk.role, clerk.region_id, clerk.has_usable_password()) == ("village_clerk", BOLIN, False)
    province = User.objects.get(username="province_record")
    assert list(waiting_for(province)) == [at_province]
