"""联系记录 and the monthly 联系台账 (plan 四(二)2: village cadres and work teams contact the marginal households
every month — a home visit, phone, SMS, WeChat or video — and learn their living conditions, risks and needs)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, VILLAGE
from django.urls import reverse
from django.utils import timezone
from registry_factory import make_household

from fangfan.assistance import contacts
from fangfan.assistance.models import ContactRecord
from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent
from fangfan.registry import selectors, services

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 6)
MEMBERS = [("赵铁柱", date(1958, 1, 1), "户主")]


@pytest.fixture
def homes(users):
    return {
        "exited": make_household("H-C-001", VILLAGE, members=MEMBERS, household_type="exited"),
        "marginal": make_household(
            "H-C-002", VILLAGE, members=MEMBERS, monitoring_type="marginal", monitoring_state="monitoring"
        ),
        "general": make_household("H-C-003", VILLAGE, members=MEMBERS),
        "other_village": make_household("H-C-004", OTHER_VILLAGE, members=MEMBERS, household_type="exited"),
        "neighbour": make_household("H-C-005", NEIGHBOUR_VILLAGE, members=MEMBERS, household_type="exited"),
    }


def record(household, actor, on=TODAY, way="phone", **notes):
    notes = notes or {"living": "务工收入稳定"}
    return contacts.contact_record(household=household, actor=actor, on=on, way=way, today=TODAY, **notes)


def test_联系人电话联系并记下了解到的情况_记入审计日志但不含情况原文(homes, users):
    c = record(homes["marginal"], users["helper"], living="母亲住院，医保报销后自付 3000 元", risk_found=True)
    assert (c.way, c.contacted_on, c.recorded_by, c.risk_found) == ("phone", TODAY, users["helper"], True)
    [event] = AuditEvent.objects.filter(action="household.contacted")
    assert event.after == {"date": "2026-12-06", "way": "电话", "risk_found": True}
    assert "住院" not in str(event.before) + str(event.after) + event.note


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"on": TODAY + timedelta(days=1)}, "不能晚于今天"),
        ({"on": TODAY - timedelta(days=400)}, "一年以内"),
        ({"way": "托人带话"}, "联系方式应为：入户走访、电话、短信、微信、视频"),
        ({"living": "  ", "risks": "", "needs": ""}, "请至少填写"),
        ({"needs": "字" * 501}, "帮扶需求最多 500 字"),
    ],
)
def test_联系记录的日期方式与内容(homes, users, change, message):
    args = {"on": TODAY, "way": "visit", "living": "正常"} | change
    with pytest.raises(DomainError, match=message):
        contacts.contact_record(household=homes["exited"], actor=users["helper"], today=TODAY, **args)
    assert not ContactRecord.objects.exists()


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        ("town_leader", "无权"),
        ("county_review", "无权"),
        ("department", "无权"),
        ("neighbour_clerk", "管辖范围"),
    ],
)
def test_无权或辖区外不能登记联系(homes, users, actor, message):
    with pytest.raises(DomainError, match=message):
        record(homes["exited"], users[actor])


def test_已注销的农户不能登记联系(homes, users):
    services.household_merge(
        source=homes["exited"], target=homes["general"], actor=users["village_clerk"], on=TODAY
    )
    homes["exited"].refresh_from_db()
    with pytest.raises(DomainError, match="已注销"):
        record(homes["exited"], users["village_clerk"])


def test_每月联系台账_本月已联系与未联系(homes, users):
    record(homes["exited"], users["helper"], on=date(2026, 11, 30))  # last month
    record(homes["marginal"], users["helper"], on=date(2026, 12, 1))
    record(homes["marginal"], users["helper"], on=date(2026, 12, 5), way="visit")
    record(homes["general"], users["helper"])  # no helper needed: not in the ledger
    first, after = selectors.month_span("2026-12", TODAY)
    rows, summary = contacts.contact_ledger(users["town_station"], first, after)
    assert summary == {"households": 3, "contacted": 1, "missing": 2}
    by_number = {h.number: (h.month_contacts, h.last_contact) for h in rows}
    assert by_number == {
        "H-C-001": (0, date(2026, 11, 30)),
        "H-C-002": (2, date(2026, 12, 5)),
        "H-C-004": (0, None),
    }
    missing, _ = contacts.contact_ledger(users["town_station"], first, after, missing=True)
    assert [h.number for h in missing] == ["H-C-001", "H-C-004"]
    november = selectors.month_span("2026-11", TODAY)
    assert contacts.contact_ledger(users["town_station"], *november)[1]["contacted"] == 1
    assert contacts.contact_ledger(users["neighbour_station"], first, after)[1]["households"] == 1


@pytest.mark.parametrize(
    ("raw", "first"),
    [("2026-11", date(2026, 11, 1)), ("2027-01", date(2026, 12, 1)), ("2026-13", date(2026, 12, 1)),
     ("abc", date(2026, 12, 1)), (None, date(2026, 12, 1)), ("1999-01", date(2026, 12, 1))],
)  # fmt: skip
def test_台账月份参数有误或在未来时按本月(raw, first):
    assert selectors.month_span(raw, TODAY)[0] == first
    assert selectors.month_span("2025-12", TODAY) == (date(2025, 12, 1), date(2026, 1, 1))


def _home_cards(client) -> list[dict]:
    panels = client.get(reverse("home")).context["panels"]
    return next(p for p in panels if p.get("title") == "我的工作")["cards"]


def test_联系人的台账默认只列自己联系的农户(client, homes, users, make_user):
    colleague = make_user("helper", VILLAGE, username="helper-2")
    clerk = users["village_clerk"]
    services.helpers_assign(households=[homes["exited"]], helper=users["helper"], actor=clerk, on=TODAY)
    services.helpers_assign(households=[homes["marginal"]], helper=colleague, actor=clerk, on=TODAY)
    client.force_login(users["helper"])
    page = client.get(reverse("contacts:contact_ledger"))
    assert [h.number for h in page.context["page"]] == ["H-C-001"]
    every = client.get(reverse("contacts:contact_ledger"), {"all": "1"})
    assert [h.number for h in every.context["page"]] == ["H-C-001", "H-C-002"]
    cards = {c["testid"]: c for c in _home_cards(client)}
    assert cards["card-my-households"]["value"] == 1 and cards["card-my-missing"]["value"] == 1


def test_登记联系页面_发现风险后转到登记预警(client, homes, users):
    client.force_login(users["helper"])
    url = reverse("contacts:household_contact", args=[homes["marginal"].pk])
    assert client.get(url).status_code == 200
    empty = client.post(url, {"on": date.today().isoformat(), "way": "phone"})
    assert "请至少填写" in empty.content.decode() and not ContactRecord.objects.exists()
    plain = client.post(url, {"on": date.today().isoformat(), "way": "wechat", "living": "一切正常"})
    assert plain["Location"] == reverse("registry:household_detail", args=[homes["marginal"].pk])
    risky = client.post(
        url,
        {"on": date.today().isoformat(), "way": "visit", "risks": "户主摔伤，无法务工", "risk_found": "on"},
    )
    assert risky["Location"] == reverse("monitoring:warning_report", args=[homes["marginal"].pk])
    detail = client.get(reverse("registry:household_detail", args=[homes["marginal"].pk])).content.decode()
    assert detail.count('data-testid="contact-row"') == 2 and "户主摔伤，无法务工" in detail
    client.force_login(users["town_leader"])  # reads, does not record
    assert client.get(url).status_code == 403
    assert (
        'data-testid="add-contact"'
        not in client.get(reverse("registry:household_detail", args=[homes["marginal"].pk])).content.decode()
    )
    client.force_login(users["neighbour_clerk"])
    assert client.get(url).status_code == 404


def test_镇工作站发现风险后转到反馈预警表单(client, homes, users):
    """The town station records no village warning (warning.verify); its form is the feedback one
    (``warning.feedback``, docs/roles.md)."""
    client.force_login(users["town_station"])
    home = homes["marginal"]
    risky = client.post(
        reverse("contacts:household_contact", args=[home.pk]),
        {"on": date.today().isoformat(), "way": "visit", "risks": "户主摔伤，无法务工", "risk_found": "on"},
    )
    assert risky["Location"] == reverse("monitoring:warning_feedback", args=[home.pk])
    assert client.get(risky["Location"]).status_code == 200


def test_发现风险后的预警表单带上已填写的风险隐患(client, homes, users):
    """The warning form opens with the 风险隐患 text typed at the contact (kept in the session, not the address);
    another household's form does not get it, and saving the warning uses it up."""
    client.force_login(users["helper"])
    home = homes["marginal"]
    risky = client.post(
        reverse("contacts:household_contact", args=[home.pk]),
        {"on": date.today().isoformat(), "way": "visit", "risks": "户主摔伤，无法务工", "risk_found": "on"},
    )
    assert "摔伤" not in risky["Location"]
    form = client.get(risky["Location"]).context["form"]
    assert form.initial == {"description": "户主摔伤，无法务工", "channel": "cadre"}
    assert "户主摔伤，无法务工</textarea>" in client.get(risky["Location"]).content.decode()
    other = client.get(reverse("monitoring:warning_report", args=[homes["exited"].pk]))
    assert other.context["form"].initial == {}
    saved = client.post(
        risky["Location"], {"channel": "cadre", "risk_type": "accident", "description": "户主摔伤，无法务工"}
    )
    assert saved.status_code == 302
    assert client.get(risky["Location"]).context["form"].initial == {}


