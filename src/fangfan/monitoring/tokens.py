"""API tokens of department systems: one token per source and region, shown once when issued; only its SHA-256
is stored. The town station or the county (``screen.run``) issues and revokes them inside its jurisdiction."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.regions.models import Region

from .choices import Source
from .models import DepartmentToken

PREFIX = "ffd_"
ACTION = "screen.run"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _ensure(actor, region_code: str) -> None:
    if actor is None or not actor.can(ACTION):
        raise DomainError("您的角色无权管理部门接口令牌")
    span = actor.jurisdiction_range()
    if span is None or not (span[0] <= region_code < span[1]):
        raise DomainError("只能为本辖区签发接口令牌")


def token_issue(*, actor, name: str, source: str, region_code: str) -> tuple[DepartmentToken, str]:
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


def token_revoke(*, actor, token: DepartmentToken) -> DepartmentToken:
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
    token = (
        DepartmentToken.objects.filter(token_hash=token_hash(raw), active=True)
        .select_related("region")
        .first()
    )
    if token is not None:
        DepartmentToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
