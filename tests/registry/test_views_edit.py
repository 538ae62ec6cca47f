"""The edit forms of the household page: validation in Chinese, DomainError messages shown, success redirects to
the household with a message, derived figures and audit follow; a neighbour gets 404 on every edit URL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from registry_factory import make_household, make_id

from fangfan.core.models import AuditEvent
from fangfan.registry.models import CompositionChange, Household, Member

VILLAGE = "341523104201"
OTHER_VILLAGE = "341523104202"


@pytest.fixture
def home(users):
    return make_household(
        "H-DF-101",
        VILLAGE,
        members=[
            ("陈建国", date(1960, 2, 2), "户主"),
            ("刘桂兰", date(1962, 3, 3), "配偶", {"female": True}),
            ("陈磊", date(1988, 4, 4), "之子"),
        ],
        income={"wage_income": Decimal("12000"), "business_income": Decimal("3000")},
    )


@pytest.fixture
def clerk_client(client, users):
    client.force_login(users["village_clerk"])
    return client


def household_data(household, **overrides) -> dict:
    data = {
        "household_type": household.household_type,
        "exit_year": household.exit_year or "",
        "grade": household.grade,
        "wage_income": str(household.wage_income),
        "business_income": str(household.business_income),
        "business_expense": str(household.business_expense),
        "property_income": str(household.property_income),
        "transfer_income": str(household.transfer_income),
        "compliant_self_paid": str(household.compliant_self_paid),
        "food_clothing_secure": "",
        "housing_grade": household.housing_grade,
        "water_safe": "",
        "note": "",
    }
    data.update(overrides)
    return data


def detail(household) -> str:
    return reverse("registry:household_detail", args=[household.pk])


def test_edit_income_recomputes_and_audits(clerk_client, home):
    url = reverse("registry:household_edit", args=[home.pk])
    assert clerk_client.get(url).status_code == 200
    response = clerk_client.post(
        url, household_data(home, wage_income="3000", business_income="0", water_safe="0", note="入户核实")
    )
    assert response.status_code == 302 and response["Location"] == detail(home)
    home.refresh_from_db()
    assert home.net_income == Decimal("3000.00") and home.per_capita_income == Decimal("1000.00")
    assert home.water_safe is False and home.food_clothing_secure is None
    event = AuditEvent.objects.get(action="household.updated")
    assert event.before["wage_income"] == "12000.00" and event.after["wage_income"] == "3000"
    assert event.after["per_capita_income"] == "1000.00" and event.note == "入户核实"
    page = clerk_client.get(detail(home)).content.decode()
    assert "已保存。年人均纯收入 1,000.00 元" in page
    assert "1,000.00" in page


@pytest.mark.parametrize(
    ("value", "message"),
    [("-1", "金额不能为负数"), ("12.345", "金额最多保留两位小数"), ("abc", "请输入金额"), ("", "请填写此项")],
)
def test_money_fields_validate_in_chinese(clerk_client, home, value, message):
    response = clerk_client.post(
        reverse("registry:household_edit", args=[home.pk]), household_data(home, wage_income=value)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="household.updated").exists()


def test_money_accepts_thousands_separators(clerk_client, home):
    response = clerk_client.post(
        reverse("registry:household_edit", args=[home.pk]), household_data(home, wage_income="12,500.50")
    )
    assert response.status_code == 302
    home.refresh_from_db()
    assert home.wage_income == Decimal("12500.50")


def test_exited_household_needs_exit_year(clerk_client, home):
    response = clerk_client.post(
        reverse("registry:household_edit", args=[home.pk]), household_data(home, household_type="exited")
    )
    assert "脱贫户须填写脱贫年度" in response.content.decode()


def test_member_edit(clerk_client, home):
    son = home.members.get(name="陈磊")
    url = reverse("registry:member_edit", args=[home.pk, son.pk])
    page = clerk_client.get(url).content.decode()
    assert "陈磊" in page and son.id_number not in page
    data = {"name": "陈磊", "relation": "之子", "health": ["患有大病"], "labour_skill": "弱劳动力或半劳动力"}
    response = clerk_client.post(url, data)
    assert response.status_code == 302
    son.refresh_from_db()
    assert son.serious_illness and son.health == "患有大病"
    event = AuditEvent.objects.get(action="member.updated")
    assert event.after["health"] == "***"  # health status is sensitive (PIPL §28)
    # 健康 with another state is refused.
    response = clerk_client.post(url, {**data, "health": ["健康", "残疾"]})
    assert "“健康”不能与其他健康状况同时选择" in response.content.decode()


def test_head_relation_cannot_be_edited_away(clerk_client, home):
    head = home.members.get(is_head=True)
    url = reverse("registry:member_edit", args=[home.pk, head.pk])
    response = clerk_client.post(url, {"name": "陈建国", "relation": "之子"})
    assert response.status_code == 302
    head.refresh_from_db()
    assert head.is_head and head.relation == "户主"


def test_member_add_and_duplicate_id(clerk_client, home, users):
    url = reverse("registry:member_add", args=[home.pk])
    new_id = make_id(date(2024, 6, 1), female=True)
    data = {"name": "陈小花", "id_number": new_id, "relation": "之孙女", "reason": "出生", "on": "2024-06-01"}
    response = clerk_client.post(url, data)
    assert response.status_code == 302
    home.refresh_from_db()
    assert home.size == 4
    assert CompositionChange.objects.filter(household=home, kind="add", reason="出生").exists()
    # The same ID again: refused with the service's Chinese message, nothing written.
    response = clerk_client.post(url, {**data, "name": "另一人"})
    assert "该证件号码已在系统中登记" in response.content.decode()
    assert Member.objects.filter(household=home).count() == 4
    # A bad ID and a future date are form errors.
    response = clerk_client.post(url, {**data, "id_number": "123", "on": "2999-01-01"})
    body = response.content.decode()
    assert "证件号码无效" in body and "日期不能晚于今天" in body


def test_member_remove_keeps_history(clerk_client, home):
    son = home.members.get(name="陈磊")
    response = clerk_client.post(
        reverse("registry:member_remove", args=[home.pk, son.pk]), {"reason": "迁出", "on": "2025-01-10"}
    )
    assert response.status_code == 302
    son.refresh_from_db()
    assert son.status == "removed" and son.left_reason == "迁出"
    page = clerk_client.get(detail(home)).content.decode()
    assert "已减少成员" in page and "迁出" in page and "减少成员" in page
    # The head cannot be removed while others remain.
    head = home.members.get(is_head=True)
    response = clerk_client.post(
        reverse("registry:member_remove", args=[home.pk, head.pk]), {"reason": "死亡", "on": "2025-02-01"}
    )
    assert "户主不能直接减少" in response.content.decode()


def test_head_change(clerk_client, home):
    son = home.members.get(name="陈磊")
    response = clerk_client.post(
        reverse("registry:head_change", args=[home.pk]),
        {"new_head": son.pk, "old_head_relation": "之父", "on": "2025-03-01"},
    )
    assert response.status_code == 302
    heads = list(home.members.filter(is_head=True, status="active"))
    assert heads == [son]
    assert home.members.get(name="陈建国").relation == "之父"
    home.refresh_from_db()
    assert home.head_name == "陈磊"


def test_split_and_merge(clerk_client, home):
    son = home.members.get(name="陈磊")
    response = clerk_client.post(
        reverse("registry:household_split", args=[home.pk]),
        {"new_number": "H-DF-102", "new_head": son.pk, "on": "2025-04-01"},
    )
    assert response.status_code == 302
    new = Household.objects.get(number="H-DF-102")
    assert new.size == 1 and new.head_name == "陈磊"
    home.refresh_from_db()
    assert home.size == 2
    # Splitting into an existing number is refused.
    response = clerk_client.post(
        reverse("registry:household_split", args=[home.pk]),
        {"new_number": "H-DF-102", "new_head": home.members.get(is_head=True).pk, "on": "2025-04-01"},
    )
    assert "户编号 H-DF-102 已被占用，请换一个" in response.content.decode()
    # Merge the new household back: first the household named, for the user to confirm; then merged.
    merge = reverse("registry:household_merge", args=[new.pk])
    response = clerk_client.post(merge, {"target_number": "H-DF-101", "on": "2025-05-01"})
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="confirm-panel"' in html
    assert "请确认：并入户 H-DF-101" in html and "户主 陈建国，现有 2 人" in html and "确认合户" in html
    assert f'name="confirmed" value="{home.pk}"' in html
    new.refresh_from_db()
    assert not new.cancelled
    # A garbled confirmation is no confirmation: the household is shown again (no error the page cannot show).
    response = clerk_client.post(merge, {"target_number": "H-DF-101", "on": "2025-05-01", "confirmed": "abc"})
    assert "请确认：并入户 H-DF-101" in response.content.decode()
    # A confirmation given for another household does not merge into this one: it is shown again.
    other = make_household("H-DF-103", VILLAGE)
    response = clerk_client.post(
        merge, {"target_number": "H-DF-103", "on": "2025-05-01", "confirmed": home.pk}
    )
    assert "请确认：并入户 H-DF-103" in response.content.decode()
    assert other.members.count() == 1
    response = clerk_client.post(
        merge, {"target_number": "H-DF-101", "on": "2025-05-01", "confirmed": home.pk}
    )
    assert response.status_code == 302 and response["Location"] == detail(home)
    new.refresh_from_db()
    home.refresh_from_db()
    assert new.cancelled and home.size == 3
    assert home.members.filter(is_head=True, status="active").count() == 1
    # A cancelled household can no longer be edited.
    assert clerk_client.get(reverse("registry:household_edit", args=[new.pk])).status_code == 404


def test_split_taking_the_head_asks_who_heads_the_household_left_behind(clerk_client, home):
    head = home.members.get(is_head=True)
    staying = home.members.exclude(pk=head.pk).order_by("pk").last()
    split = reverse("registry:household_split", args=[home.pk])
    html = clerk_client.get(split).content.decode()
    assert "原户的新户主" in html and "户主随新户分出时必选" in html
    response = clerk_client.post(split, {"new_number": "H-DF-109", "new_head": head.pk, "on": "2025-04-01"})
    assert "户主随新户分出，请选择原户的新户主" in response.content.decode()
    response = clerk_client.post(
        split, {"new_number": "H-DF-109", "new_head": head.pk, "remaining_head": head.pk, "on": "2025-04-01"}
    )
    assert "原户的新户主须是留在原户的成员" in response.content.decode()
    assert not Household.objects.filter(number="H-DF-109").exists()
    response = clerk_client.post(
        split,
        {"new_number": "H-DF-109", "new_head": head.pk, "remaining_head": staying.pk, "on": "2025-04-01"},
    )
    assert response.status_code == 302
    home.refresh_from_db()
    assert list(home.members.filter(is_head=True, status="active")) == [staying]
    assert home.head_name == staying.name


def test_a_merged_household_is_found_among_the_cancelled_and_leads_to_where_it_went(clerk_client, home):
    """After a merge the household leaves the list; 查看已注销农户 lists it, and its page links the household its
    members went into, as each household's change table links the other."""
    other = make_household("H-DF-120", VILLAGE, members=[("钱多", date(1990, 1, 1), "户主")])
    merge = reverse("registry:household_merge", args=[other.pk])
    data = {"target_number": "H-DF-101", "on": "2025-05-01"}
    clerk_client.post(merge, data)
    clerk_client.post(merge, {**data, "confirmed": home.pk})
    other.refresh_from_db()
    assert other.cancelled
    clerk_client.get(detail(home))  # where the merge leads, with its message
    listed = clerk_client.get(reverse("registry:household_list")).content.decode()
    assert "H-DF-120" not in listed and 'href="/households/?cancelled=1"' in listed
    cancelled = clerk_client.get(reverse("registry:household_list") + "?cancelled=1").content.decode()
    assert "H-DF-120" in cancelled and "H-DF-101" not in cancelled and "共 1 户" in cancelled
    assert "仅列出已注销农户" in cancelled and 'data-testid="extra-filter-cancelled"' in cancelled
    assert ">已注销</span>" in cancelled
    page = clerk_client.get(detail(other)).content.decode()
    assert 'data-testid="merged-into">H-DF-101<' in page and f'href="{detail(home)}"' in page
    assert 'data-testid="report-warning"' not in page  # no warning can be raised on a cancelled household
    page = clerk_client.get(detail(home)).content.decode()
    assert f'href="{detail(other)}" class="font-monospace">H-DF-120<' in page