def test_镇工作站按村查看台账(client, homes, users):
    today = timezone.localdate()  # the page's month is the current one
    contacts.contact_record(
        household=homes["other_village"], actor=users["town_station"], on=today, way="visit", living="正常"
    )
    client.force_login(users["town_station"])
    page = client.get(reverse("contacts:contact_ledger"), {"village": OTHER_VILLAGE})
    assert [h.number for h in page.context["page"]] == ["H-C-004"]
    assert page.context["summary"] == {"households": 1, "contacted": 1, "missing": 0}
    outside = client.get(reverse("contacts:contact_ledger"), {"village": NEIGHBOUR_VILLAGE})
    assert outside.context["village"] == "" and outside.context["summary"]["households"] == 3  # ignored


def test_导出联系台账(client, homes, users, tmp_path):
    from python_calamine import CalamineWorkbook

    services.helpers_assign(
        households=[homes["exited"]], helper=users["helper"], actor=users["village_clerk"], on=TODAY
    )
    client.force_login(users["village_clerk"])
    response = client.get(reverse("contacts:contact_ledger_export"), {"missing": "1"})
    assert response.status_code == 200 and response["Content-Disposition"].endswith(".xlsx")
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    book = CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name(book.sheet_names[0]).to_python()
    assert rows[0][:3] == ["户编号", "村", "户主"]
    assert [r[0] for r in rows[1:]] == ["H-C-001", "H-C-002"]
    assert rows[1][5] == "测试用户" and rows[2][5] == "未落实" and rows[1][6] == "0"
    [event] = AuditEvent.objects.filter(action="household.ledger_exported")
    assert event.after["rows"] == 2 and event.after["filters"]["missing"] is True
    client.force_login(users["helper"])  # reads the ledger, does not export
    assert client.get(reverse("contacts:contact_ledger_export")).status_code == 403
    assert (
        'data-testid="ledger-export"' not in client.get(reverse("contacts:contact_ledger")).content.decode()
    )
