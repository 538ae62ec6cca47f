"""The early-warning pages: the inbox per role, the verification form, overdue lists, risk points, clues and the
manual-channel form — each through the user's scope (outside it: 404), each refusing the roles it is not for."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, VILLAGE, operator
from django.urls import reverse
from django.utils import timezone
from monitoring_factory import MATRIX_OBJECT_URLS, household, make_warning

from fangfan.monitoring import services
from fangfan.monitoring.models import Clue, EarlyWarning, RiskPoint, Rule, VerificationTask

pytestmark = pytest.mark.django_db


def _bundled(village=VILLAGE, n=2, **kw):
    hh = household(village, members=[("刘大", date(1966, 2, 2), "户主")])
    warnings = [make_warning(hh, risk_type=rt, **kw) for rt in ["illness", "housing", "disaster"][:n]]
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    task = VerificationTask.objects.get(household=hh, state="open")
    return hh, task, [EarlyWarning.objects.get(pk=w.pk) for w in warnings]


def _post_visit(client, task, decisions: dict, **extra):
    data = {"visited_on": timezone.localdate().isoformat(), "visit_way": "入户", "finding": "入户核实"}
    for pk, (verdict, reason) in decisions.items():
        data[f"decision_{pk}"] = verdict
        data[f"reason_{pk}"] = reason or ""
    data.update(extra)
    return client.post(reverse("monitoring:task_detail", args=[task.pk]), data)


# --- the inbox ------------------------------------------------------------------------------------------------------


def test_village_inbox_lists_open_tasks_with_their_warnings_and_overdue_badge(client, users):
    hh, task, warnings = _bundled()
    late_hh, late_task, _ = _bundled(n=1)
    VerificationTask.objects.filter(pk=late_task.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    _bundled(NEIGHBOUR_VILLAGE)  # never shown
    client.force_login(users["village_clerk"])
    response = client.get(reverse("monitoring:warning_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="task-card"') == 2
    assert hh.number in body and late_hh.number in body
    assert body.count('data-testid="overdue-badge"') == 1
    assert warnings[0].explanation in body
    assert reverse("monitoring:task_detail", args=[task.pk]) in body
    assert 'data-testid="inbox-counts"' in body


def test_联系人只看自己联系的农户的核查任务(client, users, make_user):
    """Plan 四(二)2: a contact visits the households they look after; the task list narrows to them on request."""
    from fangfan.registry.services import helpers_assign

    mine, my_task, _ = _bundled(n=1)
    _other, other_task, _ = _bundled(n=1)
    colleague = make_user("helper", VILLAGE, username="helper-2")
    helpers_assign(
        households=[mine], helper=users["helper"], actor=users["village_clerk"], on=date(2025, 1, 1)
    )
    helpers_assign(households=[_other], helper=colleague, actor=users["village_clerk"], on=date(2025, 1, 1))
    client.force_login(users["helper"])
    every = client.get(reverse("monitoring:task_list"))
    assert {t.pk for t in every.context["page"]} == {my_task.pk, other_task.pk}
    assert 'data-testid="tasks-mine"' in every.content.decode()
    narrowed = client.get(reverse("monitoring:task_list"), {"mine": "1"})
    assert [t.pk for t in narrowed.context["page"]] == [my_task.pk]
    assert narrowed.context["page"][0].helper_name == "测试用户"  # the card names the household's contact
    assert 'data-testid="task-helper">联系人 测试用户<' in narrowed.content.decode()
    done = client.get(reverse("monitoring:task_list"), {"mine": "1", "show": "done"})
    assert list(done.context["page"]) == []
    client.force_login(users["village_clerk"])  # not a helper: no such choice, the parameter is ignored
    clerk = client.get(reverse("monitoring:task_list"), {"mine": "1"})
    assert len(clerk.context["page"]) == 2 and 'data-testid="tasks-mine"' not in clerk.content.decode()


def test_town_inbox_shows_what_to_review_and_what_is_late(client, users):
    _bundled()
    _, late_task, _ = _bundled(OTHER_VILLAGE, n=1)
    VerificationTask.objects.filter(pk=late_task.pk).update(due_date=timezone.localdate() - timedelta(days=2))
    services.clue_submit_public(
        village_code=VILLAGE, name="某", id_number="", phone="13900000000", description="困难"
    )
    client.force_login(users["town_station"])
    response = client.get(reverse("monitoring:warning_list"))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["tasks_open"] == 2 and counts["tasks_overdue"] == 1
    assert counts["warnings_open"] == 3 and counts["clues_open"] == 1
    assert response.context["tasks"] == []  # the town does not verify: no village inbox
    overdue = client.get(reverse("monitoring:overdue"))
    assert overdue.status_code == 200
    assert [t.pk for t in overdue.context["tasks"]] == [late_task.pk]


def test_department_sees_only_hits_from_its_own_data_in_its_own_region(client, users):
    """部门用户只看到本辖区内本部门数据比对产生的预警；邻镇的、其他部门的预警都是 404。"""
    _, _, (own, *_) = _bundled(n=1, source="medical")
    _, _, (civil, *_) = _bundled(n=1, source="civil")
    _, _, (neighbour, *_) = _bundled(NEIGHBOUR_VILLAGE, n=1, source="medical")
    client.force_login(users["department"])  # 医保, 桃溪镇
    response = client.get(reverse("monitoring:warning_list"))
    assert response.status_code == 200
    assert [w.pk for w in response.context["page"]] == [own.pk]
    assert response.context["counts"] is None and response.context["tasks"] == []
    assert client.get(reverse("monitoring:warning_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("monitoring:warning_detail", args=[civil.pk])).status_code == 404
    assert client.get(reverse("monitoring:warning_detail", args=[neighbour.pk])).status_code == 404
    assert client.get(reverse("monitoring:task_detail", args=[civil.task_id])).status_code == 404
    assert client.get(reverse("monitoring:task_detail", args=[neighbour.task_id])).status_code == 404
    # Read-only: the task page has no form, and a POST changes nothing.
    page = client.get(reverse("monitoring:task_detail", args=[own.task_id]))
    assert page.status_code == 200 and page.context["form"] is None
    _post_visit(client, VerificationTask.objects.get(pk=own.task_id), {own.pk: ("confirm", None)})
    assert EarlyWarning.objects.get(pk=own.pk).state == "verifying"
    # Tasks and risk lists are narrowed the same way.
    tasks = client.get(reverse("monitoring:task_list"))
    assert [t.pk for t in tasks.context["page"]] == [own.task_id]
    assert client.get(reverse("monitoring:overdue")).status_code == 403
    assert client.get(reverse("monitoring:clue_list")).status_code == 403


def test_neighbouring_town_gets_404_on_objects(client, users):
    _, task, (w, *_) = _bundled(n=1)
    clue = Clue.objects.create(channel="self_report", region_code=VILLAGE, name="某", description="困难")
    client.force_login(users["neighbour_station"])
    assert client.get(reverse("monitoring:task_detail", args=[task.pk])).status_code == 404
    assert client.get(reverse("monitoring:warning_detail", args=[w.pk])).status_code == 404
    assert client.get(reverse("monitoring:clue_detail", args=[clue.pk])).status_code == 404
    assert client.get(reverse("monitoring:warning_feedback", args=[task.household_id])).status_code == 404
    client.force_login(users["neighbour_clerk"])
    assert client.get(reverse("monitoring:warning_report", args=[task.household_id])).status_code == 404
    response = client.post(
        reverse("monitoring:task_detail", args=[task.pk]),
        {
            "visited_on": timezone.localdate().isoformat(),
            "visit_way": "入户",
            "finding": "x",
            f"decision_{w.pk}": "confirm",
        },
    )
    assert response.status_code == 404


def test_filters_and_paging(client, users, monkeypatch):
    from fangfan.monitoring import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    Rule.objects.create(code="MED_SELF_PAID", name="医疗自付超标", risk_type="illness", template="…")
    Rule.objects.create(code="HOUSING_CD", name="住房C/D级", risk_type="housing", template="…")
    hh = household()
    a = make_warning(
        hh, risk_type="illness", rule_code="MED_SELF_PAID", created_at=timezone.now() - timedelta(days=10)
    )
    b = make_warning(hh, risk_type="housing", rule_code="HOUSING_CD", source="housing")
    c = make_warning(household(OTHER_VILLAGE), risk_type="illness", channel="cadre", source="", rule_code="")
    client.force_login(users["town_station"])
    url = reverse("monitoring:warning_list")

    def pks(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {w.pk for w in response.context["page"]}

    assert pks(risk_type="illness") == {a.pk, c.pk}
    assert pks(channel="cadre") == {c.pk}
    assert pks(rule="HOUSING_CD") == {b.pk}
    assert pks(village=OTHER_VILLAGE) == {c.pk}
    assert pks(state="pending", risk_type="housing") == {b.pk}
    assert pks(date_to=(timezone.localdate() - timedelta(days=5)).isoformat()) == {a.pk}
    assert pks(date_from=timezone.localdate().isoformat()) == {b.pk, c.pk}
    page2 = client.get(url, {"page": 2})
    assert page2.context["page"].number == 2 and len(page2.context["page"]) == 1
    # The rule column names the rule in Chinese (its code stays in the cell's title); a manual warning has none.
    html = client.get(url, {"risk_type": "housing"}).content.decode()
    assert '<td class="small" title="HOUSING_CD">住房C/D级</td>' in html
    html = client.get(url, {"channel": "cadre"}).content.decode()
    assert '<td class="small" title="">—</td>' in html


# --- the verification form --------------------------------------------------------------------------------------------


def test_verification_form_confirms_one_and_excludes_the_other(client, users):
    hh, task, (w1, w2) = _bundled()
    client.force_login(users["village_clerk"])
    page = client.get(reverse("monitoring:task_detail", args=[task.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('data-testid="warning-card"') == 2 and 'data-testid="household-summary"' in body
    # A warning from a catalogue rule is named by the rule's Chinese name, its code in the title.
    rule = Rule.objects.create(code="MED_SELF_PAID", name="医疗自付超标", risk_type="illness", template="…")
    EarlyWarning.objects.filter(pk=w1.pk).update(rule=rule, rule_code=rule.code)
    body = client.get(reverse("monitoring:task_detail", args=[task.pk])).content.decode()
    assert '<span title="MED_SELF_PAID">医疗自付超标</span>' in body
    response = _post_visit(
        client, task, {w1.pk: ("confirm", None), w2.pk: ("exclude", "已完成危房改造")}, visit_way="微信"
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == "done" and task.visit_way == "微信"
    assert EarlyWarning.objects.get(pk=w1.pk).state == "confirmed"
    assert EarlyWarning.objects.get(pk=w2.pk).exclude_reason == "已完成危房改造"
    risks = client.get(reverse("monitoring:risk_list"))
    assert [r.warning_id for r in risks.context["page"]] == [w1.pk]


def test_verification_form_refuses_exclusion_without_reason(client, users):
    _, task, (w1, w2) = _bundled()
    client.force_login(users["helper"])
    response = _post_visit(client, task, {w1.pk: ("confirm", None), w2.pk: ("exclude", "")})
    assert response.status_code == 200
    assert "排除预警必须填写排除理由" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "open" and not RiskPoint.objects.exists()


def test_verification_form_needs_a_decision_for_every_warning(client, users):
    _, task, (w1, w2) = _bundled()
    client.force_login(users["village_clerk"])
    response = _post_visit(client, task, {w1.pk: ("confirm", None)})
    assert response.status_code == 200 and "请选择确认或排除" in response.content.decode()
    assert VerificationTask.objects.get(pk=task.pk).state == "open"


def test_town_station_may_verify_and_town_leader_may_read(client, users):
    _, task, (w,) = _bundled(n=1)
    client.force_login(users["county_review"])
    page = client.get(reverse("monitoring:task_detail", args=[task.pk]))
    assert page.status_code == 200
    client.force_login(users["town_station"])
    assert _post_visit(client, task, {w.pk: ("confirm", None)}).status_code == 302
    assert VerificationTask.objects.get(pk=task.pk).state == "done"
    done = client.get(reverse("monitoring:task_detail", args=[task.pk]))
    assert done.context["form"] is None and 'data-testid="visit-record"' in done.content.decode()


# --- risk points ---------------------------------------------------------------------------------------------------------


def test_risk_list_orders_by_deadline_and_highlights_overdue(client, users):
    _, task, (w1, w2) = _bundled()
    services.task_complete(
        task=task,
        actor=users["village_clerk"],
        visited_on=timezone.localdate(),
        visit_way="入户",
        finding="属实",
        decisions={w1.pk: ("confirm", None), w2.pk: ("confirm", None)},
    )
    late = RiskPoint.objects.get(warning=w2)
    RiskPoint.objects.filter(pk=late.pk).update(deadline=timezone.localdate() - timedelta(days=3))
    client.force_login(users["town_station"])
    response = client.get(reverse("monitoring:risk_list"))
    assert [r.pk for r in response.context["page"]] == [late.pk, RiskPoint.objects.get(warning=w1).pk]
    assert response.content.decode().count('data-overdue="1"') == 1
    only_late = client.get(reverse("monitoring:risk_list"), {"overdue": "on"})
    assert [r.pk for r in only_late.context["page"]] == [late.pk]
    client.force_login(users["neighbour_station"])
    assert list(client.get(reverse("monitoring:risk_list")).context["page"]) == []


# --- manual channels -------------------------------------------------------------------------------------------------------


def test_clerk_records_a_self_report_for_a_farmer(client, users):
    hh = household()
    client.force_login(users["village_clerk"])
    url = reverse("monitoring:warning_report", args=[hh.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"channel": "self_report", "risk_type": "", "description": ""})
    assert bad.status_code == 200 and not EarlyWarning.objects.exists()
    response = client.post(url, {"channel": "self_report", "risk_type": "illness", "description": "户主住院"})
    warning = EarlyWarning.objects.get(household=hh)
    assert response.status_code == 302 and response["Location"] == reverse(
        "monitoring:task_detail", args=[warning.task_id]
    )
    assert warning.channel == "self_report" and warning.created_by == users["village_clerk"]


def test_town_records_inspection_feedback(client, users):
    hh = household(OTHER_VILLAGE)
    client.force_login(users["town_station"])
    assert client.get(reverse("monitoring:warning_report", args=[hh.pk])).status_code == 403
    url = reverse("monitoring:warning_feedback", args=[hh.pk])
    response = client.post(
        url, {"channel": "inspection", "risk_type": "housing", "description": "暗访发现住房漏雨"}
    )
    assert response.status_code == 302
    assert EarlyWarning.objects.get(household=hh).get_channel_display() == "督查暗访反馈"


# --- clues ------------------------------------------------------------------------------------------------------------------


def test_town_links_a_clue_to_a_household(client, users):
    clue = services.clue_submit_public(
        village_code=VILLAGE, name="陈某", id_number="", phone="13700000000", description="孩子上学困难"
    )
    hh = household()
    client.force_login(users["town_station"])
    listing = client.get(reverse("monitoring:clue_list"))
    assert [c.pk for c in listing.context["page"]] == [clue.pk]
    url = reverse("monitoring:clue_detail", args=[clue.pk])
    page = client.get(url)
    assert page.status_code == 200 and "陈某" in page.content.decode()
    missing = client.post(url, {"form": "link", "household_number": "NOPE", "risk_type": "schooling"})
    assert "本辖区没有这个户编号" in missing.content.decode()
    response = client.post(url, {"form": "link", "household_number": hh.number, "risk_type": "schooling"})
    assert response.status_code == 302
    clue.refresh_from_db()
    assert clue.state == "linked" and clue.warning.risk_type == "schooling"


@pytest.mark.parametrize("who", ["town_leader", "county_review"])
def test_a_reading_role_reads_a_clue_but_neither_links_nor_closes_it(client, users, who):
    """Issue 17 (docs/roles.md): ``warning.review`` let the town leader and the county link a clue to a household —
    raising a warning and a visit — or close it. They read it; the town station handles it."""
    clue = Clue.objects.create(channel="self_report", region_code=VILLAGE, name="某", description="困难")
    hh = household()
    client.force_login(users[who])
    url = reverse("monitoring:clue_detail", args=[clue.pk])
    page = client.get(url)
    assert page.status_code == 200 and "关联并生成预警" not in page.content.decode()
    assert client.post(url, {"form": "close", "reason": "不属实"}).status_code == 403
    assert client.post(url, {"form": "link", "household_number": hh.number}).status_code == 403
    clue.refresh_from_db()
    assert clue.state == "new" and not EarlyWarning.objects.filter(household=hh).exists()


@pytest.mark.parametrize("who", ["town_leader", "county_review"])
def test_a_reading_role_records_no_feedback_warning(client, users, who):
    """Issue 17: the feedback form (督查暗访反馈, 市级反馈预警) was open to ``warning.review``; it is the town station's."""
    hh = household()
    client.force_login(users[who])
    url = reverse("monitoring:warning_feedback", args=[hh.pk])
    assert client.get(url).status_code == 403
    data = {"channel": "inspection", "risk_type": "housing", "description": "暗访发现住房漏雨"}
    assert client.post(url, data).status_code == 403
    assert not EarlyWarning.objects.filter(household=hh).exists()
    detail = client.get(reverse("registry:household_detail", args=[hh.pk])).content.decode()
    assert url not in detail