def test_new_household_forms_offer_the_villages_next_number(clerk_client, home):
    from fangfan.registry.selectors import next_household_number

    assert next_household_number(VILLAGE) == ""  # H-DF-101 is not of the usual form
    for serial in ("0007", "0012", "0009"):
        make_household(f"{VILLAGE}{serial}", VILLAGE)
    make_household(f"{OTHER_VILLAGE}0099", OTHER_VILLAGE)
    assert next_household_number(VILLAGE) == f"{VILLAGE}0013"
    html = clerk_client.get(reverse("registry:household_split", args=[home.pk])).content.decode()
    assert f'value="{VILLAGE}0013"' in html
    html = clerk_client.get(reverse("registry:household_create")).content.decode()
    assert f'value="{VILLAGE}0013"' in html


def test_merge_target_must_be_inside_jurisdiction(clerk_client, home, users):
    make_household("H-XH-101", OTHER_VILLAGE)
    response = clerk_client.post(
        reverse("registry:household_merge", args=[home.pk]), {"target_number": "H-XH-101", "on": "2025-05-01"}
    )
    assert "在您的管辖范围内没有这个户编号的在册农户" in response.content.decode()


def _edit_urls(home) -> list[str]:
    member = home.members.get(is_head=True)
    return [
        reverse("registry:household_edit", args=[home.pk]),
        reverse("registry:member_add", args=[home.pk]),
        reverse("registry:member_edit", args=[home.pk, member.pk]),
        reverse("registry:member_remove", args=[home.pk, member.pk]),
        reverse("registry:head_change", args=[home.pk]),
        reverse("registry:household_split", args=[home.pk]),
        reverse("registry:household_merge", args=[home.pk]),
    ]


