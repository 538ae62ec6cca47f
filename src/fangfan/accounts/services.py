"""Writes to user accounts: creation and changes (系统管理员), password resets and unlocking (安全管理员), and
each person's change of their own password.

Every rule of 三员分立 that concerns accounts lives here, not in the views: only a system administrator creates and
changes accounts, and never an existing administrator account (系统/安全/审计管理员) — no administrator can take
over another's; an account is bound to a region inside the administrator's jurisdiction and of a level its role
allows; an administrator cannot change their own role or switch off their own account; only the security
administrator resets a password — never their own nor another security administrator's — and the person must then
choose a new one at the next sign-in; the command-line account is never created or edited from the web.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fangfan.core import audit, client_ip, throttle
from fangfan.core.errors import DomainError
from fangfan.regions.codes import LEVEL_LABELS, Level
from fangfan.regions.models import Region

from .models import SERVICE_ACCOUNT_PREFIX, User
from .roles import ADMIN_ROLES, ROLE_LEVELS, Department, Role

# Roles a system administrator may hand out from the web: every working role and the three administrators.
ASSIGNABLE_ROLES = tuple(r for r in Role if r != Role.SYSTEM)
AUDITED_FIELDS = ("username", "full_name", "role", "department", "region_id", "phone", "is_active")


def _snapshot(user: User) -> dict[str, Any]:
    return {field: getattr(user, field) for field in AUDITED_FIELDS}


def _ensure_manages_users(actor) -> None:
    """Only a system administrator (or the command-line operator, whom services trust) manages accounts."""
    if actor is None:
        raise DomainError("必须以具体账号的名义管理用户")
    if not actor.can("user.manage"):
        raise DomainError("只有系统管理员可以管理用户账号")


def _in_jurisdiction(actor, code: str | None) -> bool:
    if not code:
        return False
    span = actor.jurisdiction_range()
    return span is not None and span[0] <= code < span[1]


def _ensure_user_in_scope(actor, user: User) -> None:
    if user.is_operator:
        raise DomainError("命令行账号不能在页面上修改")
    if not _in_jurisdiction(actor, user.region_id):
        raise DomainError("该账号不在您的管辖范围内")


def _check_assignment(*, actor, role: str, department: str, region: Region | None) -> str:
    """Validate role, department and region together; returns the department to store ('' unless 部门)."""
    if role not in {r.value for r in ASSIGNABLE_ROLES}:
        raise DomainError("请选择有效的角色")
    if region is None:
        raise DomainError("每个账号都必须绑定所属区划")
    if not _in_jurisdiction(actor, region.code):
        raise DomainError(f"所属区划“{region.name}”不在您的管辖范围内")
    allowed = ROLE_LEVELS.get(role, frozenset())
    if Level(region.level) not in allowed:
        levels = "、".join(LEVEL_LABELS[lv] for lv in sorted(allowed))
        label = Role(role).label
        raise DomainError(f"“{label}”只能绑定到{levels}级区划，“{region.name}”是{region.level_label}级")
    if role == Role.DEPARTMENT:
        if department not in {d.value for d in Department}:
            raise DomainError("部门账号必须选择所属部门（民政、医保、教育等）")
        return department
    return ""


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise DomainError("密码不符合要求：" + "；".join(exc.messages)) from None


def user_create(
    *,
    actor,
    username: str,
    password: str,
    role: str,
    region: Region | None,
    department: str = "",
    full_name: str = "",
    phone: str = "",
) -> User:
    """Open an account (系统管理员): one role, one region inside the administrator's jurisdiction."""
    _ensure_manages_users(actor)
    username = (username or "").strip()
    if not username:
        raise DomainError("请填写账号")
    try:
        User.username_validator(username)
    except ValidationError:
        raise DomainError("账号只能由字母、数字、汉字和 @ . + - _ 组成") from None
    if len(username) > 150:
        raise DomainError("账号最多 150 个字符")
    if username.lower().startswith(SERVICE_ACCOUNT_PREFIX):
        raise DomainError(f"账号不能以“{SERVICE_ACCOUNT_PREFIX}”开头（部门接口服务账号专用）")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(f"账号“{username}”已存在")
    department = _check_assignment(actor=actor, role=role, department=department, region=region)
    user = User(
        username=username,
        role=role,
        department=department,
        region=region,
        full_name=(full_name or "").strip(),
        phone=(phone or "").strip(),
        is_active=True,
    )
    _validate_password(password, user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    # The administrator chose this password: the person replaces it at the first sign-in.
    user.must_change_password = True
    with transaction.atomic():
        user.save()
        audit.record(actor, "user.created", user, after=_snapshot(user))
    return user


def user_update(
    *,
    actor,
    user: User,
    role: str,
    region: Region | None,
    is_active: bool,
    department: str = "",
    full_name: str | None = None,
    phone: str | None = None,
) -> User:
    """Change an account's role, region or active flag (系统管理员). An administrator cannot change their own
    role or switch off their own account (三员分立: the roles stay with the accounts they were given to)."""
    _ensure_manages_users(actor)
    _ensure_user_in_scope(actor, user)
    if user.pk == getattr(actor, "pk", None):
        if role != user.role:
            raise DomainError("不能修改自己的角色，请由其他系统管理员办理")
        if not is_active:
            raise DomainError("不能停用自己的账号")
        if region is not None and region.code != user.region_id:
            raise DomainError("不能修改自己的所属区划，请由上级系统管理员办理")
    if not actor.is_operator and (user.role in ADMIN_ROLES or role in ADMIN_ROLES) and role != user.role:
        raise DomainError("不能把账号改为或改离管理员角色；管理员账号请新建")
    if not actor.is_operator and user.role in ADMIN_ROLES:
        raise DomainError("管理员账号（系统、安全、审计管理员）不能在此修改；重置密码由安全管理员办理")
    department = _check_assignment(actor=actor, role=role, department=department, region=region)
    before = _snapshot(user)
    user.role = role
    user.department = department
    user.region = region
    user.is_active = bool(is_active)
    if full_name is not None:
        user.full_name = full_name.strip()
    if phone is not None:
        user.phone = phone.strip()
    after = _snapshot(user)
    changed_before, changed_after = audit.changes(before, after)
    if not changed_after:
        return user
    with transaction.atomic():
        user.save(update_fields=["role", "department", "region", "is_active", "full_name", "phone"])
        audit.record(actor, "user.updated", user, before=changed_before, after=changed_after)
    return user


def user_reset_password(*, actor, user: User, password: str) -> User:
    """Reset an account's password (安全管理员, inside their jurisdiction). Never the actor's own account nor
    another security administrator's (they change theirs with the old one), never the command-line account. The
    person must choose a new password at the next sign-in, so the one who reset it cannot go on using the account
    unnoticed. The password itself never reaches the audit log."""
    if actor is None or not (actor.can("user.reset_password")):
        raise DomainError("只有安全管理员可以重置密码")
    if user.is_operator:
        raise DomainError("命令行账号不能在页面上修改")
    if user.is_service_account:
        raise DomainError("部门接口的服务账号不能设置密码，它只代表部门接口令牌，不能登录")
    if user.pk == getattr(actor, "pk", None):
        raise DomainError("不能重置自己的密码，请在“修改密码”中用原密码修改")
    if user.role == Role.SEC_ADMIN and not actor.is_operator:
        raise DomainError("不能重置其他安全管理员的密码")
    if not (User.objects.for_user(actor, "user.reset_password").filter(pk=user.pk).exists()):
        raise DomainError("该账号不在您的管辖范围内")
    _validate_password(password, user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.must_change_password = True
    with transaction.atomic():
        user.save(update_fields=["password", "password_changed_at", "must_change_password"])
        audit.record(actor, "user.password_reset", user, note="安全管理员重置密码，须在下次登录时修改")
    return user


def user_change_password(*, user: User, old_password: str, new_password: str) -> User:
    """A person changes their own password: the old one is required, the new one must pass the validators and
    differ from the old. Clears the must-change flag."""
    if user is None or not getattr(user, "pk", None) or user.is_operator:
        raise DomainError("必须以具体账号的名义修改密码")
    if not user.check_password(old_password or ""):
        raise DomainError("原密码不正确")
    if new_password == old_password:
        raise DomainError("新密码不能与原密码相同")
    _validate_password(new_password, user)
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.must_change_password = False
    with transaction.atomic():
        user.save(update_fields=["password", "password_changed_at", "must_change_password"])
        audit.record(user, "user.password_changed", user, note="本人修改密码")
    return user


def user_unlock(*, actor, username: str) -> int:
    """Lift a login lock-out early (安全管理员); returns how many failure records were cleared."""
    from axes.utils import reset

    if actor is None or not (actor.can("user.unlock")):
        raise DomainError("只有安全管理员可以解锁账号")
    user = User.objects.for_user(actor, "user.unlock").filter(username=username).first()
    if user is None:
        raise DomainError(f"账号“{username}”不存在或不在您的管辖范围内")
    with transaction.atomic():
        cleared = reset(username=user.username)
        audit.record(actor, "user.unlocked", user, after={"cleared_attempts": cleared})
    return cleared


# --- login events (connected to Django's auth signals in AccountsConfig.ready) --------------------------------

# Password spraying: many accounts tried from one address. django-axes locks an account per (account, address);
# this throttles the address itself once it has failed this often, whatever the accounts (high enough for a
# village office whose clerks share one address).
LOGIN_FAILURES_PER_ADDRESS = throttle.Limit("login-failures", 20, timedelta(minutes=15))


def login_address_wait(request) -> int:
    """Seconds until this address may try to sign in again (0: now)."""
    key = throttle.address_key(client_ip(request), LOGIN_FAILURES_PER_ADDRESS.scope)
    return throttle.retry_after(LOGIN_FAILURES_PER_ADDRESS, key)


def record_login(sender, request, user, **kwargs) -> None:
    audit.record(user, "auth.login", user)


def session_started(sender, request, user, **kwargs) -> None:
    from . import middleware, second_factor

    middleware.on_login(request)
    second_factor.on_password_login(request, user)


def record_logout(sender, request, user, **kwargs) -> None:
    if user is not None and getattr(user, "pk", None):
        audit.record(user, "auth.logout", user)


class _UnknownAccount:
    """Stands for a typed username that matches no account, so the event still names what was tried."""

    pk = None
    role = ""
    region_id = ""

    def __init__(self, username: str):
        self.username = username


def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """A failed sign-in: the typed username only — never the password (Django already masks it, we drop it)."""
    username = str((credentials or {}).get("username") or "")[:150]
    user = User.objects.filter(username=username).first() if username else None
    actor = user if user is not None else _UnknownAccount(username or "（空）")
    locked = bool(getattr(request, "axes_locked_out", False)) if request is not None else False
    if request is not None:
        key = throttle.address_key(client_ip(request), LOGIN_FAILURES_PER_ADDRESS.scope)
        throttle.hit(LOGIN_FAILURES_PER_ADDRESS, key)
    audit.record(
        actor,
        "auth.login_failed",
        user,
        object_type="accounts.user",
        object_id=str(user.pk) if user is not None else "",
        object_label=username,
        note=("账号已锁定" if locked else "动态口令或恢复码错误")
        if kwargs.get("second_factor")
        else ("账号已锁定" if locked else "账号或密码错误"),
    )
