"""帮扶责任人 / 联系人 (plan 四(一)3: every exited household always has a responsible person, replaced when they
change job or help poorly; 四(二)2: village cadres and work teams are the contacts of marginal households). One at a
time per household, the history kept, every change audited, nobody named outside their place."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, TOWN, VILLAGE
from django.db import IntegrityError, transaction
from django.urls import reverse
from registry_factory import make_household

from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent
from fangfan.registry import selectors, services
from fangfan.registry.filters import household_list
from fangfan.registry.models import HelperAssignment

pytestmark = pytest.mark.django_db
DAY = date(2025, 6, 1)
LATER = date(2026, 3, 1)
MEMBERS = [("赵铁柱", date(1958, 1, 1), "户主")]


@pytest.fixture
def homes(users):
    return {
        "exited": make_household("H-B-001", VILLAGE, members=MEMBERS, household_type="exited"),
        "marginal": make_household(
            "H-B-002", VILLAGE, members=MEMBERS, monitoring_type="marginal", monitoring_state="monitoring"
        ),
        "eliminated": make_household(
            "H-B-003", VILLAGE, members=MEMBERS, monitoring_type="marginal", monitoring_state="eliminated"
        ),
        "general": make_household("H-B-004", VILLAGE, members=MEMBERS),
        "other_village": make_household("H-B-005", OTHER_VILLAGE, members=MEMBERS, household_type="exited"),
        "neighbour": make_household("H-B-006", NEIGHBOUR_VILLAGE, members=MEMBERS, household_type="exited"),
    }


@pytest.fixture
def helpers(users, make_user):
    return {
        "village": users["helper"],
        "second": make_user("helper", VILLAGE, username="helper-2", full_name="李四"),
        "town": make_user("helper", TOWN, username="helper-town", full_name="王五"),
        "other_village": make_user("helper", OTHER_VILLAGE, username="helper-xinhe"),
    }


def assign(households, helper, actor, on=DAY, reason=""):
    return services.helpers_assign(households=households, helper=helper, actor=actor, on=on, reason=reason)


def listed(user, **params) -> set[str]:
    qs, _cleaned = household_list(user, {k: str(v) for k, v in params.items()})
    return set(qs.values_list("number", flat=True))


# --- the service --------------------------------------------------------------------------------------------------


def test_脱贫户指定帮扶责任人_记入审计日志(homes, helpers, users):
    assert assign([homes["exited"]], helpers["village"], users["village_clerk"]) == 1
    [a] = HelperAssignment.objects.filter(household=homes["exited"])
    assert (a.helper, a.started_on, a.ended_on, a.assigned_by) == (
        helpers["village"],
        DAY,
        None,
        users["village_clerk"],
    )
    [event] = AuditEvent.objects.filter(action="household.helper_assigned")
    assert event.object_id == str(homes["exited"].pk) and event.before is None
    assert event.after == {"helper": "测试用户（helper-341523104201）", "date": "2025-06-01"}


def test_更换帮扶责任人须说明原因_原任记录保留(homes, helpers, users):
    clerk = users["village_clerk"]
    assign([homes["exited"]], helpers["village"], clerk)
    with pytest.raises(DomainError, match="更换须选择原因"):
        assign([homes["exited"]], helpers["second"], clerk, on=LATER)
    assign([homes["exited"]], helpers["second"], clerk, on=LATER, reason="job_change")
    history = selectors.helper_assignments(homes["exited"])
    assert [(a.helper, a.started_on, a.ended_on, a.end_reason) for a in history] == [
        (helpers["second"], LATER, None, ""),
        (helpers["village"], DAY, LATER, "job_change"),
    ]
    event = AuditEvent.objects.filter(action="household.helper_assigned").latest("id")
    assert event.before == {"helper": "测试用户（helper-341523104201）"} and event.note == "岗位变动"


def test_同一人再次指定不作改动(homes, helpers, users):
    assign([homes["exited"]], helpers["village"], users["village_clerk"])
    assert assign([homes["exited"]], helpers["village"], users["village_clerk"], on=LATER) == 0
    assert HelperAssignment.objects.count() == 1
    assert AuditEvent.objects.filter(action="household.helper_assigned").count() == 1


def test_镇级帮扶责任人可负责本镇各村_他村的不能(homes, helpers, users):
    station = users["town_station"]
    assert assign([homes["exited"], homes["other_village"]], helpers["town"], station) == 2
    with pytest.raises(DomainError, match="负责的区划不含农户 H-B-001"):
        assign([homes["exited"]], helpers["other_village"], station, on=LATER, reason="rebalance")


@pytest.mark.parametrize("who", ["town_station", "village_clerk"])
def test_只能指定在用的帮扶责任人账号(homes, helpers, users, who):
    with pytest.raises(DomainError, match="只能指定在用的"):
        assign([homes["exited"]], users[who], users["village_clerk"])
    helpers["village"].is_active = False
    helpers["village"].save()
    with pytest.raises(DomainError, match="只能指定在用的"):
        assign([homes["exited"]], helpers["village"], users["village_clerk"])


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        ("helper", "无权"),
        ("town_leader", "无权"),
        ("county_review", "无权"),
        ("neighbour_station", "管辖范围"),
    ],
)
def test_无权或辖区外不能指定(homes, helpers, users, actor, message):
    with pytest.raises(DomainError, match=message):
        assign([homes["exited"]], helpers["village"], users[actor])
    assert not HelperAssignment.objects.exists()


def test_批量指定全部成功或全部不指定(homes, helpers, users):
    with pytest.raises(DomainError, match="管辖范围"):
        assign(
            [homes["exited"], homes["marginal"], homes["neighbour"]], helpers["town"], users["town_station"]
        )
    assert (
        not HelperAssignment.objects.exists()
        and not AuditEvent.objects.filter(action="household.helper_assigned").exists()
    )
    assign([homes["exited"]], helpers["village"], users["village_clerk"])
    # one already has someone: replacing needs a reason, and then nothing at all is written
    with pytest.raises(DomainError, match="H-B-001 已有帮扶责任人"):
        assign([homes["marginal"], homes["exited"]], helpers["second"], users["village_clerk"], on=LATER)
    assert HelperAssignment.objects.count() == 1


def test_日期不能晚于今天_更换不能早于现任起始日(homes, helpers, users):
    clerk = users["village_clerk"]
    with pytest.raises(DomainError, match="不能晚于今天"):
        assign([homes["exited"]], helpers["village"], clerk, on=date.today() + timedelta(days=1))
    assign([homes["exited"]], helpers["village"], clerk, on=LATER)
    with pytest.raises(DomainError, match="不能早于该日"):
        assign([homes["exited"]], helpers["second"], clerk, on=DAY, reason="poor_help")
    with pytest.raises(DomainError, match="不能早于该日"):
        services.helper_release(household=homes["exited"], actor=clerk, on=DAY, reason="not_needed")


def test_解除帮扶责任人_须选原因_脱贫户随即显示未落实(homes, helpers, users):
    clerk = users["village_clerk"]
    with pytest.raises(DomainError, match="目前没有帮扶责任人"):
        services.helper_release(household=homes["exited"], actor=clerk, on=DAY, reason="not_needed")
    assign([homes["exited"]], helpers["village"], clerk)
    with pytest.raises(DomainError, match="请选择解除原因"):
        services.helper_release(household=homes["exited"], actor=clerk, on=LATER, reason="")
    services.helper_release(household=homes["exited"], actor=clerk, on=LATER, reason="not_needed")
    assert "H-B-001" in listed(clerk, no_helper=1)
    event = AuditEvent.objects.get(action="household.helper_released")
    assert event.note == "不再需要帮扶" and event.before == {"helper": "测试用户（helper-341523104201）"}


def test_每户同时只有一名现任帮扶责任人_数据库约束(homes, helpers):
    HelperAssignment.objects.create(household=homes["exited"], helper=helpers["village"], started_on=DAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        HelperAssignment.objects.create(household=homes["exited"], helper=helpers["second"], started_on=LATER)
    HelperAssignment.objects.create(  # a past one beside the current one is history
        household=homes["exited"], helper=helpers["second"], started_on=DAY, ended_on=LATER
    )


def test_合户注销的农户帮扶关系随之终止_已注销的不能指定(homes, helpers, users):
    clerk = users["village_clerk"]
    assign([homes["exited"]], helpers["village"], clerk)
    services.household_merge(source=homes["exited"], target=homes["general"], actor=clerk, on=LATER)
    [a] = HelperAssignment.objects.filter(household=homes["exited"])
    assert (a.ended_on, a.end_reason) == (LATER, "cancelled")
    homes["exited"].refresh_from_db()
    with pytest.raises(DomainError, match="已注销"):
        assign([homes["exited"]], helpers["second"], clerk, on=LATER, reason="rebalance")


def test_最后一名成员减少_农户注销_帮扶关系终止(homes, helpers, users):
    clerk = users["village_clerk"]
    assign([homes["marginal"]], helpers["village"], clerk, on=LATER)
    head = homes["marginal"].members.get()
    services.member_remove(
        member=head, actor=clerk, reason="死亡", on=DAY
    )  # registered late: before the start
    a = HelperAssignment.objects.get(household=homes["marginal"])
    assert (a.ended_on, a.end_reason) == (LATER, "cancelled")  # never ends before it began


# --- the lists and counts ----------------------------------------------------------------------------------------


def test_须落实帮扶责任人的是脱贫户和风险未消除的监测对象(homes, helpers, users):
    clerk = users["village_clerk"]
    assert listed(clerk, needs_helper=1) == {"H-B-001", "H-B-002"}
    assert listed(clerk, no_helper=1) == {"H-B-001", "H-B-002"}
    assign([homes["exited"]], helpers["village"], clerk)
    assign([homes["general"]], helpers["second"], clerk)  # a general household may have a contact too
    assert listed(clerk, no_helper=1) == {"H-B-002"}
    assert listed(clerk, helper=helpers["village"].pk) == {"H-B-001"}
    assert listed(clerk, helper=helpers["second"].pk) == {"H-B-004"}
    helpers["village"].is_active = False  # the account disabled: the household has nobody in office
    helpers["village"].save()
    assert listed(clerk, no_helper=1) == {"H-B-001", "H-B-002"}
    assert selectors.helper_coverage(clerk) == {"needing": 2, "without": 2}
    assert listed(users["town_station"], no_helper=1) == {"H-B-001", "H-B-002", "H-B-005"}
    assert listed(users["neighbour_station"], helper=helpers["second"].pk) == set()


def test_列表总数与勾选条件一致(client, homes, helpers, users):
    assign([homes["exited"], homes["marginal"]], helpers["village"], users["village_clerk"])
    client.force_login(users["helper"])
    page = client.get(reverse("registry:household_list"), {"helper": users["helper"].pk})
    assert page.context["page"].count == 2
    assert [f["label"] for f in page.context["extra_filters"]] == ["帮扶责任人/联系人：我"]
    garbled = client.get(reverse("registry:household_list"), {"helper": "１２"})
    assert garbled.context["page"].count == 4  # ignored (full-width digits): the village's four households


def test_帮扶责任人工作台显示我联系的农户_经办显示未落实户数(client, homes, helpers, users):
    assign([homes["exited"]], helpers["village"], users["village_clerk"])
    client.force_login(users["helper"])
    text = client.get(reverse("home")).content.decode()
    assert f'href="/households/?helper={users["helper"].pk}"' in text
    assert 'data-testid="card-my-households-value">1<' in text
    client.force_login(users["village_clerk"])
    text = client.get(reverse("home")).content.decode()
    assert "未落实帮扶责任人/联系人 1 户" in text and 'href="/households/?no_helper=1"' in text
    client.force_login(users["county_review"])  # a county's figure is on the 落实情况 page
    assert "未落实帮扶责任人" not in client.get(reverse("home")).content.decode()


# --- the pages ----------------------------------------------------------------------------------------------------


def test_农户页面指定与更换(client, homes, helpers, users):
    client.force_login(users["village_clerk"])
    url = reverse("registry:household_helper", args=[homes["exited"].pk])
    page = client.get(url)
    assert set(page.context["form"].candidates) == {
        helpers["village"].pk,
        helpers["second"].pk,
        helpers["town"].pk,
    }
    done = client.post(url, {"action": "assign", "helper": helpers["village"].pk, "on": "2025-06-01"})
    assert done.status_code == 302
    detail = client.get(reverse("registry:household_detail", args=[homes["exited"].pk])).content.decode()
    assert "测试用户" in detail and "自 2025-06-01" in detail and "更换" in detail
    # replacing without a reason: the form says so, nothing changes
    again = client.post(url, {"action": "assign", "helper": helpers["second"].pk, "on": "2026-03-01"})
    assert again.status_code == 200 and "更换帮扶责任人须选择原因" in again.content.decode()
    # a helper of another village is not offered, and a forged post is refused
    forged = client.post(
        url,
        {
            "action": "assign",
            "helper": helpers["other_village"].pk,
            "on": "2026-03-01",
            "reason": "rebalance",
        },
    )
    assert forged.status_code == 200 and "helper" in forged.context["form"].errors
    assert HelperAssignment.objects.filter(household=homes["exited"]).get().helper == helpers["village"]
    client.post(url, {"action": "release", "release_reason": "not_needed", "release_on": "2026-03-01"})
    assert (
        "未落实"
        in client.get(reverse("registry:household_detail", args=[homes["exited"].pk])).content.decode()
    )


def test_批量指定_先确认再保存(client, homes, helpers, users):
    client.force_login(users["town_station"])
    url = reverse("registry:helpers_assign")
    ids = [homes["exited"].pk, homes["other_village"].pk]
    form = client.post(url, {"ids": ids, "back": "/households/?no_helper=1"})
    assert form.status_code == 200 and [h.number for h in form.context["households"]] == [
        "H-B-001",
        "H-B-005",
    ]
    assert set(form.context["form"].candidates) == {
        helpers["town"].pk
    }  # only the town's covers both villages
    assert not HelperAssignment.objects.exists()
    done = client.post(
        url,
        {"ids": ids, "back": "/households/?no_helper=1", "helper": helpers["town"].pk, "on": "2025-06-01"},
    )
    assert done.status_code == 302 and done["Location"] == "/households/?no_helper=1"
    assert HelperAssignment.objects.filter(helper=helpers["town"]).count() == 2
    # an address elsewhere is not followed back
    assert client.post(url, {"ids": [], "back": "https://example.com/"})["Location"] == "/households/"


def test_批量指定不能越权(client, homes, helpers, users):
    client.force_login(users["village_clerk"])
    url = reverse("registry:helpers_assign")
    assert client.post(url, {"ids": [homes["exited"].pk, homes["other_village"].pk]}).status_code == 404
    client.force_login(users["helper"])
    assert client.post(url, {"ids": [homes["exited"].pk]}).status_code == 403
    assert client.get(reverse("registry:household_helper", args=[homes["exited"].pk])).status_code == 403


def test_落实情况页(client, homes, helpers, users):
    assign([homes["exited"], homes["general"]], helpers["village"], users["village_clerk"])
    client.force_login(users["town_station"])
    page = client.get(reverse("registry:helper_workload"))
    assert (page.context["needing"], page.context["without"]) == (
        3,
        2,
    )  # H-B-001, -002, -005; -002, -005 lack one
    rows = {r["user"].username: (r["households"], r["needing"]) for r in page.context["rows"]}
    assert rows["helper-341523104201"] == (2, 1)
    assert rows["helper-town"] == (0, 0)


def test_单户判断与列表条件一致(homes, users):
    """``selectors.needs_helper`` (one household's page) is the twin of ``filters.needs_helper_q`` (the lists)."""
    listed_ = listed(users["town_station"], needs_helper=1)
    for household in homes.values():
        if household.region_id.startswith("341523104"):
            assert selectors.needs_helper(household) == (household.number in listed_), household.number


def test_须落实的农户的部分索引与列表条件相同():
    """``hh_needs_helper_idx`` is used only when the list's condition implies the index's: keep them equal."""
    from django.db.models import Q

    from fangfan.registry.filters import needs_helper_q
    from fangfan.registry.models import Household

    [index] = [i for i in Household._meta.indexes if i.name == "hh_needs_helper_idx"]
    assert index.condition == Q(cancelled=False) & needs_helper_q()


def test_分户后新户沿用原户的帮扶责任人(homes, helpers, users):
    from registry_factory import make_household

    clerk = users["village_clerk"]
    family = make_household(
        "H-B-010",
        VILLAGE,
        household_type="exited",
        members=[("赵大", date(1960, 1, 1), "户主"), ("赵二", date(1988, 1, 1), "之子")],
    )
    assign([family], helpers["village"], clerk)
    son = family.members.get(name="赵二")
    new = services.household_split(
        household=family, members=[son], new_number="H-B-011", actor=clerk, on=LATER
    )
    a = HelperAssignment.objects.get(household=new)
    assert (a.helper, a.started_on, a.ended_on) == (helpers["village"], LATER, None)
    event = AuditEvent.objects.filter(action="household.helper_assigned", object_id=str(new.pk)).get()
    assert event.note == "随分户沿用原户 H-B-010 的帮扶责任人"
    # without a current helper (or with a disabled one) the new household has none
    orphan = make_household(
        "H-B-012", VILLAGE, members=[("钱大", date(1960, 1, 1), "户主"), ("钱二", date(1990, 1, 1), "之子")]
    )
    other = services.household_split(
        household=orphan,
        members=[orphan.members.get(name="钱二")],
        new_number="H-B-013",
        actor=clerk,
        on=LATER,
    )
    assert not HelperAssignment.objects.filter(household=other).exists()


def test_帮扶责任人调往他处后农户页面提示更换(client, homes, helpers, users):
    clerk = users["village_clerk"]
    assign([homes["exited"]], helpers["village"], clerk)
    client.force_login(clerk)
    url = reverse("registry:household_detail", args=[homes["exited"].pk])
    assert 'data-testid="helper-moved"' not in client.get(url).content.decode()
    helpers["village"].region_id = OTHER_VILLAGE
    helpers["village"].save()
    assert 'data-testid="helper-moved"' in client.get(url).content.decode()


def test_地址中的帮扶责任人编号不泄露他处账号的姓名(client, homes, helpers, users, make_user):
    stranger = make_user("helper", NEIGHBOUR_VILLAGE, username="helper-fuyuan", full_name="外镇联系人")
    assign([homes["exited"]], helpers["town"], users["village_clerk"])
    client.force_login(users["village_clerk"])

    def labels(pk):
        page = client.get(reverse("registry:household_list"), {"helper": pk})
        return [f["label"] for f in page.context["extra_filters"]]

    assert labels(helpers["second"].pk) == ["帮扶责任人/联系人：李四"]  # works in the village
    assert labels(helpers["town"].pk) == ["帮扶责任人/联系人：王五"]  # the town's, looking after H-B-001
    assert labels(stranger.pk) == ["帮扶责任人/联系人：（不在管辖范围内的账号）"]
