"""Personal API tokens (个人接口令牌, spec/API.md): one user's credential for ``/api/v1/``, acting with that user's
role and jurisdiction exactly as on the web.

A token is ``ffp_`` + 256 random bits; only its SHA-256 is stored (a lookup by hash: the token is never compared
as text), and it is shown once, when issued. It expires (default 90 days), may be revoked, and stops working when
its user is disabled or given a role that holds no tokens (the three administrators, the command-line account).
Issuing and revoking are audited — never the token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.errors import DomainError

from .models import PersonalToken, User
from .roles import TOKEN_ACTION

PREFIX = "ffp_"
DEFAULT_DAYS = 90
MAX_DAYS = 365
MAX_LENGTH = 200
# A use is written back at most this often: a script polling the API should not write a row on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def may_hold_token(user) -> bool:
    """Active accounts of a working role; never the three administrators or the command-line account."""
    return user is not None and not user.is_operator and user.can(TOKEN_ACTION)


def _ensure_may_act(actor, user: User) -> None:
    """The holder themselves, or the command-line operator (``fangfan issue-token``), whom services trust."""
    if actor is None:
        raise DomainError("必须以具体账号的名义签发或吊销接口令牌")
    if actor.is_operator or actor.pk == user.pk:
        return
    raise DomainError("只能签发或吊销自己的接口令牌")


def personal_token_issue(
    *, actor, user: User, name: str = "", days: int = DEFAULT_DAYS
) -> tuple[PersonalToken, str]:
    """Issue a token for ``user``; returns the row and the token itself (shown once, never stored)."""
    _ensure_may_act(actor, user)
    if not user.is_active:
        raise DomainError(f"账号“{user.username}”已停用，不能签发接口令牌")
    if not may_hold_token(user):
        raise DomainError(
            f"“{user.get_role_display()}”账号不能持有接口令牌（系统管理员、安全管理员、审计管理员和命令行账号除外）"
        )
    if not isinstance(days, int) or not (1 <= days <= MAX_DAYS):
        raise DomainError(f"有效期应为 1 到 {MAX_DAYS} 天")
    name = (name or "").strip()
    if len(name) > 100:
        raise DomainError("令牌名称最多 100 个字")
    raw = PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = PersonalToken.objects.create(
            user=user,
            name=name,
            token_hash=token_hash(raw),
            expires_at=now + timedelta(days=days),
            created_by=actor,
        )
        audit.record(
            actor,
            "personal_token.issued",
            token,
            after={"user": user.username, "name": name, "expires_at": token.expires_at.isoformat()},
            region_code=user.region_id or "",
        )
    return token, raw


def personal_token_revoke(*, actor, token: PersonalToken) -> PersonalToken:
    """Revoke a token (idempotent): every later use of it is refused with 401."""
    _ensure_may_act(actor, token.user)
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor,
            "personal_token.revoked",
            token,
            after={"user": token.user.username, "name": token.name},
            region_code=token.user.region_id or "",
        )
    return token


def personal_token_authenticate(raw: str) -> tuple[User, PersonalToken] | None:
    """The user a bearer string stands for, with its token; None when the token is unknown, revoked, expired, or
    its user is disabled or may hold no token (any of which the API answers with 401)."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > MAX_LENGTH:
        return None
    now = timezone.now()
    token = (
        PersonalToken.objects.filter(token_hash=token_hash(raw), revoked_at__isnull=True, expires_at__gt=now)
        .select_related("user", "user__region")
        .first()
    )
    if token is None or not may_hold_token(token.user):
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token


def tokens_of(user: User) -> list[PersonalToken]:
    """The user's own tokens for their account page, newest first (revoked and expired ones included)."""
    return list(PersonalToken.objects.filter(user=user).select_related("user"))
