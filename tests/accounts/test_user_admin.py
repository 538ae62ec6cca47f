"""User administration by the system administrator: services (rules of 三员分立, jurisdiction, levels) and pages."""

from __future__ import annotations

import pytest
from conftest import COUNTY, NEIGHBOUR_TOWN, NEIGHBOUR_VILLAGE, PASSWORD, TOWN, VILLAGE
from django.urls import reverse

from fangfan.accounts import services
from fangfan.accounts.models import User
from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent
from fangfan.regions.models import Region

GOOD = "Qiaocun#2026x"

# These tests check the production hasher (Argon2): not the suite's fast MD5 (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.argon2]


def _create(actor, **overrides):
    values = {
        "actor": actor,
        "username": "wangcun",
        "password": GOOD,
        "role": "village_clerk",
        "region": Region.objects.get(code=VILLAGE),
        "full_name": "王村",
    }
    values.update(overrides)
    return services.user_create(**values)


# --- services -----------------------------------------------------------------------------------------------


def test_user_create_stores_argon2_and_audits_without_password(users):
    user = _create(users["sys_admin"], phone="13800000000")
    assert user.password.startswith("argon2")
    assert user.check_password(GOOD)
    assert user.password_changed_at is not None
    event = AuditEvent.objects.filter(action="user.created").latest("id")
    assert event.actor_id == users["sys_admin"].pk
    assert event.region_code == VILLAGE
    assert event.after["role"] == "village_clerk"
    assert event.after["phone"] == "***"  # sensitive, masked
    assert GOOD not in str(event.after) and "argon2" not in str(event.after)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Ab1!", "太短"),
        ("abcdefghijk123", "三类"),  # lower + digits only
        ("1234567890123", "只包含数字"),
        ("Password123", "太常见"),
    ],
)
def test_password_complexity_is_enforced(users, password, reason):
    """等保 2.0 口令复杂度：长度、字符类别、常见口令、纯数字。"""
    with pytest.raises(DomainError) as exc:
        _create(users["sys_admin"], password=password)
    assert "密码不符合要求" in exc.value.message
    assert reason in exc.value.message
    assert not User.objects.filter(username="wangcun").exists()


def test_only_sys_admin_manages_users(users):
    for who in ("sec_admin", "audit_admin", "town_station", "county_review"):
        with pytest.raises(DomainError, match="只有系统管理员"):
            _create(users[who])


def test_role_must_fit_region_level(users):
    with pytest.raises(DomainError, match="只能绑定到"):
        _create(users["sys_admin"], role="village_clerk", region=Region.objects.get(code=TOWN))
    with pytest.raises(DomainError, match="只能绑定到"):
        _create(users["sys_admin"], role="town_station", region=Region.objects.get(code=VILLAGE))
    user = _create(users["sys_admin"], role="town_station", region=Region.objects.get(code=TOWN))
    assert user.role == "town_station"


def test_department_role_needs_department_and_others_drop_it(users):
    with pytest.raises(DomainError, match="必须选择所属部门"):
        _create(users["sys_admin"], role="department", region=Region.objects.get(code=TOWN))
    dept = _create(
        users["sys_admin"], role="department", department="civil", region=Region.objects.get(code=TOWN)
    )
    assert dept.department == "civil"
    clerk = _create(users["sys_admin"], username="li", department="civil")
    assert clerk.department == ""


def test_region_must_be_inside_admin_jurisdiction(users, make_user):
    town_admin = make_user("sys_admin", TOWN, username="town-admin")
    with pytest.raises(DomainError, match="不在您的管辖范围内"):
        _create(town_admin, region=Region.objects.get(code=NEIGHBOUR_VILLAGE))
    with pytest.raises(DomainError, match="不在您的管辖范围内"):
        _create(town_admin, role="county_review", region=Region.objects.get(code=COUNTY))
    assert _create(town_admin).region_id == VILLAGE


def test_username_unique_case_insensitive_and_system_role_refused(users):
    _create(users["sys_admin"])
    with pytest.raises(DomainError, match="已存在"):
        _create(users["sys_admin"], username="WangCun")
    with pytest.raises(DomainError, match="有效的角色"):
        _create(users["sys_admin"], username="x1", role="system")


def test_sys_admin_cannot_change_own_role_or_switch_self_off(users):
    """三员分立：系统管理员不能给自己换成安全管理员或审计管理员，也不能停用自己。"""
    admin = users["sys_admin"]
    county = Region.objects.get(code=COUNTY)
    with pytest.raises(DomainError, match="不能修改自己的角色"):
        services.user_update(actor=admin, user=admin, role="audit_admin", region=county, is_active=True)
    with pytest.raises(DomainError, match="不能停用自己"):
        services.user_update(actor=admin, user=admin, role="sys_admin", region=county, is_active=False)
    admin.refresh_from_db()
    assert admin.role == "sys_admin" and admin.is_active


def test_user_update_audits_only_changes(users):
    clerk = users["village_clerk"]
    services.user_update(
        actor=users["sys_admin"],
        user=clerk,
        role="helper",
        region=Region.objects.get(code=VILLAGE),
        is_active=False,
    )
    clerk.refresh_from_db()
    assert (clerk.role, clerk.is_active) == ("helper", False)
    event = AuditEvent.objects.filter(action="user.updated").latest("id")
    assert event.before == {"role": "village_clerk", "is_active": True}
    assert event.after == {"role": "helper", "is_active": False}


