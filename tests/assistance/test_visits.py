"""A contact that updates the registry once (plan M14, issue 18 item 6): what a visit or call learned goes through the
edit services (validation, version check, audit) in the same transaction as the contact record; the household is
re-derived and re-screened at once and the answer shows what changed — all in one request."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import VILLAGE
from django.urls import reverse
from registry_factory import make_household

from fangfan.assistance import visits
from fangfan.assistance.models import ContactRecord
from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent
from fangfan.monitoring.models import EarlyWarning
from fangfan.registry import services
from fangfan.registry.models import Household, Member

pytestmark = pytest.mark.django_db
# The spouse's serious illness is a risk: below the line the household becomes 脱贫监测户 (above it, 享受政策).
MEMBERS = [("赵铁柱", date(1975, 1, 1), "户主"), ("钱秀英", date(1977, 3, 3), "配偶", {"health": "患有大病"})]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def home(users):
    household = make_household(
        f"{VILLAGE}000777",
        VILLAGE,
        members=MEMBERS,
        household_type="exited",
        exited_class="enjoying",
        income={"wage_income": Decimal("20000")},
    )
    return Household.objects.get(pk=household.pk)  # as stored: the versions are taken from stored values


def post_data(home, **changes) -> dict:
    """The contact form as the page posts it: the notes, and the changes part with the values on record (and
    their versions), overridden by ``changes`` (``chg-`` prefixed names)."""
    data = {"on": date.today().isoformat(), "way": "phone", "living": "外出务工回乡，收入减少"}
    data["chg-seen_household"] = services.edit_version(home)
    for name in visits.VISIT_HOUSEHOLD_FIELDS:
        value = getattr(home, name)
        data[f"chg-{name}"] = (
            "" if value is None else ("1" if value is True else "0" if value is False else value)
        )
    for m in home.members.all():
        data[f"chg-m{m.pk}_seen"] = services.edit_version(m)
        data[f"chg-m{m.pk}_health"] = [h for h in m.health.split("、") if h]
        data[f"chg-m{m.pk}_school_status"] = m.school_status
        data[f"chg-m{m.pk}_labour_skill"] = m.labour_skill
        data[f"chg-m{m.pk}_migrant_months"] = "" if m.migrant_months is None else m.migrant_months
    data.update({f"chg-{k}": v for k, v in changes.items()})
    return data


def test_电话了解到工资收入下降_建议分类改变并产生预警_同一请求(client, users, home):
    before = home.get_suggestion_display()
    assert before == "享受政策"
    client.force_login(users["helper"])  # a 联系人: household.contact, no household.edit
    url = reverse("contacts:household_contact", args=[home.pk])
    assert 'data-testid="visit-changes"' in client.get(url).content.decode()
    response = client.post(url, post_data(home, wage_income="3000"))
    assert response.status_code == 200, (response.context["form"].errors, response.context["changes"].errors)
    page = response.content.decode()
    home.refresh_from_db()
    assert home.wage_income == Decimal("3000")
    assert home.get_suggestion_display() == "脱贫监测户", (home.suggestion_reason, home.per_capita_income)
    assert '工资性收入：<span class="text-secondary">20000</span> → <strong>3000</strong>' in page
    assert f"{before}</span> → <strong>脱贫监测户</strong>" in page
    assert "新预警：年人均纯收入低于监测收入标准" in page
    assert EarlyWarning.objects.filter(household=home, rule_code="income_below_line").count() == 1
    # one contact record, one edit through the edit service (audited as the contact), one screening
    assert ContactRecord.objects.filter(household=home).count() == 1
    [event] = AuditEvent.objects.filter(action="household.updated")
    assert event.actor_id == users["helper"].pk and "电话了解到的变化" in event.note
    assert AuditEvent.objects.filter(action="screening.run").count() == 1


def test_收入增加_不产生收入预警_建议不变(users, home):
    outcome = visits.visit_record(
        household=home,
        actor=users["village_clerk"],
        on=date.today(),
        way="visit",
        living="新增公益岗位",
        household_changes={"wage_income": Decimal("30000")},
        seen={"household": services.edit_version(home)},
    )
    assert [(c.label, c.before, c.after) for c in outcome.changes] == [("工资性收入", "20000", "30000")]
    # screened at once: the spouse's illness is found (a rule of its own), no income warning is raised
    assert outcome.new_warnings == ["因病：家庭成员患有大病"]
    assert outcome.suggestion_after == "享受政策"
    assert not EarlyWarning.objects.filter(household=home, rule_code="income_below_line").exists()
    assert "已更新：工资性收入 20000 → 30000" in visits.summary(outcome)


def test_成员健康与务工月数经成员编辑服务更新(users, home):
    head = home.members.get(is_head=True)
    outcome = visits.visit_record(
        household=home,
        actor=users["helper"],
        on=date.today(),
        way="visit",
        living="户主确诊大病",
        member_changes={head.pk: {"health": "患有大病", "migrant_months": 2}},
        seen={head.pk: services.edit_version(head)},
    )
    head.refresh_from_db()
    assert head.health == "患有大病" and head.serious_illness and head.migrant_months == 2
    labels = [c.label for c in outcome.changes]
    assert labels == ["赵铁柱 健康状况", "赵铁柱 务工时间（月）"]
    assert AuditEvent.objects.filter(action="member.updated").count() == 1


def test_未改动的项不写入_没有变化时只保存联系记录(client, users, home):
    client.force_login(users["helper"])
    url = reverse("contacts:household_contact", args=[home.pk])
    response = client.post(url, post_data(home))
    assert response["Location"] == reverse("registry:household_detail", args=[home.pk])
    assert ContactRecord.objects.count() == 1
    assert not AuditEvent.objects.filter(action__in=["household.updated", "member.updated"]).exists()
    assert not AuditEvent.objects.filter(action="screening.run").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"wage_income": "-5"}, "金额不能为负数"),
        ({"wage_income": "三千"}, "请输入金额"),
        ({"wage_income": ""}, "没有此项收入请填 0"),
        ({"m{head}_migrant_months": "13"}, "应为0–12"),
        ({"m{head}_health": ["健康", "患有大病"]}, "不能与其他健康状况同时选择"),
    ],
)
def test_填写有误_中文提示_什么都不写(client, users, home, changes, message):
    head = home.members.get(is_head=True)
    client.force_login(users["helper"])
    changes = {k.format(head=head.pk): v for k, v in changes.items()}
    response = client.post(reverse("contacts:household_contact", args=[home.pk]), post_data(home, **changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ContactRecord.objects.exists()
    home.refresh_from_db()
    assert home.wage_income == Decimal("20000")


def test_服务拒绝时_联系记录也不写入(users, home):
    """A value the edit service refuses (a field a visit may not change) rolls the contact record back too."""
    with pytest.raises(DomainError, match="不能修改"):
        visits.visit_record(
            household=home,
            actor=users["helper"],
            on=date.today(),
            way="visit",
            living="x",
            household_changes={"household_type": "general"},
        )
    head = home.members.get(is_head=True)
    with pytest.raises(DomainError, match="不能修改"):
        visits.visit_record(
            household=home,
            actor=users["helper"],
            on=date.today(),
            way="visit",
            living="x",
            member_changes={head.pk: {"name": "改名"}},
        )
    assert not ContactRecord.objects.exists()


def test_他人已修改_拒绝并显示最新信息_什么都不写(client, users, home):
    client.force_login(users["helper"])
    stale = post_data(home, wage_income="3000")
    services.household_update(
        household=home, actor=users["village_clerk"], data={"business_income": Decimal("500")}
    )
    response = client.post(reverse("contacts:household_contact", args=[home.pk]), stale)
    assert response.status_code == 422
    page = response.content.decode()
    assert "已被他人修改" in page
    assert not ContactRecord.objects.exists()
    home.refresh_from_db()
    assert home.wage_income == Decimal("20000")
    form = response.context["changes"]
    assert form.initial["business_income"] == Decimal("500")  # what is stored now
    # …and for a member
    head = home.members.get(is_head=True)
    stale = post_data(home, **{f"m{head.pk}_labour_skill": "丧失劳动力"})
    Member.objects.filter(pk=head.pk).update(migrant_months=6)
    response = client.post(reverse("contacts:household_contact", args=[home.pk]), stale)
    assert response.status_code == 422 and "已被他人修改" in response.content.decode()
    assert not ContactRecord.objects.exists()


def test_没有变化部分的旧式提交照常保存(client, users, home):
    client.force_login(users["helper"])
    url = reverse("contacts:household_contact", args=[home.pk])
    response = client.post(url, {"on": date.today().isoformat(), "way": "wechat", "living": "一切正常"})
    assert response.status_code == 302 and ContactRecord.objects.count() == 1


def test_无联系权限的角色与辖区外(client, users, home):
    url = reverse("contacts:household_contact", args=[home.pk])
    client.force_login(users["town_leader"])
    assert client.post(url, post_data(home, wage_income="3000")).status_code == 403
    client.force_login(users["neighbour_clerk"])
    assert client.post(url, post_data(home, wage_income="3000")).status_code == 404
    assert Household.objects.get(pk=home.pk).wage_income == Decimal("20000")