@pytest.mark.parametrize("who", ["neighbour_clerk", "other_village_clerk", "neighbour_station"])
def test_neighbour_gets_404_on_every_household_url(client, users, home, who):
    client.force_login(users[who])
    assert client.get(detail(home)).status_code == 404
    for url in _edit_urls(home):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url
    assert home.members.filter(status="active").count() == 3


def test_read_only_roles_cannot_edit(client, users, home):
    client.force_login(users["helper"])
    assert client.get(detail(home)).status_code == 200
    page = client.get(detail(home)).content.decode()
    assert "修改信息与收入" not in page
    for url in _edit_urls(home):
        assert client.get(url).status_code == 403, url
    # Anyone who may see the household may print it; the sheet says when and by whom.
    assert 'data-print data-testid="print"' in page and "打印时间" in page and "打印人" in page


# --- 联系电话: set, kept, cleared on the web, never shown whole ------------------------------------------------


def test_household_phone_is_set_kept_and_cleared_without_ever_showing_it_whole(clerk_client, home):
    url = reverse("registry:household_edit", args=[home.pk])
    page = clerk_client.get(url).content.decode()
    assert "尚未登记" in page and "清除已登记的联系电话" not in page  # nothing to clear yet

    response = clerk_client.post(url, household_data(home, phone=" 189 1234 2164 "))
    assert response.status_code == 302
    home.refresh_from_db()
    assert home.phone == "18912342164"  # the blanks people type are dropped
    event = AuditEvent.objects.filter(action="household.updated").latest("pk")
    assert event.after["phone"] == "***" and event.before["phone"] in ("", None)
    history = clerk_client.get(detail(home)).content.decode()
    assert "联系电话" in history and "18912342164" not in history

    # The form shows the number masked in its help and leaves the field empty; empty keeps the number.
    page = clerk_client.get(url).content.decode()
    assert "已登记 189****2164" in page and "18912342164" not in page
    assert clerk_client.post(url, household_data(home, wage_income="13000")).status_code == 302
    home.refresh_from_db()
    assert home.phone == "18912342164" and home.wage_income == Decimal("13000")
    assert "phone" not in AuditEvent.objects.filter(action="household.updated").latest("pk").after

    # A new number and 清除 together are refused; 清除 alone empties it.
    response = clerk_client.post(url, household_data(home, phone="0551-1234567", phone_clear="on"))
    assert response.status_code == 200 and "已填写新的联系电话，不能同时清除" in response.content.decode()
    assert clerk_client.post(url, household_data(home, phone_clear="on")).status_code == 302
    home.refresh_from_db()
    assert home.phone == ""
    event = AuditEvent.objects.filter(action="household.updated").latest("pk")
    assert event.before["phone"] == "***" and event.after["phone"] == ""


