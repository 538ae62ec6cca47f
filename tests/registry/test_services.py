"""Registry services (DOMAIN.md §1–2, §7–8; DATA-FORMATS §2): exactly one 户主 per household, an ID number exists
once in the system, a removed member keeps their history, split and merge, every change audited with sensitive
values masked, seeing an ID whole is audited, and nobody acts outside their jurisdiction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from registry_factory import make_household, make_id

from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent
from fangfan.registry import services
from fangfan.registry.models import CompositionChange, Household, Member

VILLAGE = "341523104201"
OTHER_VILLAGE = "341523104202"
NEIGHBOUR_VILLAGE = "341523105201"
DAY = date(2025, 6, 1)


@pytest.fixture
def clerk(users):
    return users["village_clerk"]


@pytest.fixture
def home(users):
    return make_household(
        "H-S-001",
        VILLAGE,
        members=[
            ("赵铁柱", date(1958, 1, 1), "户主"),
            ("孙梅", date(1960, 2, 2), "配偶", {"female": True}),
            ("赵强", date(1985, 3, 3), "之子"),
        ],
        income={
            "wage_income": Decimal("10000"),
            "business_income": Decimal("6000"),
            "business_expense": Decimal("2000"),
            "property_income": Decimal("500"),
            "transfer_income": Decimal("1500"),
        },
    )


def events(action: str):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- income ------------------------------------------------------------------------------------------------------


def test_national_income_formula_is_stored(home):
    """家庭纯收入 = 工资性 + 生产经营性收入 − 生产经营性支出 + 财产性 + 转移性; 年人均纯收入 = 家庭纯收入 ÷ 家庭人口."""
    assert home.net_income == Decimal("16000.00")
    assert home.size == 3
    assert home.per_capita_income == Decimal("5333.33")
    # Stored, so the list filters and sorts on it in SQL.
    assert list(Household.objects.filter(per_capita_income__gt=5000)) == [home]


def test_household_update_recomputes_and_audits_changes_only(home, clerk):
    services.household_update(household=home, actor=clerk, data={"wage_income": Decimal("1000")}, note="核实")
    home.refresh_from_db()
    assert home.per_capita_income == Decimal("2333.33")
    (event,) = events("household.updated")
    assert set(event.after) == {"wage_income", "per_capita_income"}
    assert event.before["per_capita_income"] == "5333.33" and event.after["per_capita_income"] == "2333.33"
    assert event.actor_username == clerk.username and event.region_code == VILLAGE
    # Saving the same values again records nothing.
    services.household_update(household=home, actor=clerk, data={"wage_income": Decimal("1000")})
    assert len(events("household.updated")) == 1


def test_household_update_refuses_official_fields(home, clerk):
    with pytest.raises(DomainError, match="不可修改的字段"):
        services.household_update(household=home, actor=clerk, data={"exited_class": "monitored"})


def test_exited_household_needs_exit_year(home, clerk):
    with pytest.raises(DomainError, match="脱贫户须填写脱贫年度"):
        services.household_update(household=home, actor=clerk, data={"household_type": "exited"})


def test_phones_are_checked_by_the_services_too(home, clerk):
    """A caller other than the web form (a script, a later API) gets the import template's rule and wording."""
    with pytest.raises(DomainError, match="联系电话格式不正确"):
        services.household_update(household=home, actor=clerk, data={"phone": "call me"})
    son = home.members.get(name="赵强")
    with pytest.raises(DomainError, match="联系电话格式不正确"):
        services.member_update(member=son, actor=clerk, data={"phone": "12"})
    data = {"name": "赵小花", "id_number": make_id(date(2024, 6, 1), female=True), "relation": "之孙女"}
    with pytest.raises(DomainError, match="联系电话格式不正确"):
        services.member_add(household=home, actor=clerk, data={**data, "phone": "x"}, reason="出生", on=DAY)
    assert not events("household.updated") + events("member.updated") + events("member.added")
    assert not home.members.filter(name="赵小花").exists()
    services.household_update(household=home, actor=clerk, data={"phone": "0551 1234 5678"})
    home.refresh_from_db()
    assert home.phone == "055112345678"
    (event,) = events("household.updated")
    assert event.after["phone"] == "***"


