"""The second factor (issue 21.1): 等保 2.0 level 3 asks two-factor sign-in of the administrators; here of the three
administrators and of every county-, city- and province-level account, optional for the others. Enrolment with a
QR code and a key, codes from an authenticator app, recovery codes that work once, a security administrator's
reset inside their jurisdiction, and wrong codes counted toward the per-account lock-out."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from conftest import COUNTY, PASSWORD, TOWN, VILLAGE
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from registry_factory import make_household

from fangfan.accounts import second_factor
from fangfan.accounts.tokens import personal_token_issue
from fangfan.core.models import AuditEvent

pytestmark = pytest.mark.django_db

HOME = "/"


def _sign_in(client, user, **extra):
    return client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD}, **extra)


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="动态口令", confirmed=True)


def _actions(user) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="accounts.user", object_id=str(user.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- who must -------------------------------------------------------------------------------------------------


def test_required_of_the_administrators_and_county_level_accounts_optional_for_the_others(users, make_user):
    required = {name for name, user in users.items() if second_factor.required_for(user)}
    assert required == {"county_review", "province_record", "sys_admin", "sec_admin", "audit_admin"}
    # A department: at a county it must, at a town it may.
    assert second_factor.required_for(make_user("department", COUNTY, department="civil"))
    assert not second_factor.required_for(users["department"])
    # A town's administrator must too (the three administrators, whatever their level).
    assert second_factor.required_for(make_user("sec_admin", TOWN, username="town-sec"))


def test_an_optional_account_without_a_device_signs_in_with_its_password(client, users):
    response = _sign_in(client, users["village_clerk"])
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(HOME).status_code == 200


# --- enrolment ------------------------------------------------------------------------------------------------


def test_enrolment_qr_code_key_confirmation_and_ten_recovery_codes(client, users):
    county = users["county_review"]
    assert _sign_in(client, county).status_code == 302
    # Every page leads to the second factor, which leads to enrolment (no device yet).
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp_verify"))
    response = client.get(reverse("accounts:otp_verify"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp_enrol"))
    page = client.get(reverse("accounts:otp_enrol"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="otp-required"' in text and "绑定动态口令" in text
    device = TOTPDevice.objects.get(user=county, confirmed=False)
    assert second_factor.manual_key(device) in text
    # The QR code is drawn here, as SVG, with the otpauth:// address of this device.
    qr = client.get(reverse("accounts:otp_qr"))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content and b"http" not in qr.content.replace(b"http://www.w3.org", b"")
    assert "issuer=防返贫监测帮扶" in unquote(device.config_url)
    # Reloading keeps the same key (the person may already have scanned it).
    client.get(reverse("accounts:otp_enrol"))
    assert TOTPDevice.objects.filter(user=county).count() == 1
    # A wrong code is refused; the right one binds the device and shows ten recovery codes once.
    wrong = client.post(
        reverse("accounts:otp_enrol"), {"token": "000000" if _code(device) != "000000" else "1"}
    )
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    done = client.post(reverse("accounts:otp_enrol"), {"token": _code(device)})
    assert done.status_code == 200
    codes = [c for c in done.content.decode().split('data-testid="recovery-code">')[1:]]
    assert len(codes) == second_factor.RECOVERY_CODES == 10
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=county).count() == 10
    # Signed in now; the codes are not shown again.
    assert client.get(HOME).status_code == 200
    assert client.get(reverse("accounts:otp_enrol")).status_code == 302
    assert "otp.enrolled" in _actions(county)


def test_an_optional_account_may_enrol_from_its_account_page_and_then_must_use_it(client, users):
    clerk = users["village_clerk"]
    client.force_login(clerk)
    account = client.get(reverse("accounts:account")).content.decode()
    assert "未绑定" in account and reverse("accounts:otp_enrol") in account
    client.get(reverse("accounts:otp_enrol"))
    device = TOTPDevice.objects.get(user=clerk)
    assert client.post(reverse("accounts:otp_enrol"), {"token": _code(device)}).status_code == 200
    assert "已绑定" in client.get(reverse("accounts:account")).content.decode()
    # The next sign-in asks for a code.
    other = Client()
    _sign_in(other, clerk)
    assert other.get(HOME)["Location"].startswith(reverse("accounts:otp_verify"))
    assert other.post(reverse("accounts:otp_verify"), {"token": _code(device, 1)}).status_code == 302
    assert other.get(HOME).status_code == 200


# --- verification ---------------------------------------------------------------------------------------------


def test_a_code_from_the_app_completes_the_sign_in_and_is_audited(client, users):
    admin = users["sys_admin"]
    device = _device(admin)
    _sign_in(client, admin)
    page = client.get(reverse("accounts:otp_verify"))
    assert page.status_code == 200 and "两步验证" in page.content.decode()
    response = client.post(reverse("accounts:otp_verify"), {"token": _code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("accounts:user_list")).status_code == 200
    assert _actions(admin)[-1] == "otp.verified"
    # The same code cannot be replayed by someone else within its 30 seconds.
    other = Client()
    _sign_in(other, admin)
    again = other.post(reverse("accounts:otp_verify"), {"token": _code(device)})
    assert again.status_code == 200 and "验证码不正确" in again.content.decode()


def test_the_page_asked_for_is_opened_after_the_code(client, users):
    admin = users["sys_admin"]
    device = _device(admin)
    client.post(
        reverse("accounts:login") + "?next=/accounts/users/",
        {"username": admin.username, "password": PASSWORD, "next": "/accounts/users/"},
    )
    to_verify = client.get("/accounts/users/")
    assert to_verify["Location"] == reverse("accounts:otp_verify") + "?next=%2Faccounts%2Fusers%2F"
    response = client.post(to_verify["Location"], {"token": _code(device), "next": "/accounts/users/"})
    assert response["Location"] == "/accounts/users/"
    # Never elsewhere.
    _sign_in(other := Client(), admin)
    response = other.post(
        reverse("accounts:otp_verify"), {"token": _code(device, 1), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_every_page_and_htmx_request_is_blocked_until_verified(client, users, regions):
    county = users["county_review"]
    _device(county)
    household = make_household("341523104201000101", VILLAGE)
    _sign_in(client, county)
    for url in (
        HOME,
        reverse("accounts:account"),
        reverse("accounts:password_change"),
        reverse("registry:household_list"),
        reverse("registry:household_detail", args=[household.pk]),
        reverse("reports:monthly"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:otp_verify")), url
        assert client.post(url, {}).status_code == 302, url
        # htmx would swap the sign-in page into a fragment: it is told to load the whole page instead.
        htmx = client.get(url, HTTP_HX_REQUEST="true")
        assert htmx.status_code == 200 and htmx["HX-Redirect"] == reverse("accounts:otp_verify"), url
        assert htmx.content == b""
    # Signing out stays possible.
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))


def test_api_tokens_are_not_concerned(client, users):
    county = users["county_review"]
    _device(county)
    _token, raw = personal_token_issue(actor=county, user=county, name="同步", days=30)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    response = client.get("/api/v1/households/999999", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 404  # through the door: the household does not exist


# --- recovery codes -------------------------------------------------------------------------------------------


def test_each_recovery_code_works_once(client, users):
    admin = users["audit_admin"]
    _device(admin)
    codes = second_factor.recovery_codes_regenerate(user=admin)
    _sign_in(client, admin)
    response = client.post(reverse("accounts:otp_verify"), {"token": codes[0].upper().replace("-", " ")})
    assert response.status_code == 302
    assert "还剩 9 个" in client.get(HOME).content.decode()
    assert _actions(admin)[-1] == "otp.recovery_used"
    again = Client()
    _sign_in(again, admin)
    refused = again.post(reverse("accounts:otp_verify"), {"token": codes[0]})
    assert refused.status_code == 200 and "验证码不正确" in refused.content.decode()
    assert again.post(reverse("accounts:otp_verify"), {"token": codes[1]}).status_code == 302
    assert second_factor.recovery_codes_left(admin) == 8


def test_new_recovery_codes_replace_the_old(client, users):
    admin = users["audit_admin"]
    client.force_login(admin)
    old = second_factor.recovery_codes_regenerate(user=admin)
    page = client.post(reverse("accounts:otp_recovery"))
    assert page.status_code == 200
    new = [c.split("<")[0] for c in page.content.decode().split('data-testid="recovery-code">')[1:]]
    assert len(new) == 10 and not set(new) & set(old)
    assert second_factor.recovery_codes_left(admin) == 10
    assert "otp.recovery_regenerated" in _actions(admin)


# --- lock-out -------------------------------------------------------------------------------------------------


@pytest.mark.argon2
def test_wrong_codes_count_toward_the_account_lock_out(users):
    admin = users["sec_admin"]
    device = _device(admin)
    limit = settings.AXES_FAILURE_LIMIT
    # Two wrong codes, then sign in again with the password: the failures are not forgotten …
    first = Client()
    _sign_in(first, admin)
    for _ in range(2):
        assert first.post(reverse("accounts:otp_verify"), {"token": "000001"}).status_code == 200
    second = Client()
    assert _sign_in(second, admin).status_code == 302
    responses = [second.post(reverse("accounts:otp_verify"), {"token": "000001"}) for _ in range(limit - 2)]
    # … and the fifth wrong code locks the account, and ends the session.
    assert [r.status_code for r in responses] == [200] * (limit - 3) + [429]
    assert "账号已被暂时锁定" in responses[-1].content.decode()
    assert second.get(HOME)["Location"].startswith(reverse("accounts:login"))
    # Now even the right password and the right code are refused, from that address.
    assert _sign_in(Client(), admin).status_code == 429
    failed = AuditEvent.objects.filter(action="auth.login_failed", object_id=str(admin.pk))
    assert failed.count() == limit + 1  # the wrong codes, and the password tried while locked
    assert failed.filter(note="动态口令或恢复码错误").count() == limit - 1
    assert device.pk  # untouched


def test_the_whole_sign_in_clears_the_failures(users):
    admin = users["sec_admin"]
    device = _device(admin)
    c = Client()
    _sign_in(c, admin)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        c.post(reverse("accounts:otp_verify"), {"token": "000001"})
    assert c.post(reverse("accounts:otp_verify"), {"token": _code(device)}).status_code == 302
    c2 = Client()
    _sign_in(c2, admin)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert c2.post(reverse("accounts:otp_verify"), {"token": "000001"}).status_code == 200


# --- reset by the security administrator ------------------------------------------------------------------------


def _reset(client, username):
    return client.post(reverse("accounts:security"), {"form": "otp", "username": username})


def test_security_administrator_resets_a_second_factor_audited(client, users):
    county = users["county_review"]
    device = _device(county)
    second_factor.recovery_codes_regenerate(user=county)
    victim = Client()
    victim.force_login(county)  # a verified session with the device
    assert victim.get(HOME).status_code == 200
    client.force_login(users["sec_admin"])
    assert 'data-testid="otp-reset"' in client.get(reverse("accounts:security")).content.decode()
    response = _reset(client, county.username)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=county).exists()
    assert second_factor.recovery_codes_left(county) == 0
    event = AuditEvent.objects.filter(action="otp.reset").get()
    assert event.actor_id == users["sec_admin"].pk and event.object_id == str(county.pk)
    # The session verified with the removed device must verify again (here: enrol again).
    assert victim.get(HOME)["Location"].startswith(reverse("accounts:otp_verify"))
    assert device.pk


def test_reset_is_limited_to_the_jurisdiction_and_never_ones_own(client, users):
    sec = users["sec_admin"]  # a county's security administrator
    client.force_login(sec)
    for target in (users["province_record"], sec):
        _device(target) if not second_factor.has_device(target) else None
        response = _reset(client, target.username)
        assert response.status_code == 200
        text = response.content.decode()
        assert "不在您的管辖范围内" in text or "不能重置自己的动态口令" in text
        assert second_factor.has_device(target)
    assert not AuditEvent.objects.filter(action="otp.reset").exists()


def test_only_the_security_administrator_resets(client, users):
    for role in ("sys_admin", "audit_admin", "town_station"):
        client.force_login(users[role])
        assert _reset(client, users["county_review"].username).status_code == 403


def test_operator_resets_a_security_administrators_second_factor(users):
    from django.core.management import call_command

    sec = users["sec_admin"]
    _device(sec)
    call_command("reset-second-factor", sec.username)
    assert not second_factor.has_device(sec)
    assert AuditEvent.objects.filter(action="otp.reset", object_id=str(sec.pk)).exists()


# --- the demo -------------------------------------------------------------------------------------------------


def test_demo_accounts_sign_in_with_the_printed_key(client, regions):
    """README: the demo's administrators and county accounts share the printed key; ``fangfan demo-code`` gives
    its current code; the village accounts need none."""
    import io

    from django.core.management import call_command

    from fangfan.accounts.models import User
    from fangfan.demo.accounts import DEMO_PASSWORD, DEMO_TOTP_KEY, demo_users_create, totp_code

    demo_users_create()
    enrolled = set(TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True))
    assert {
        "sysadmin",
        "secadmin",
        "auditadmin",
        "county_review",
        "province_record",
        "dept_civil",
    } <= enrolled
    assert "dongfeng_clerk" not in enrolled and "taoxi_station" not in enrolled
    out = io.StringIO()
    call_command("demo-code", stdout=out)
    code = out.getvalue().split()[0]
    assert code in {totp_code(DEMO_TOTP_KEY), totp_code(DEMO_TOTP_KEY, at=__import__("time").time() - 30)}
    admin = User.objects.get(username="sysadmin")
    client.post(reverse("accounts:login"), {"username": "sysadmin", "password": DEMO_PASSWORD})
    response = client.post(reverse("accounts:otp_verify"), {"token": totp_code(DEMO_TOTP_KEY)})
    assert response.status_code == 302 and client.get(reverse("accounts:user_list")).status_code == 200
    assert admin.pk