@pytest.mark.parametrize("value", ["1891234abcd", "电话", "12", "+-1234"])
def test_a_bad_phone_is_refused_in_the_import_templates_wording(clerk_client, home, value):
    response = clerk_client.post(
        reverse("registry:household_edit", args=[home.pk]), household_data(home, phone=value)
    )
    assert response.status_code == 200
    assert "联系电话格式不正确（应为数字，可含“-”）" in response.content.decode()
    home.refresh_from_db()
    assert home.phone == "" and not AuditEvent.objects.filter(action="household.updated").exists()


def test_member_phone_on_edit_and_add(clerk_client, home):
    son = home.members.get(name="陈磊")
    url = reverse("registry:member_edit", args=[home.pk, son.pk])
    data = {"name": "陈磊", "relation": "之子"}
    assert clerk_client.post(url, {**data, "phone": "13800001111"}).status_code == 302
    son.refresh_from_db()
    assert son.phone == "13800001111"
    page = clerk_client.get(url).content.decode()
    assert "已登记 138****1111" in page and "13800001111" not in page
    assert clerk_client.post(url, data).status_code == 302  # empty keeps it
    son.refresh_from_db()
    assert son.phone == "13800001111"
    assert clerk_client.post(url, {**data, "phone_clear": "on"}).status_code == 302
    son.refresh_from_db()
    assert son.phone == ""

    add = reverse("registry:member_add", args=[home.pk])
    new = {
        "name": "陈小花",
        "id_number": make_id(date(2000, 6, 1), female=True),
        "relation": "之儿媳",
        "reason": "婚入",
        "on": "2025-06-01",
        "phone": "139-0000-2222",
    }
    assert "成员本人电话，可不填" in clerk_client.get(add).content.decode()
    assert clerk_client.post(add, new).status_code == 302
    assert home.members.get(name="陈小花").phone == "139-0000-2222"