def test_town_closes_a_clue_with_a_reason(client, users):
    clue = Clue.objects.create(channel="self_report", region_code=VILLAGE, name="某", description="困难")
    client.force_login(users["town_station"])
    url = reverse("monitoring:clue_detail", args=[clue.pk])
    assert "办结说明" in client.post(url, {"form": "close", "reason": ""}).content.decode()
    assert client.post(url, {"form": "close", "reason": "已电话回访，不属实"}).status_code == 302
    clue.refresh_from_db()
    assert clue.state == "closed"


# --- permissions per role ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        (
            "monitoring:warning_list",
            {
                "village_clerk",
                "helper",
                "town_station",
                "town_leader",
                "department",
                "county_review",
                "province_record",
            },
        ),
        (
            "monitoring:task_list",
            {
                "village_clerk",
                "helper",
                "town_station",
                "town_leader",
                "department",
                "county_review",
                "province_record",
            },
        ),
        (
            "monitoring:risk_list",
            {
                "village_clerk",
                "helper",
                "town_station",
                "town_leader",
                "department",
                "county_review",
                "province_record",
            },
        ),
        ("monitoring:overdue", {"town_station", "town_leader", "county_review"}),
        ("monitoring:clue_list", {"town_station", "town_leader", "county_review"}),
        (
            "monitoring:warning_export",
            {
                "village_clerk",
                "helper",
                "town_station",
                "town_leader",
                "department",
                "county_review",
                "province_record",
            },
        ),
    ],
)
def test_permission_per_role(client, users, name, allowed):
    for who in ["village_clerk", "helper", "town_station", "town_leader", "department", "county_review",
                "province_record", "sys_admin", "sec_admin", "audit_admin"]:  # fmt: skip
        client.force_login(users[who])
        status = client.get(reverse(name)).status_code
        assert status == (200 if who in allowed else 403), (who, status)


