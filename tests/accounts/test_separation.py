"""三员分立 and passwords: no administrator takes over another's account. Only the security administrator resets
a password — never their own nor another security administrator's — and the person must then choose a new one at
the next sign-in; the system administrator manages working accounts only; everybody changes their own password
with the old one."""

from __future__ import annotations

import pytest
from conftest import COUNTY, NEIGHBOUR_TOWN, PASSWORD, VILLAGE
from django.test import Client
from django.urls import reverse

from fangfan.accounts import services
from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent
from fangfan.regions.models import Region

pytestmark = pytest.mark.django_db
NEW = "Xinmima#2026q"
OTHER = "Linshi#2026pw"


def _reset(client, username, password=NEW):
    return client.post(
        reverse("accounts:security"),
        {"form": "password", "username": username, "password1": password, "password2": password},
    )


def test_sys_admin_cannot_reset_the_audit_admins_password_and_sign_in_as_them(client, users):
    """The attack: the system administrator reset the audit administrator's password and signed in as them."""
    sys_admin, audit_admin = users["sys_admin"], users["audit_admin"]
    client.force_login(sys_admin)
    url = reverse("accounts:user_edit", args=[audit_admin.pk])
    client.post(url, {"form": "password", "password1": NEW, "password2": NEW})
    assert _reset(client, audit_admin.username).status_code == 403
    with pytest.raises(DomainError, match="只有安全管理员"):
        services.user_reset_password(actor=sys_admin, user=audit_admin, password=NEW)
    audit_admin.refresh_from_db()
    assert audit_admin.check_password(PASSWORD) and not audit_admin.check_password(NEW)
    other = Client()
    assert (
        other.post(reverse("accounts:login"), {"username": audit_admin.username, "password": NEW}).status_code
        == 200
    )
    assert not AuditEvent.objects.filter(action="user.password_reset").exists()


def test_sys_admin_cannot_change_an_administrator_account_or_make_one(client, users):
    sys_admin, county = users["sys_admin"], Region.objects.get(code=COUNTY)
    for target in ("audit_admin", "sec_admin"):
        user = users[target]
        with pytest.raises(DomainError, match="管理员账号"):
            services.user_update(actor=sys_admin, user=user, role=user.role, region=county, is_active=False)
        user.refresh_from_db()
        assert user.is_active
    clerk = users["village_clerk"]
    with pytest.raises(DomainError, match="管理员角色"):
        services.user_update(actor=sys_admin, user=clerk, role="audit_admin", region=county, is_active=True)
    with pytest.raises(DomainError, match="管理员角色"):
        services.user_update(
            actor=sys_admin, user=users["audit_admin"], role="county_review", region=county, is_active=True
        )
    # Working accounts: still the system administrator's to change and switch off.
    services.user_update(
        actor=sys_admin, user=clerk, role="helper", region=Region.objects.get(code=VILLAGE), is_active=False
    )
    clerk.refresh_from_db()
    assert clerk.role == "helper" and not clerk.is_active
    client.force_login(sys_admin)
    page = client.post(
        reverse("accounts:user_edit", args=[users["audit_admin"].pk]),
        {"role": "audit_admin", "region": COUNTY, "full_name": "改名", "is_active": "on"},
    )
    assert page.status_code == 200 and "管理员账号" in page.content.decode()


def test_a_reset_by_the_security_admin_forces_a_change_at_the_next_sign_in(client, users):
    sec_admin, clerk = users["sec_admin"], users["village_clerk"]
    client.force_login(sec_admin)
    response = _reset(client, clerk.username)
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.must_change_password and clerk.check_password(NEW)

    person = Client()
    assert (
        person.post(reverse("accounts:login"), {"username": clerk.username, "password": NEW}).status_code
        == 302
    )
    for url in (reverse("home"), reverse("registry:household_list")):
        response = person.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("accounts:password_change")
    page = person.get(reverse("accounts:password_change"))
    assert page.status_code == 200 and 'data-testid="must-change"' in page.content.decode()
    wrong = person.post(
        reverse("accounts:password_change"), {"old_password": "nope", "password1": OTHER, "password2": OTHER}
    )
    assert "原密码不正确" in wrong.content.decode()
    same = person.post(
        reverse("accounts:password_change"), {"old_password": NEW, "password1": NEW, "password2": NEW}
    )
    assert "不能与原密码相同" in same.content.decode()
    done = person.post(
        reverse("accounts:password_change"), {"old_password": NEW, "password1": OTHER, "password2": OTHER}
    )
    assert done.status_code == 302
    clerk.refresh_from_db()
    assert not clerk.must_change_password and clerk.check_password(OTHER)
    assert person.get(reverse("home")).status_code == 200  # still signed in, free to go on
    event = AuditEvent.objects.filter(action="user.password_changed").latest("id")
    assert event.actor_id == clerk.pk and OTHER not in f"{event.before}{event.after}{event.note}"