# --- two people editing the same record: the second save does not silently undo the first -----------------------


def _seen(page: str) -> str:
    import re

    return re.search(r'name="seen" value="([0-9a-f]+)"', page).group(1)


def test_a_household_form_opened_before_someone_elses_save_is_refused_not_applied(clerk_client, home, users):
    from fangfan.registry import services

    url = reverse("registry:household_edit", args=[home.pk])
    seen = _seen(clerk_client.get(url).content.decode())
    # Meanwhile the town station corrects the wage income.
    services.household_update(
        household=home, actor=users["town_station"], data={"wage_income": Decimal("15000")}
    )

    response = clerk_client.post(
        url, household_data(home, wage_income="12000", business_income="0", seen=seen)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "此户信息在您打开表单之后已被他人修改，您填写的内容没有保存" in page
    assert 'value="15000.00"' in page  # the form now shows what is stored
    home.refresh_from_db()
    assert home.wage_income == Decimal("15000") and home.business_income == Decimal("3000")
    assert AuditEvent.objects.filter(action="household.updated").count() == 1  # the station's only

    # Filled again from the page just shown, it saves.
    response = clerk_client.post(url, household_data(home, wage_income="16000", seen=_seen(page)))
    assert response.status_code == 302
    home.refresh_from_db()
    assert home.wage_income == Decimal("16000")


def test_a_member_form_opened_before_someone_elses_save_is_refused_not_applied(clerk_client, home, users):
    from fangfan.registry import services

    son = home.members.get(name="陈磊")
    url = reverse("registry:member_edit", args=[home.pk, son.pk])
    seen = _seen(clerk_client.get(url).content.decode())
    services.member_update(member=son, actor=users["town_station"], data={"labour_skill": "技能劳动力"})

    response = clerk_client.post(
        url, {"name": "陈磊", "relation": "之子", "health": ["患有大病"], "seen": seen}
    )
    assert response.status_code == 200
    assert "成员 陈磊 的信息在您打开表单之后已被他人修改" in response.content.decode()
    son.refresh_from_db()
    assert son.labour_skill == "技能劳动力" and not son.serious_illness


def test_a_change_elsewhere_in_the_household_does_not_block_a_member_form(clerk_client, home, users):
    """Only the record the form shows counts: the household's income changing does not refuse a member's form."""
    from fangfan.registry import services

    son = home.members.get(name="陈磊")
    url = reverse("registry:member_edit", args=[home.pk, son.pk])
    seen = _seen(clerk_client.get(url).content.decode())
    services.household_update(household=home, actor=users["town_station"], data={"wage_income": Decimal("1")})
    response = clerk_client.post(
        url, {"name": "陈磊", "relation": "之子", "health": ["患有大病"], "seen": seen}
    )
    assert response.status_code == 302
    son.refresh_from_db()
    assert son.serious_illness


def test_removing_the_last_member_on_the_web_says_the_household_is_cancelled(clerk_client, users):
    alone = make_household("H-DF-109", VILLAGE, members=[("孤寡老人", date(1938, 5, 5), "户主")])
    member = alone.members.get()
    url = reverse("registry:member_remove", args=[alone.pk, member.pk])
    assert "这是本户最后一名在册成员：减少后本户将注销" in clerk_client.get(url).content.decode()
    response = clerk_client.post(url, {"reason": "死亡", "on": "2025-08-01"}, follow=True)
    page = response.content.decode()
    assert "本户已无在册成员，已注销" in page and "已注销" in page
    assert "本户已注销：整户减少（最后一名在册成员死亡）" in page
    alone.refresh_from_db()
    assert alone.cancelled
    # Gone from the list, still found among the cancelled.
    listed = clerk_client.get(reverse("registry:household_list")).content.decode()
    assert "H-DF-109" not in listed
    assert (
        "H-DF-109" in clerk_client.get(reverse("registry:household_list") + "?cancelled=1").content.decode()
    )
    # A member who is not the last is removed without that notice.
    home = make_household(
        "H-DF-110", VILLAGE, members=[("甲", date(1960, 1, 1), "户主"), ("乙", date(1990, 1, 1), "之子")]
    )
    son = home.members.get(name="乙")
    page = clerk_client.get(reverse("registry:member_remove", args=[home.pk, son.pk])).content.decode()
    assert "最后一名在册成员" not in page


# --- a new household on the web ------------------------------------------------------------------------------------


def create_data(**overrides) -> dict:
    data = {
        "number": "3415231042019901",
        "village": VILLAGE,
        "head_name": "周新户",
        "head_id_number": make_id(date(1975, 4, 4)),
        "reason": "迁入",
        "on": "2025-09-01",
        "household_type": "general",
        "exit_year": "",
        "grade": "",
        "phone": "",
        "wage_income": "24000",
        "business_income": "0",
        "business_expense": "0",
        "property_income": "0",
        "transfer_income": "0",
        "compliant_self_paid": "0",
        "food_clothing_secure": "1",
        "housing_grade": "",
        "water_safe": "",
        "note": "",
    }
    data.update(overrides)
    return data


def test_a_clerk_registers_a_new_household_and_finds_it_in_the_list(clerk_client, users):
    listing = clerk_client.get(reverse("registry:household_list")).content.decode()
    assert 'data-testid="create-household"' in listing
    url = reverse("registry:household_create")
    page = clerk_client.get(url).content.decode()
    assert "新建农户" in page and "户主证件号码" in page and 'name="seen"' not in page
    assert f'<option value="{VILLAGE}" selected>' in page  # the clerk's only village, chosen already
    assert OTHER_VILLAGE not in page

    response = clerk_client.post(url, create_data(phone="13912345678"))
    new = Household.objects.get(number="3415231042019901")
    assert response.status_code == 302 and response["Location"] == detail(new)
    assert new.size == 1 and new.head_name == "周新户" and new.phone == "13912345678"
    assert new.per_capita_income == Decimal("24000.00") and new.food_clothing_secure is True
    assert AuditEvent.objects.filter(action="household.created").count() == 1
    page = clerk_client.get(detail(new)).content.decode()
    assert "已建立农户档案 3415231042019901" in page and "建立农户档案" in page
    listing = clerk_client.get(reverse("registry:household_list")).content.decode()
    assert "3415231042019901" in listing


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"number": "H-DF-101"}, "户编号 H-DF-101 已被占用，请换一个"),
        ({"number": "34 15"}, "户编号不能含有空格或控制字符"),
        ({"village": OTHER_VILLAGE}, "选择一个有效的选项"),
        ({"head_id_number": "341523197504041234"}, "证件号码无效"),
        ({"head_name": ""}, "请填写此项"),
        ({"household_type": "exited"}, "脱贫户须填写脱贫年度"),
        ({"wage_income": "-5"}, "金额不能为负数"),
        ({"on": "2999-01-01"}, "日期不能晚于今天"),
    ],
)
def test_a_new_household_form_refuses_bad_input_in_chinese(clerk_client, home, overrides, message):
    response = clerk_client.post(reverse("registry:household_create"), create_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="household.created").exists()


