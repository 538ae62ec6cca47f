"""Policy parameters (DOMAIN.md §2: configuration, not code): the nearest ancestor region's value applies, only
the right roles set values inside their jurisdiction, every change is audited, and a changed monitoring line
changes the households' suggestions once they are recomputed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import operator
from django.urls import reverse
from registry_factory import make_household

from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent, Job
from fangfan.policy.selectors import effective_values
from fangfan.policy.services import policy_set, policy_values
from fangfan.registry import policy_changes
from fangfan.registry.models import Household
from fangfan.registry.recompute import JOB_KIND, households_recompute_scope

PROVINCE = "340000000000"
COUNTY = "341523000000"
TOWN = "341523104000"
VILLAGE = "341523104201"
OTHER_VILLAGE = "341523104202"
NEIGHBOUR_TOWN = "341523105000"
NEIGHBOUR_VILLAGE = "341523105201"
URL = reverse("policy:parameter_list")
THIS_YEAR = date.today().year


def test_nearest_ancestor_value_applies(users):
    county, town = users["county_review"], users["town_station"]
    policy_set(actor=county, key="monitoring_line", region_code=COUNTY, year=THIS_YEAR, value="6000")
    policy_set(actor=town, key="monitoring_line", region_code=TOWN, year=THIS_YEAR - 1, value="6500")
    # The town's own value wins in its villages although it is from an earlier year; the neighbour gets the county's.
    assert policy_values(region_code=VILLAGE)["monitoring_line"] == Decimal("6500")
    assert policy_values(region_code=NEIGHBOUR_VILLAGE)["monitoring_line"] == Decimal("6000")
    # Before the county's year, only the town's value exists; a year before that, the default.
    assert policy_values(region_code=NEIGHBOUR_VILLAGE, year=THIS_YEAR - 1)["monitoring_line"] == Decimal(
        "5000"
    )
    # A value for next year does not apply yet.
    policy_set(actor=town, key="monitoring_line", region_code=TOWN, year=THIS_YEAR + 1, value="7000")
    assert policy_values(region_code=VILLAGE)["monitoring_line"] == Decimal("6500")
    assert policy_values(region_code=VILLAGE, year=THIS_YEAR + 1)["monitoring_line"] == Decimal("7000")


def test_page_shows_the_same_values_as_the_service_with_their_source(users):
    policy_set(
        actor=users["county_review"], key="monitoring_line", region_code=COUNTY, year=THIS_YEAR, value="6000"
    )
    rows = {v.spec.key: v for v in effective_values(region_code=VILLAGE)}
    assert {k: v.value for k, v in rows.items()} == policy_values(region_code=VILLAGE)
    assert rows["monitoring_line"].source_label == f"舒城县 {THIS_YEAR}年起"
    assert rows["provincial_income"].source is None and rows["provincial_income"].display == "23828"


def test_edit_permission(users):
    with pytest.raises(DomainError, match="无权"):
        policy_set(
            actor=users["town_leader"], key="monitoring_line", region_code=TOWN, year=THIS_YEAR, value=1
        )
    with pytest.raises(DomainError, match="本辖区"):
        policy_set(
            actor=users["town_station"], key="monitoring_line", region_code=COUNTY, year=THIS_YEAR, value=1
        )
    with pytest.raises(DomainError, match="本辖区"):
        policy_set(
            actor=users["town_station"],
            key="monitoring_line",
            region_code=NEIGHBOUR_TOWN,
            year=THIS_YEAR,
            value=1,
        )


def test_page_access_by_role(client, users):
    for role, status in [
        ("village_clerk", 403),
        ("helper", 403),
        ("town_leader", 200),
        ("town_station", 200),
    ]:
        client.force_login(users[role])
        assert client.get(URL).status_code == status, role
    client.force_login(users["town_leader"])
    body = client.get(URL).content.decode()
    assert "监测收入标准" in body and "系统默认值" in body and 'data-testid="policy-form"' not in body
    assert (
        client.post(
            URL, {"key": "monitoring_line", "region": TOWN, "year": THIS_YEAR, "value": "1"}
        ).status_code
        == 403
    )
    client.force_login(users["town_station"])
    assert 'data-testid="policy-form"' in client.get(URL).content.decode()


def test_editor_cannot_pick_a_region_outside_jurisdiction(client, users):
    client.force_login(users["town_station"])
    response = client.post(
        URL, {"key": "monitoring_line", "region": NEIGHBOUR_TOWN, "year": THIS_YEAR, "value": "6000"}
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not AuditEvent.objects.filter(action="policy.set").exists()


@pytest.fixture
def households(users):
    """A general household just above the plan's line (5 500 per person) with a seriously ill member, in each of
    the town's villages and in the neighbouring town; and one well above any line."""
    ill = ("病人", date(1970, 1, 1), "户主", {"health": "患有大病"})
    return {
        "here": make_household("P-1", VILLAGE, members=[ill], income={"wage_income": Decimal("5500")}),
        "there": make_household("P-2", OTHER_VILLAGE, members=[ill], income={"wage_income": Decimal("5500")}),
        "rich": make_household("P-3", VILLAGE, income={"wage_income": Decimal("90000")}),
        "neighbour": make_household(
            "P-4", NEIGHBOUR_VILLAGE, members=[ill], income={"wage_income": Decimal("5500")}
        ),
    }