# --- members -----------------------------------------------------------------------------------------------------


def test_member_update_masks_disability_assistance_and_the_note(home, clerk):
    son = home.members.get(name="赵强")
    data = {"disability_category": "肢体", "disability_grade": "二级", "dibao": True, "tekun": True}
    services.member_update(member=son, actor=clerk, data=data, note="入户核实")
    (event,) = events("member.updated")
    assert event.after == dict.fromkeys(data, "***")
    blob = str(event.before) + str(event.after)
    assert "肢体" not in blob and "二级" not in blob and "True" not in blob
    # The change's explanation stays readable: the household's 变更记录 shows it, and it is kept nowhere else.
    assert event.note == "入户核实"


def test_member_update_masks_name_in_audit(home, clerk):
    son = home.members.get(name="赵强")
    services.member_update(member=son, actor=clerk, data={"name": "赵小强", "health": "残疾"})
    son.refresh_from_db()
    assert son.name_initials == "zxq" and son.disabled
    (event,) = events("member.updated")
    assert event.before == {"name": "***", "health": ""} and event.after == {"name": "***", "health": "***"}
    assert "赵" not in str(event.before) + str(event.after) + event.object_label


def test_member_update_cannot_make_a_second_head(home, clerk):
    son = home.members.get(name="赵强")
    with pytest.raises(DomainError, match="变更户主"):
        services.member_update(member=son, actor=clerk, data={"relation": "户主"})


def test_exactly_one_head_is_enforced_by_the_database(home):
    son = home.members.get(name="赵强")
    son.is_head = True
    with pytest.raises(IntegrityError), transaction.atomic():
        son.save()


def test_member_add_and_id_exists_once_in_the_system(home, clerk, users):
    baby_id = make_id(date(2025, 1, 5))
    member = services.member_add(
        household=home,
        actor=clerk,
        data={"name": "赵宝", "id_number": baby_id, "relation": "之孙子"},
        reason="出生",
        on=DAY,
    )
    assert member.birth_date == date(2025, 1, 5) and member.sex == "男" and member.id_masked != baby_id
    home.refresh_from_db()
    assert home.size == 4
    change = CompositionChange.objects.get(kind="add")
    assert change.member == member and change.reason == "出生" and change.actor == clerk
    (event,) = events("member.added")
    assert event.after == {"reason": "出生", "date": "2025-06-01"}
    # The same person cannot be added to another household — anywhere in the system.
    other = make_household("H-S-002", OTHER_VILLAGE)
    with pytest.raises(DomainError, match="该证件号码已在系统中登记"):
        services.member_add(
            household=other,
            actor=users["town_station"],
            data={"name": "赵宝", "id_number": baby_id.lower(), "relation": "之子"},
            reason="迁入",
            on=DAY,
        )
    # A 15-digit legacy form of an existing number is the same person too.
    head = home.members.get(is_head=True)
    id15 = head.id_number[:6] + head.id_number[8:17]
    with pytest.raises(DomainError, match="已在系统中登记"):
        services.member_add(
            household=other,
            actor=users["town_station"],
            data={"name": "甲", "id_number": id15},
            reason="迁入",
            on=DAY,
        )


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        ({"name": "甲", "id_number": "123", "relation": "之子"}, "出生", "证件号码无效"),
        ({"name": "甲", "id_number": "", "relation": "户主"}, "出生", "不能直接作为户主"),
        ({"name": "甲", "id_number": "", "relation": "之子"}, "捡到", "增加原因应为"),
    ],
)
def test_member_add_refusals(home, clerk, data, reason, message):
    with pytest.raises(DomainError, match=message):
        services.member_add(household=home, actor=clerk, data=dict(data), reason=reason, on=DAY)
    assert home.members.count() == 3


def test_member_add_with_disability_card_number(home, clerk):
    card = make_id(date(1990, 1, 1)) + "42"
    member = services.member_add(
        household=home,
        actor=clerk,
        data={"name": "赵残", "id_number": card, "relation": "之子"},
        reason="迁入",
        on=DAY,
    )
    assert member.disabled and member.disability_category == "肢体" and member.disability_grade == "二级"