def test_a_new_households_head_id_must_not_be_registered_anywhere(clerk_client, home):
    taken = home.members.get(name="陈磊").id_number
    response = clerk_client.post(reverse("registry:household_create"), create_data(head_id_number=taken))
    assert "该证件号码已在系统中登记" in response.content.decode()
    assert not Household.objects.filter(number="3415231042019901").exists()


def test_a_town_station_picks_the_village(client, users):
    client.force_login(users["town_station"])
    page = client.get(reverse("registry:household_create")).content.decode()
    assert f'<option value="{VILLAGE}">' in page and f'<option value="{OTHER_VILLAGE}">' in page
    response = client.post(reverse("registry:household_create"), create_data(village=OTHER_VILLAGE))
    assert response.status_code == 302
    assert Household.objects.get(number="3415231042019901").region_id == OTHER_VILLAGE


def test_read_only_roles_cannot_register_households(client, users):
    client.force_login(users["helper"])
    assert client.get(reverse("registry:household_create")).status_code == 403
    assert (
        'data-testid="create-household"'
        not in client.get(reverse("registry:household_list")).content.decode()
    )


def test_turning_an_exited_household_general_on_the_web_follows_the_importers_rules(clerk_client, home):
    """registry.rules, one for every writer: the importer refuses a 一般农户 with a 脱贫年度 and keeps no 脱贫户分类
    for it; the edit form did neither (it saved 一般农户 with the old year and class)."""
    Household.objects.filter(pk=home.pk).update(
        household_type="exited", exit_year=2016, exited_class="enjoying"
    )
    home.refresh_from_db()
    url = reverse("registry:household_edit", args=[home.pk])
    response = clerk_client.post(url, household_data(home, household_type="general"))
    assert response.status_code == 200 and "一般农户不填写脱贫年度" in response.content.decode()
    home.refresh_from_db()
    assert (home.household_type, home.exit_year, home.exited_class) == ("exited", 2016, "enjoying")

    response = clerk_client.post(url, household_data(home, household_type="general", exit_year=""))
    assert response.status_code == 302
    home.refresh_from_db()
    assert (home.household_type, home.exit_year, home.exited_class) == ("general", None, "")