def test_changed_monitoring_line_changes_suggestions_after_recompute(users, households):
    assert households["here"].suggestion == ""
    policy_set(
        actor=users["town_station"], key="monitoring_line", region_code=TOWN, year=THIS_YEAR, value="6000"
    )
    assert Household.objects.get(number="P-1").suggestion == ""  # stored figures wait for the recompute
    changed = households_recompute_scope(region_code=TOWN, actor=users["town_station"])
    assert changed == 2
    here = Household.objects.get(number="P-1")
    assert here.suggestion == "marginal"
    assert "低于监测收入标准 6,000 元" in here.suggestion_reason
    assert Household.objects.get(number="P-2").suggestion == "marginal"
    assert Household.objects.get(number="P-4").suggestion == ""  # the neighbouring town keeps 5 000
    assert households_recompute_scope(region_code=TOWN, actor=operator()) == 0  # nothing left to change
    event = AuditEvent.objects.filter(action="households.recomputed").order_by("id").first()
    assert event.after == {"households": 3, "changed": 2} and event.region_code == TOWN


def test_recompute_reads_set_based(users, households, django_assert_max_num_queries):
    for i in range(30):
        make_household(
            f"P-X{i}", VILLAGE, members=[("甲", date(1980, 1, 1), "户主"), ("乙", date(1982, 1, 1), "配偶")]
        )
    policy_set(
        actor=users["town_station"], key="monitoring_line", region_code=TOWN, year=THIS_YEAR, value="6000"
    )
    # count, policy overrides (2), policy values, households, members, bulk update (+ savepoints), next chunk,
    # and the audit event (the operator's recompute is recorded like anyone's; 4 statements on PostgreSQL)
    with django_assert_max_num_queries(16):
        assert households_recompute_scope(region_code=TOWN, chunk=1000, actor=operator()) == 2


def test_policy_page_change_recomputes_in_the_request(client, users, households):
    client.force_login(users["town_station"])
    response = client.post(
        URL,
        {
            "key": "monitoring_line",
            "region": TOWN,
            "year": THIS_YEAR,
            "value": "6000",
            "note": "县扶贫办文件",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "已保存政策参数" in body and "其中 2 户" in body
    assert Household.objects.get(number="P-1").suggestion == "marginal"
    event = AuditEvent.objects.get(action="policy.set")
    assert event.after == {"value": "6000.0000", "note": "县扶贫办文件"} or event.after["value"].startswith(
        "6000"
    )
    assert "县扶贫办文件" in body and "6000" in body  # history and overrides on the page
    assert 'data-testid="source-monitoring_line">桃溪镇' in body


def test_large_region_recomputes_as_a_background_job(
    client, users, households, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(policy_changes, "SYNC_RECOMPUTE_LIMIT", 1)
    client.force_login(users["county_review"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, {"key": "monitoring_line", "region": COUNTY, "year": THIS_YEAR, "value": "6000"}
        )
    assert response.status_code == 302
    job = Job.objects.get(kind=JOB_KIND)
    assert job.state == Job.State.DONE and job.result["changed"] == 3 and job.region_code == COUNTY
    assert Household.objects.get(number="P-4").suggestion == "marginal"


def test_value_for_a_future_year_does_not_recompute(client, users, households):
    client.force_login(users["town_station"])
    response = client.post(
        URL, {"key": "monitoring_line", "region": TOWN, "year": THIS_YEAR + 1, "value": "6000"}, follow=True
    )
    assert "当前测算结果暂不变化" in response.content.decode()
    assert Household.objects.get(number="P-1").suggestion == ""


def test_bad_value_is_a_chinese_form_error(client, users):
    client.force_login(users["town_station"])
    response = client.post(URL, {"key": "monitoring_line", "region": TOWN, "year": THIS_YEAR, "value": "-5"})
    assert "数值不能为负数" in response.content.decode()
