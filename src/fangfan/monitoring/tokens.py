"""API tokens of department systems: one token per source and region, shown once when issued; only its SHA-256
is stored. The town station or the county (``screen.run``) issues and revokes them inside its jurisdiction."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.regions.models import Region

from .choices import Source
from .models import DepartmentToken

if TYPE_CHECKING:
    from fangfan.accounts.models import User

PREFIX = "ffd_"
ACTION = "screen.run"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _ensure(actor: User, region_code: str) -> None:
    if actor is None or not actor.can(ACTION):
        raise DomainError("您的角色无权管理部门接口令牌")
    span = actor.jurisdiction_range()
    if span is None or not (span[0] <= region_code < span[1]):
        raise DomainError("只能为本辖区签发接口令牌")


def token_issue(*, actor: User, name: str, source: str, region_code: str) -> tuple[DepartmentToken, str]:
    """Issue a token for a department system; returns the row and the token itself (shown once, never stored)."""
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写令牌名称（如：县医保局结算系统）")
    if source not in Source.values:
        raise DomainError(f"未知的数据来源：{source}")
    _ensure(actor, region_code)
    if not Region.objects.filter(code=region_code).exists():
        raise DomainError(f"区划不存在：{region_code}")
    raw = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = DepartmentToken.objects.create(
            name=name[:100],
            source=source,
            region_id=region_code,
            token_hash=token_hash(raw),
            created_by=actor,
        )
        audit.record(
            actor,
            "department_token.created",
            token,
            after={"source": source, "region": region_code},
            region_code=region_code,
            object_label=f"接口令牌 {token.name}",
        )
    return token, raw


def token_revoke(*, actor: User, token: DepartmentToken) -> DepartmentToken:
    _ensure(actor, token.region_id)
    if not token.active:
        return token
    with transaction.atomic():
        token.active = False
        token.save(update_fields=["active"])
        audit.record(
            actor,
            "department_token.revoked",
            token,
            before={"active": True},
            after={"active": False},
            region_code=token.region_id,
            object_label=f"接口令牌 {token.name}",
        )
    return token


def token_authenticate(raw: str) -> DepartmentToken | None:
    """The active token a bearer string stands for, or None (unknown or revoked)."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    # Unscoped: a bearer token is looked up before anyone is known (the API's door, ``api.auth``).
    token = (
        DepartmentToken.objects.unscoped()
        .filter(token_hash=token_hash(raw), active=True)
        .select_related("region")
        .first()
    )
    if token is not None:
        DepartmentToken.objects.unscoped().filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def token_account(token: DepartmentToken) -> User:
    """The service account a department token acts as: a department user of the token's source, bound to the
    token's region (``dept-token-<id>``, no password, never signs in). The department API imports and reads as
    this account, so the same role and jurisdiction checks apply as to a department's person on the web, and
    the audit log names the token's account."""
    from fangfan.accounts.models import SERVICE_ACCOUNT_PREFIX, User
    from fangfan.accounts.roles import Role

    user, created = User.objects.get_or_create(
        username=f"{SERVICE_ACCOUNT_PREFIX}{token.pk}",
        defaults={
            "role": Role.DEPARTMENT,
            "department": token.source,
            "region_id": token.region_id,
            "full_name": f"部门接口（{token.name}）"[:50],
            "is_active": True,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif (user.role, user.department, user.region_id) != (Role.DEPARTMENT, token.source, token.region_id):
        user.role, user.department, user.region_id = Role.DEPARTMENT, token.source, token.region_id
        user.save(update_fields=["role", "department", "region"])
    return user
