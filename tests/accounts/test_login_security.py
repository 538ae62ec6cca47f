"""Login security: lock-out after repeated failures (django-axes), unlocking by the security administrator,
login events in the audit chain, Argon2, CSP, CSRF and the idle session timeout."""

from __future__ import annotations

import pytest
from conftest import NEIGHBOUR_TOWN, PASSWORD, TOWN
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangfan.core.models import AuditEvent

# These tests check the production hasher (Argon2): not the suite's fast MD5 (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.argon2]

WRONG = "Wrong-Password-1"


def _login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def _lock(client, username):
    responses = [_login(client, username, WRONG) for _ in range(settings.AXES_FAILURE_LIMIT)]
    return responses


def test_five_failures_lock_the_account_and_only_that_account(client, users):
    victim = users["village_clerk"]
    responses = _lock(client, victim.username)
    assert all(r.status_code == 200 for r in responses[:-1])
    assert "账号或密码不正确" in responses[0].content.decode()
    # the 6th attempt, with the right password, is refused with the locked page
    sixth = _login(client, victim.username, PASSWORD)
    assert sixth.status_code == 429
    assert "账号已被暂时锁定" in sixth.content.decode()
    assert client.get(reverse("home")).status_code == 302  # not signed in
    # another user (same office, same IP) is unaffected
    other = Client()
    ok = _login(other, users["other_village_clerk"].username, PASSWORD)
    assert ok.status_code == 302 and ok["Location"] == reverse("home")
    assert other.get(reverse("home")).status_code == 200


def test_security_admin_sees_and_unlocks_the_account(client, users):
    victim = users["village_clerk"]
    _lock(Client(), victim.username)
    client.force_login(users["sec_admin"])
    page = client.get(reverse("accounts:security")).content.decode()
    locked_table = page.split('data-testid="locked-table"')[1].split("</table>")[0]
    assert victim.username in locked_table
    assert users["other_village_clerk"].username not in locked_table
    assert "密码错误" in page  # the failure log
    response = client.post(reverse("accounts:security"), {"username": victim.username}, follow=True)
    assert "已解锁账号" in response.content.decode()
    event = AuditEvent.objects.filter(action="user.unlocked").latest("id")
    assert event.object_id == str(victim.pk) and event.actor_id == users["sec_admin"].pk
    assert _login(Client(), victim.username, PASSWORD).status_code == 302


def test_security_page_and_unlock_are_limited_to_the_jurisdiction(client, users, make_user):
    victim = users["village_clerk"]  # 桃溪镇
    _lock(Client(), victim.username)
    neighbour_sec = make_user("sec_admin", NEIGHBOUR_TOWN, username="neighbour-sec")
    client.force_login(neighbour_sec)
    page = client.get(reverse("accounts:security")).content.decode()
    assert victim.username not in page
    response = client.post(reverse("accounts:security"), {"username": victim.username}, follow=True)
    assert "不在您的管辖范围内" in response.content.decode()
    assert _login(Client(), victim.username, PASSWORD).status_code == 429  # still locked
    town_sec = make_user("sec_admin", TOWN, username="town-sec")
    client.force_login(town_sec)
    assert victim.username in client.get(reverse("accounts:security")).content.decode()


def test_login_events_are_audited_without_password(client, users):
    user = users["town_station"]
    _login(client, user.username, WRONG)
    _login(client, "nobody-here", WRONG)
    _login(client, user.username, PASSWORD)
    client.post(reverse("accounts:logout"))
    events = list(AuditEvent.objects.filter(action__startswith="auth.").order_by("id"))
    assert [e.action for e in events] == [
        "auth.login_failed",
        "auth.login_failed",
        "auth.login",
        "auth.logout",
    ]
    failed, unknown, login, logout = events
    assert failed.actor_username == user.username and failed.region_code == TOWN
    assert failed.ip == "127.0.0.1"
    assert unknown.actor_username == "nobody-here" and unknown.actor_id is None
    assert login.actor_id == user.pk and logout.actor_id == user.pk
    for event in events:
        blob = f"{event.before}{event.after}{event.note}{event.object_label}"
        assert WRONG not in blob and PASSWORD not in blob


def test_passwords_are_hashed_with_argon2(users):
    users["town_station"].refresh_from_db()
    assert users["town_station"].password.startswith("argon2")
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def _script_src(policy: str) -> str:
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("script-src"))


def test_csp_header_on_pages(client, users):
    """Scripts only from our own origin (a nonce is added when a page asks for one); nothing inline, no eval."""
    policy = client.get(reverse("accounts:login"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe" not in _script_src(policy)
    client.force_login(users["sys_admin"])
    for url in (reverse("home"), reverse("accounts:user_list"), reverse("regions:region_list")):
        response = client.get(url)
        assert _script_src(response["Content-Security-Policy"]).startswith("script-src 'self'")
        assert "unsafe" not in _script_src(response["Content-Security-Policy"])
        assert "<script>" not in response.content.decode()  # no inline scripts


def test_csrf_is_enforced():
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_csrf_token_lets_the_form_through(users):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.get(reverse("accounts:login"))
    token = csrf_client.cookies[settings.CSRF_COOKIE_NAME].value
    response = csrf_client.post(
        reverse("accounts:login"),
        {"username": users["town_station"].username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


# --- lock-out per account and address; the address throttle against password spraying ----------------------


def _login_from(ip, username, password, **extra):
    return Client().post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def test_failures_from_one_address_do_not_lock_the_account_from_another(users):
    """11 failed sign-ins for the victim from address A: the victim still signs in from address B."""
    victim = users["village_clerk"]
    for _ in range(11):
        _login_from("198.51.100.7", victim.username, WRONG)
    assert _login_from("198.51.100.7", victim.username, PASSWORD).status_code == 429  # locked from A
    assert _login_from("203.0.113.20", victim.username, PASSWORD).status_code == 302  # not from B


def test_a_forged_forwarded_for_header_does_not_change_the_address(users):
    victim = users["village_clerk"]
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login_from("198.51.100.7", victim.username, WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert (
        _login_from("198.51.100.7", victim.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code
        == 429
    )


def test_many_accounts_from_one_address_throttle_that_address(users, make_user):
    """Password spraying: one password tried on many accounts from one address → that address waits."""
    from fangfan.accounts.services import LOGIN_FAILURES_PER_ADDRESS

    for n in range(LOGIN_FAILURES_PER_ADDRESS.limit):
        assert _login_from("198.51.100.9", f"guess-{n}", WRONG).status_code == 200
    blocked = _login_from("198.51.100.9", users["town_station"].username, PASSWORD)
    assert blocked.status_code == 429
    assert "本地址登录失败次数过多" in blocked.content.decode() and int(blocked["Retry-After"]) > 0
    # The accounts themselves are not locked: from elsewhere they sign in.
    assert _login_from("203.0.113.20", users["town_station"].username, PASSWORD).status_code == 302


def test_security_page_lists_an_account_locked_from_one_address(client, users):
    victim = users["village_clerk"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login_from("198.51.100.7", victim.username, WRONG)
    _login_from("203.0.113.20", victim.username, WRONG)
    client.force_login(users["sec_admin"])
    page = client.get(reverse("accounts:security")).content.decode()
    locked_table = page.split('data-testid="locked-table"')[1].split("</table>")[0]
    assert victim.username in locked_table