def test_user_update_outside_jurisdiction_refused(users, make_user):
    town_admin = make_user("sys_admin", TOWN, username="town-admin")
    with pytest.raises(DomainError, match="不在您的管辖范围内"):
        services.user_update(
            actor=town_admin,
            user=users["neighbour_clerk"],
            role="village_clerk",
            region=Region.objects.get(code=NEIGHBOUR_VILLAGE),
            is_active=False,
        )


def test_user_reset_password_by_security_admin(users):
    clerk = users["village_clerk"]
    with pytest.raises(DomainError, match="密码不符合要求"):
        services.user_reset_password(actor=users["sec_admin"], user=clerk, password="short")
    services.user_reset_password(actor=users["sec_admin"], user=clerk, password=GOOD)
    clerk.refresh_from_db()
    assert clerk.check_password(GOOD) and clerk.password.startswith("argon2")
    assert clerk.must_change_password
    event = AuditEvent.objects.filter(action="user.password_reset").latest("id")
    assert event.object_id == str(clerk.pk) and event.actor_id == users["sec_admin"].pk
    assert GOOD not in str(event.before) + str(event.after) + event.note


# --- pages --------------------------------------------------------------------------------------------------


def test_user_list_shows_exactly_the_jurisdiction(client, users, make_user):
    town_admin = make_user("sys_admin", TOWN, username="town-admin")
    client.force_login(town_admin)
    html = client.get(reverse("accounts:user_list")).content.decode()
    expected = User.objects.filter(region_id__gte="341523104000", region_id__lt="341523105000")
    for user in expected:
        assert user.username in html
    for outside in ("neighbour_station", "neighbour_clerk", "sys_admin", "county_review", "province_record"):
        assert f"<td>{users[outside].username}</td>" not in html
    assert f"共 {expected.count()} 条" in html
    # search cannot reach outside either
    html = client.get(
        reverse("accounts:user_list"), {"q": users["neighbour_clerk"].username}
    ).content.decode()
    assert "没有符合条件的账号" in html


def test_user_list_filters(client, users):
    client.force_login(users["sys_admin"])
    url = reverse("accounts:user_list")
    html = client.get(url, {"role": "town_station"}).content.decode()
    assert users["town_station"].username in html and users["neighbour_station"].username in html
    assert f"<td>{users['village_clerk'].username}</td>" not in html
    html = client.get(url, {"role": "town_station", "region": NEIGHBOUR_TOWN}).content.decode()
    assert users["neighbour_station"].username in html
    assert f"<td>{users['town_station'].username}</td>" not in html
    html = client.get(url, {"q": "village_clerk-3415231042"}).content.decode()
    assert users["village_clerk"].username in html and users["other_village_clerk"].username in html
    assert users["neighbour_clerk"].username not in html


def test_create_user_page(client, users):
    client.force_login(users["sys_admin"])
    url = reverse("accounts:user_create")
    assert "新建账号" in client.get(url).content.decode()
    data = {
        "username": "zhangsan",
        "full_name": "张三",
        "role": "village_clerk",
        "region": VILLAGE,
        "password1": GOOD,
        "password2": GOOD,
    }
    bad = client.post(url, {**data, "region": TOWN})
    assert bad.status_code == 200 and "只能绑定到" in bad.content.decode()
    mismatch = client.post(url, {**data, "password2": GOOD + "x"})
    assert "两次输入的密码不一致" in mismatch.content.decode()
    response = client.post(url, data)
    user = User.objects.get(username="zhangsan")
    assert response.status_code == 302 and response["Location"] == reverse(
        "accounts:user_edit", args=[user.pk]
    )
    assert user.password.startswith("argon2")


def test_region_dropdown_offers_only_the_jurisdiction(client, users, make_user):
    client.force_login(make_user("sys_admin", TOWN, username="town-admin"))
    html = client.get(reverse("accounts:user_create")).content.decode()
    assert f'value="{VILLAGE}"' in html
    assert f'value="{NEIGHBOUR_VILLAGE}"' not in html and f'value="{COUNTY}"' not in html


def test_edit_user_page(client, users):
    client.force_login(users["sys_admin"])
    clerk = users["village_clerk"]
    url = reverse("accounts:user_edit", args=[clerk.pk])
    assert clerk.username in client.get(url).content.decode()
    response = client.post(
        url,
        {"form": "account", "role": "village_clerk", "region": VILLAGE, "full_name": "改名", "is_active": ""},
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.full_name == "改名" and not clerk.is_active
    assert 'name="password1"' not in client.get(url).content.decode()  # resets are the security admin's


def test_edit_own_role_refused_on_page(client, users):
    admin = users["sys_admin"]
    client.force_login(admin)
    url = reverse("accounts:user_edit", args=[admin.pk])
    response = client.post(url, {"form": "account", "role": "sec_admin", "region": COUNTY, "is_active": "on"})
    assert response.status_code == 200
    assert "不能修改自己的角色" in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == "sys_admin"


def test_original_password_still_works_for_fixture_users(client, users):
    response = client.post(
        reverse("accounts:login"), {"username": users["town_station"].username, "password": PASSWORD}
    )
    assert response.status_code == 302
