"""The second factor (动态口令, TOTP by django-otp) and its recovery codes (恢复码, django-otp's static tokens).

等保 2.0 level 3 asks two factors of the administrators; here they are required of the three administrators
(系统/安全/审计管理员) and of every account bound to a county, city or province (they see a whole county's families),
and optional for the others, who may enrol from 我的账号. After the password, a person who must have a second factor
and has none is sent to enrolment; one who has a device enters a code before any other page
(``SecondFactorMiddleware``). A wrong code is a failed sign-in: it counts toward the same per-account lock-out as a
wrong password (django-axes), and the password's success does not clear those failures — only the whole sign-in
does. A security administrator resets a person's second factor (not their own, inside their jurisdiction); every
enrolment, verification, use of a recovery code and reset is in the audit chain. API tokens are not concerned.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.regions.codes import Level, level_of

from .models import User
from .roles import ADMIN_ROLES, Role

RECOVERY_CODES = 10
# Set in the session by the password sign-in of a person who owes a second factor; cleared once it is given.
PENDING_KEY = "fangfan_second_factor_pending"
DEVICE_NAME = "动态口令"
RECOVERY_NAME = "恢复码"
# Levels whose accounts must use a second factor (a county's, a city's, a province's data).
REQUIRED_LEVELS = frozenset({Level.COUNTY, Level.CITY, Level.PROVINCE})


def required_for(user) -> bool:
    """Must this person use a second factor? The three administrators and every county-, city- or province-level
    account; the command-line operator has no web sign-in."""
    role = getattr(user, "role", "")
    if role == Role.SYSTEM:
        return False
    if role in ADMIN_ROLES:
        return True
    code = getattr(user, "region_id", "") or ""
    return bool(code) and level_of(code) in REQUIRED_LEVELS


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- enrolment ------------------------------------------------------------------------------------------------


def pending_device(user) -> TOTPDevice:
    """The device being enrolled (unconfirmed): the same one until it is confirmed, so that reloading the page does
    not change the key the person has just scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def manual_key(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it by hand: base32, in groups of four."""
    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> bytes:
    """The enrolment QR code (otpauth:// URL) as an SVG, drawn here: nothing is loaded from elsewhere."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(device.config_url, image_factory=SvgPathImage, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def _normalise(token: str) -> str:
    return "".join(ch for ch in (token or "") if ch.isalnum()).lower()


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [f"{code[:4]}-{code[4:]}" for code in codes]


def enrol_confirm(request, *, user, token: str) -> list[str]:
    """Confirm the pending device with a code from the app: the device becomes the person's second factor, this
    session counts as verified, and the recovery codes are made (returned to be shown once, never kept in clear)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise DomainError("请重新打开绑定页面扫描二维码")
    if has_device(user):
        raise DomainError("您已绑定动态口令；如需更换，请联系安全管理员重置")
    if not device.verify_token(_normalise(token)):
        raise DomainError("验证码不正确，请确认手机时间准确后输入身份验证器上当前显示的 6 位数字")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _new_recovery_codes(user)
        audit.record(user, "otp.enrolled", user, note=f"绑定动态口令，生成 {RECOVERY_CODES} 个恢复码")
    _signed_in(request, user, device)
    return codes


def recovery_codes_regenerate(*, user) -> list[str]:
    """New recovery codes for a person who has a device (the old ones stop working)."""
    if not has_device(user):
        raise DomainError("尚未绑定动态口令")
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit.record(user, "otp.recovery_regenerated", user, note=f"重新生成 {RECOVERY_CODES} 个恢复码")
    return codes


# --- sign-in ----------------------------------------------------------------------------------------------------


def on_password_login(request, user) -> None:
    """Connected to ``user_logged_in``: a person who owes a second factor is marked pending; for the others the
    sign-in is complete, and their failed attempts are cleared (django-axes' reset on success, done here)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    if required_for(user) or has_device(user):
        session[PENDING_KEY] = True
    else:
        session.pop(PENDING_KEY, None)
        _clear_failures(request, user)


def is_pending(request) -> bool:
    """Does this signed-in session still owe its second factor?"""
    user = request.user
    if request.session.get(PENDING_KEY):
        return True
    verified = getattr(user, "is_verified", None)
    if verified is not None and verified():
        return False
    # Not verified: a device reset since (the session named a device that is gone), or a person who must have a
    # second factor and whose session began without it.
    return bool(request.session.get(DEVICE_ID_SESSION_KEY)) or required_for(user)


@dataclass(frozen=True)
class Verification:
    ok: bool
    locked: bool = False
    recovery_left: int | None = None  # a recovery code was used: how many remain


def _clear_failures(request, user) -> None:
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(request, {"username": user.get_username()})


def _locked(request, user) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, {"username": user.get_username()})


def _signed_in(request, user, device) -> None:
    otp_login(request, device)
    request.session.pop(PENDING_KEY, None)
    _clear_failures(request, user)


def verify(request, *, user, token: str) -> Verification:
    """Check a code typed after the password: a TOTP code, or a recovery code (each works once). A wrong code is a
    failed sign-in of the account (lock-out); once locked, the session is ended."""
    if _locked(request, user):
        logout(request)
        return Verification(ok=False, locked=True)
    token = _normalise(token)
    device = confirmed_device(user)
    if device is not None and token.isdigit() and len(token) == device.digits and device.verify_token(token):
        _signed_in(request, user, device)
        audit.record(user, "otp.verified", user, note="动态口令验证通过")
        return Verification(ok=True)
    static = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if static is not None and len(token) == 8 and static.verify_token(token):
        left = static.token_set.count()
        _signed_in(request, user, static)
        audit.record(user, "otp.recovery_used", user, after={"recovery_codes_left": left})
        return Verification(ok=True, recovery_left=left)
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request, second_factor=True
    )
    if getattr(request, "axes_locked_out", False) or _locked(request, user):
        logout(request)
        return Verification(ok=False, locked=True)
    return Verification(ok=False)


# --- reset by the security administrator ---------------------------------------------------------------------


def reset(*, actor: User, user: User) -> int:
    """Remove a person's second factor (安全管理员, inside their jurisdiction; never their own nor another security
    administrator's — the command-line operator does those). The person enrols again at the next sign-in (or, if
    it is optional for them, may). Their sessions that were verified with the removed device must verify again.
    Returns the number of devices removed."""
    if actor is None or not actor.can("user.reset_second_factor"):
        raise DomainError("只有安全管理员可以重置动态口令")
    if user.is_operator:
        raise DomainError("命令行账号没有动态口令")
    if user.pk == actor.pk:
        raise DomainError("不能重置自己的动态口令，请由其他安全管理员办理")
    if user.role == Role.SEC_ADMIN and actor.role != Role.SYSTEM:
        raise DomainError("不能重置其他安全管理员的动态口令，请由命令行管理员办理")
    if actor.role != Role.SYSTEM and not (
        User.objects.for_user(actor, "user.reset_second_factor").filter(pk=user.pk).exists()
    ):
        raise DomainError("该账号不在您的管辖范围内")
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user, confirmed=True).count()
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.record(
            actor,
            "otp.reset",
            user,
            note="安全管理员重置动态口令，须在下次登录时重新绑定"
            if required_for(user)
            else "安全管理员重置动态口令",
        )
    return removed