def test_a_new_account_must_change_the_password_the_administrator_chose(users):
    user = services.user_create(
        actor=users["sys_admin"],
        username="xinren",
        password=NEW,
        role="village_clerk",
        region=Region.objects.get(code=VILLAGE),
    )
    assert user.must_change_password


def test_sec_admin_cannot_reset_their_own_or_another_sec_admins_password(client, users, make_user):
    sec_admin = users["sec_admin"]
    colleague = make_user("sec_admin", COUNTY, username="sec-2")
    with pytest.raises(DomainError, match="不能重置自己的密码"):
        services.user_reset_password(actor=sec_admin, user=sec_admin, password=NEW)
    with pytest.raises(DomainError, match="其他安全管理员"):
        services.user_reset_password(actor=sec_admin, user=colleague, password=NEW)
    client.force_login(sec_admin)
    for target in (sec_admin, colleague):
        response = _reset(client, target.username)
        assert response.status_code == 200
        target.refresh_from_db()
        assert target.check_password(PASSWORD) and not target.must_change_password
    # …but may reset another administrator's, who must then choose their own at once.
    services.user_reset_password(actor=sec_admin, user=users["audit_admin"], password=NEW)
    users["audit_admin"].refresh_from_db()
    assert users["audit_admin"].must_change_password


def test_sec_admin_resets_only_inside_the_jurisdiction(client, users, make_user):
    neighbour_sec = make_user("sec_admin", NEIGHBOUR_TOWN, username="neighbour-sec")
    with pytest.raises(DomainError, match="不在您的管辖范围内"):
        services.user_reset_password(actor=neighbour_sec, user=users["village_clerk"], password=NEW)
    client.force_login(neighbour_sec)
    response = _reset(client, users["village_clerk"].username)
    assert "不存在或不在您的管辖范围内" in response.content.decode()


def test_everybody_changes_their_own_password_from_the_navigation(client, users):
    for role in ("helper", "sys_admin", "sec_admin", "audit_admin"):
        user = users[role]
        client.force_login(user)
        assert 'data-testid="password-change-link"' in client.get(reverse("home")).content.decode()
        weak = client.post(
            reverse("accounts:password_change"),
            {"old_password": PASSWORD, "password1": "abc", "password2": "abc"},
        )
        assert "密码不符合要求" in weak.content.decode() or "太短" in weak.content.decode()
        ok = client.post(
            reverse("accounts:password_change"),
            {"old_password": PASSWORD, "password1": NEW, "password2": NEW},
        )
        assert ok.status_code == 302
        user.refresh_from_db()
        assert user.check_password(NEW)
    assert Client().get(reverse("accounts:password_change")).status_code == 302  # signed out: to the login


def test_a_department_tokens_service_account_gets_no_password_and_its_name_is_reserved(users):
    """A department token acts as a service account (``dept-token-<id>``) that never signs in: the security
    administrator cannot give it a password, and no one can open an account under that prefix."""
    from fangfan.monitoring.models import DepartmentToken
    from fangfan.monitoring.tokens import token_account

    token = DepartmentToken.objects.create(
        name="医保接口", source="medical", region_id=users["town_station"].region_id, token_hash="x" * 64
    )
    account = token_account(token)
    assert account.is_service_account and not account.has_usable_password()
    with pytest.raises(DomainError, match="服务账号不能设置密码"):
        services.user_reset_password(actor=users["sec_admin"], user=account, password=NEW)
    with pytest.raises(DomainError, match="dept-token-"):
        services.user_create(
            actor=users["sys_admin"],
            username="dept-token-999",
            password=NEW,
            role="village_clerk",
            region=users["village_clerk"].region,
        )
    # nor is it listed among the people the administrators manage
    from fangfan.accounts.selectors import users_for_admin

    for admin, action in (("sys_admin", "user.manage"), ("sec_admin", "user.reset_second_factor")):
        listed = set(users_for_admin(users[admin], action=action).values_list("username", flat=True))
        assert account.username not in listed and users["village_clerk"].username in listed