def test_member_remove_keeps_the_row_and_its_history(home, clerk):
    son = home.members.get(name="赵强")
    services.member_remove(member=son, actor=clerk, reason="婚出", on=DAY)
    son.refresh_from_db()
    assert son.status == Member.Status.REMOVED and son.left_reason == "婚出" and son.left_date == DAY
    home.refresh_from_db()
    assert home.size == 2 and home.per_capita_income == Decimal("8000.00")
    assert CompositionChange.objects.filter(kind="remove", member=son).exists()
    with pytest.raises(DomainError, match="该成员已减少"):
        services.member_remove(member=son, actor=clerk, reason="婚出", on=DAY)
    with pytest.raises(DomainError, match="减少原因应为"):
        services.member_remove(member=home.members.get(name="孙梅"), actor=clerk, reason="失踪", on=DAY)


def test_head_cannot_be_removed_while_others_remain(home, clerk):
    head = home.members.get(is_head=True)
    with pytest.raises(DomainError, match="户主不能直接减少"):
        services.member_remove(member=head, actor=clerk, reason="死亡", on=DAY)


def test_head_change_keeps_exactly_one_head(home, clerk):
    head = home.members.get(is_head=True)
    son = home.members.get(name="赵强")
    services.head_change(household=home, new_head=son, actor=clerk, on=DAY, old_head_relation="之父")
    assert list(home.members.filter(is_head=True, status="active")) == [son]
    head.refresh_from_db()
    assert head.relation == "之父"
    home.refresh_from_db()
    assert home.head_name == "赵强" and home.head_initials == "zq"
    (event,) = events("household.head_changed")
    assert event.after["new_head"] == son.id_masked and son.id_number not in str(event.after)
    # After the old head is removed (death) the household still has one head.
    services.member_remove(member=head, actor=clerk, reason="死亡", on=DAY)
    assert home.members.filter(is_head=True, status="active").count() == 1


def test_head_change_needs_an_active_member_of_the_household(home, clerk):
    other = make_household("H-S-003", VILLAGE)
    with pytest.raises(DomainError, match="新户主须是本户在册成员"):
        services.head_change(household=home, new_head=other.members.get(), actor=clerk, on=DAY)


def test_split(home, clerk):
    son = home.members.get(name="赵强")
    new = services.household_split(household=home, members=[son], new_number="H-S-001-1", actor=clerk, on=DAY)
    assert new.region_id == VILLAGE and new.size == 1 and new.head_name == "赵强"
    son.refresh_from_db()
    assert son.household == new and son.is_head and son.relation == "户主"
    home.refresh_from_db()
    assert home.size == 2
    assert CompositionChange.objects.filter(kind="split", household=home, other_household=new).count() == 1
    assert [e.object_label for e in events("household.created")] == ["户 H-S-001-1"]
    assert len(events("household.split")) == 1


def test_split_taking_the_head_gives_the_old_household_the_head_named(home, clerk):
    head = home.members.get(is_head=True)
    son = home.members.get(name="赵强")
    with pytest.raises(DomainError, match="户主随新户分出，请选择原户的新户主"):
        services.household_split(household=home, members=[head], new_number="H-S-001-2", actor=clerk, on=DAY)
    with pytest.raises(DomainError, match="原户的新户主须是留在原户的在册成员"):
        services.household_split(
            household=home,
            members=[head, son],
            new_number="H-S-001-2",
            actor=clerk,
            on=DAY,
            remaining_head=son,
        )
    assert not Household.objects.filter(number="H-S-001-2").exists()  # nothing half-written
    services.household_split(
        household=home, members=[head], new_number="H-S-001-2", actor=clerk, on=DAY, remaining_head=son
    )
    son.refresh_from_db()
    assert list(home.members.filter(is_head=True, status="active")) == [son] and son.relation == "户主"
    home.refresh_from_db()
    assert home.head_name == "赵强"