@pytest.mark.parametrize("name", sorted(MATRIX_OBJECT_URLS))
def test_object_pages_open_for_their_own_users(client, users, name):
    kwargs, _region = MATRIX_OBJECT_URLS[name](users)
    who = {
        "monitoring:task_detail": "department",
        "monitoring:warning_detail": "department",
        "monitoring:warning_report": "village_clerk",
        "monitoring:warning_feedback": "town_station",
        "monitoring:clue_detail": "town_station",
    }[name]
    client.force_login(users[who])
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 200
    client.force_login(users["neighbour_station"])
    assert client.get(reverse(name, kwargs=kwargs)).status_code in (403, 404)


def test_anonymous_is_sent_to_login(client, users):
    _, task, _ = _bundled(n=1)
    response = client.get(reverse("monitoring:task_detail", args=[task.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_household_timeline_partial_renders(client, users):
    from django.template.loader import render_to_string

    from fangfan.monitoring.selectors import household_timeline

    hh, task, (w1, w2) = _bundled()
    html = render_to_string("monitoring/_household_timeline.html", {"timeline": household_timeline(hh)})
    assert 'data-testid="household-timeline"' in html and w1.explanation in html
    assert "派发入户核查任务" in html
    empty = render_to_string("monitoring/_household_timeline.html", {"timeline": []})
    assert "暂无预警" in empty


def test_inbox_query_count_does_not_grow_with_rows(client, users, django_assert_max_num_queries):
    for _ in range(8):
        _bundled(n=2)
    client.force_login(users["village_clerk"])
    with django_assert_max_num_queries(30):
        assert client.get(reverse("monitoring:warning_list")).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("monitoring:task_list")).status_code == 200


def test_household_timeline_template_tag(users):
    from django.template import engines

    hh, _task, (w1, _w2) = _bundled()
    html = (
        engines["django"]
        .from_string("{% load monitoring_timeline %}{% household_timeline household %}")
        .render({"household": hh})
    )
    assert 'data-testid="household-timeline"' in html and w1.explanation in html


def test_the_contact_can_call_the_household_from_its_verification_task(client, users):
    """The task page is where the contact works: the phone masked, and the audited 查看并拨打 beside it."""
    hh, task, _ = _bundled()
    hh.phone = "13900002222"
    hh.save(update_fields=["phone"])
    client.force_login(users["helper"])
    body = client.get(reverse("monitoring:task_detail", args=[task.pk])).content.decode()
    assert "139****2222" in body and "13900002222" not in body
    assert reverse("registry:household_reveal_phone", args=[hh.pk]) in body


def test_a_task_of_a_cancelled_household_says_so_and_can_still_be_closed(client, users):
    """A household cancelled after its task opened (merged into another, its last member removed): the inbox and
    the task page say so, and the village closes the task by excluding its warnings with the reason."""
    hh, task, warnings = _bundled(n=1)
    hh.cancelled, hh.cancelled_reason = True, "并入 H-OTHER"
    hh.save(update_fields=["cancelled", "cancelled_reason"])
    client.force_login(users["village_clerk"])
    inbox = client.get(reverse("monitoring:warning_list")).content.decode()
    assert 'data-testid="household-cancelled"' in inbox and "农户已注销" in inbox
    page = client.get(reverse("monitoring:task_detail", args=[task.pk])).content.decode()
    assert "该户已注销（并入 H-OTHER）" in page
    response = _post_visit(client, task, {warnings[0].pk: ("exclude", "农户已注销，成员并入他户")})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == "done"
    assert EarlyWarning.objects.get(pk=warnings[0].pk).state == "excluded"