@pytest.mark.parametrize(
    ("pick", "number", "message"),
    [
        ("none", "H-S-009", "请选择要分出的成员"),
        ("all", "H-S-009", "分户后原户不能没有成员"),
        ("one", "H-S-001", "已被占用"),
    ],
)
def test_split_refusals(home, clerk, pick, number, message):
    members = {"none": [], "all": list(home.members.all()), "one": [home.members.get(name="赵强")]}[pick]
    with pytest.raises(DomainError, match=message):
        services.household_split(household=home, members=members, new_number=number, actor=clerk, on=DAY)


def test_merge(home, clerk):
    other = make_household("H-S-004", VILLAGE, members=[("钱多", date(1990, 1, 1), "户主")])
    services.household_merge(source=other, target=home, actor=clerk, on=DAY)
    other.refresh_from_db()
    home.refresh_from_db()
    assert other.cancelled and other.cancelled_reason == "并入 H-S-001" and other.size == 0
    assert home.size == 4 and home.members.filter(is_head=True, status="active").count() == 1
    moved = Member.objects.get(name="钱多")
    assert moved.household == home and moved.relation == "其他"
    assert CompositionChange.objects.filter(kind="merge", other_household=other).count() == 1
    with pytest.raises(DomainError, match="不能与自身合户"):
        services.household_merge(source=home, target=home, actor=clerk, on=DAY)
    with pytest.raises(DomainError, match="已注销的农户不能合户"):
        services.household_merge(source=other, target=home, actor=clerk, on=DAY)


# --- seeing an ID whole, jurisdiction ----------------------------------------------------------------------------


def test_reveal_id_is_audited(home, users):
    member = home.members.get(is_head=True)
    station = users["town_station"]
    assert services.member_reveal_id(member=member, actor=station) == member.id_number
    (event,) = events("member.id_viewed")
    assert event.actor_username == station.username and event.object_id == str(member.pk)
    assert member.id_number not in event.object_label
    with pytest.raises(DomainError, match="无权"):
        services.member_reveal_id(member=member, actor=users["village_clerk"])  # no household.view_id
    with pytest.raises(DomainError, match="管辖范围"):
        services.member_reveal_id(member=member, actor=users["neighbour_station"])
    assert len(events("member.id_viewed")) == 1


@pytest.mark.parametrize("who", ["other_village_clerk", "neighbour_station", "helper"])
def test_no_service_acts_outside_jurisdiction_or_role(home, users, who):
    actor = users[who]
    member = home.members.get(name="赵强")
    calls = [
        lambda: services.household_update(household=home, actor=actor, data={"wage_income": Decimal(1)}),
        lambda: services.member_update(member=member, actor=actor, data={"migrant_months": 3}),
        lambda: services.member_add(
            household=home,
            actor=actor,
            data={"name": "甲", "id_number": make_id(date(2001, 1, 1))},
            reason="出生",
            on=DAY,
        ),
        lambda: services.member_remove(member=member, actor=actor, reason="迁出", on=DAY),
        lambda: services.head_change(household=home, new_head=member, actor=actor, on=DAY),
        lambda: services.household_split(
            household=home, members=[member], new_number="X-1", actor=actor, on=DAY
        ),
        lambda: services.household_merge(source=home, target=home, actor=actor, on=DAY),
    ]
    for call in calls:
        with pytest.raises(DomainError):
            call()
    home.refresh_from_db()
    assert home.size == 3 and not AuditEvent.objects.exclude(action__startswith="region").exists()


def test_an_update_from_a_stale_form_is_refused(home, clerk, users):
    seen = services.edit_version(home)
    services.household_update(household=home, actor=users["town_station"], data={"grade": "三类"})
    stale = Household.objects.get(pk=home.pk)
    with pytest.raises(services.StaleEdit, match="已被他人修改"):
        services.household_update(household=stale, actor=clerk, data={"grade": "一类"}, seen=seen)
    stale.refresh_from_db()
    assert stale.grade == "三类"
    # The version is that of the form's values: a recompute alone (derived figures) does not move it.
    fresh = services.edit_version(stale)
    services.household_recompute(stale)
    assert services.edit_version(stale) == fresh
    services.household_update(household=stale, actor=clerk, data={"grade": "一类"}, seen=fresh)
    # No version given (a script, the importer): no check.
    services.household_update(household=stale, actor=clerk, data={"grade": "二类"})
    stale.refresh_from_db()
    assert stale.grade == "二类"


def test_removing_the_last_member_cancels_the_household(clerk, users):
    """整户消亡 / 整户迁出: the household leaves the register (lists, counts, screening) and keeps its file."""
    alone = make_household("H-S-009", VILLAGE, members=[("钱老汉", date(1940, 1, 1), "户主")])
    services.member_remove(member=alone.members.get(), actor=clerk, reason="死亡", on=DAY)
    alone.refresh_from_db()
    assert alone.cancelled and alone.cancelled_reason == "整户减少（最后一名在册成员死亡）"
    assert alone.size == 0 and alone.members.count() == 1  # the member's row stays, marked 已减少
    (event,) = events("household.cancelled")
    assert event.after == {"reason": "整户减少（最后一名在册成员死亡）", "date": "2025-06-01"}
    other = make_household("H-S-010", VILLAGE, members=[("李某", date(1950, 1, 1), "户主")])
    services.member_remove(member=other.members.get(), actor=clerk, reason="其他", on=DAY)
    other.refresh_from_db()
    assert other.cancelled_reason == "整户减少（最后一名在册成员因其他原因减少）"


def test_removing_a_member_who_is_not_the_last_leaves_the_household_in_the_register(home, clerk):
    services.member_remove(member=home.members.get(name="赵强"), actor=clerk, reason="迁出", on=DAY)
    home.refresh_from_db()
    assert not home.cancelled and not events("household.cancelled")


# --- a new household ---------------------------------------------------------------------------------------------


def _create(actor, **overrides):
    values = {
        "actor": actor,
        "region_code": VILLAGE,
        "number": "H-S-NEW",
        "data": {"household_type": "general", "wage_income": Decimal("18000")},
        "head": {"name": "周新户", "id_number": make_id(date(1975, 4, 4))},
        "reason": "迁入",
        "on": DAY,
    }
    values.update(overrides)
    return services.household_create(**values)


def test_household_create_registers_the_household_and_its_head(clerk):
    household = _create(clerk)
    assert household.region_id == VILLAGE and household.size == 1 and household.head_name == "周新户"
    assert household.per_capita_income == Decimal("18000.00")
    head = household.members.get()
    assert (
        head.is_head
        and head.relation == "户主"
        and head.joined_reason == "迁入"
        and head.name_initials == "zxh"
    )
    assert CompositionChange.objects.filter(household=household, kind="add", reason="迁入").exists()
    (created,) = events("household.created")
    assert created.after == {"reason": "迁入", "date": "2025-06-01"}
    (added,) = events("member.added")
    assert "周" not in str(added.after) + added.object_label


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"number": "H-S-001"}, "户编号 H-S-001 已被占用，请换一个"),
        ({"number": "H S 2"}, "户编号不能含有空格或控制字符"),
        ({"region_code": NEIGHBOUR_VILLAGE}, "该村不在您的管辖范围内"),
        ({"data": {"household_type": "exited"}}, "脱贫户须填写脱贫年度"),
        ({"data": {"exited_class": "enjoying"}}, "不可填写的字段"),
        ({"reason": "出差"}, "增加原因应为"),
    ],
)
def test_household_create_refusals(home, clerk, overrides, message):
    with pytest.raises(DomainError, match=message):
        _create(clerk, **overrides)
    assert (
        not Household.objects.filter(number=overrides.get("number", "H-S-NEW")).exclude(pk=home.pk).exists()
    )
    assert not events("household.created")


def test_household_create_refuses_an_id_number_already_in_the_system(home, clerk):
    taken = home.members.get(name="赵强").id_number
    with pytest.raises(DomainError, match="该证件号码已在系统中登记"):
        _create(clerk, head={"name": "冒名", "id_number": taken})
    assert not Household.objects.filter(number="H-S-NEW").exists()


def test_household_create_needs_a_village(users):
    with pytest.raises(DomainError, match="请选择农户所在的村"):
        _create(users["town_station"], region_code="341523104000")  # the town's own code


def test_household_create_needs_the_edit_permission(users):
    with pytest.raises(DomainError, match="无权"):
        _create(users["helper"])
