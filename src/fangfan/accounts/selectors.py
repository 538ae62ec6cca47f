"""Reads of accounts for the administrators' pages; every one goes through ``User.objects.for_user``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

from fangfan.regions.codes import code_range
from fangfan.regions.models import Region

from .models import SERVICE_ACCOUNT_PREFIX, User


def users_for_admin(
    admin, *, role: str = "", region: str = "", q: str = "", active: str = "", action: str = "user.manage"
) -> QuerySet[User]:
    """Users in the administrator's jurisdiction, filtered by role, region subtree, active flag and a search
    over username and name."""
    # the department API's service accounts (dept-token-N) are no people: they are managed with their tokens
    qs = (
        User.objects.for_user(admin, action)
        .exclude(username__startswith=SERVICE_ACCOUNT_PREFIX)
        .select_related("region")
    )
    if role:
        qs = qs.filter(role=role)
    if region:
        lo, hi = code_range(region)
        qs = qs.filter(region_id__gte=lo, region_id__lt=hi)
    if active in ("1", "0"):
        qs = qs.filter(is_active=active == "1")
    q = q.strip()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    return qs.order_by("region_id", "username")


def regions_for_admin(admin, action: str = "region.view") -> QuerySet[Region]:
    """Regions an administrator may bind accounts to (their own subtree)."""
    return Region.objects.for_user(admin, action).order_by("code")


# --- login security (安全管理员) ------------------------------------------------------------------------------


def failure_limit() -> int:
    limit = getattr(settings, "AXES_FAILURE_LIMIT", 5)
    return limit if isinstance(limit, int) else 5


def _cooloff_threshold() -> datetime:
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    if cooloff is None:
        return datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return timezone.now() - cooloff


@dataclass(frozen=True)
class LockedAccount:
    username: str
    failures: int
    last_attempt: datetime
    unlocks_at: datetime | None
    user: User | None


def locked_accounts(admin) -> list[LockedAccount]:
    """Accounts of the jurisdiction that django-axes is holding locked right now."""
    from axes.models import AccessAttempt

    scoped = User.objects.for_user(admin, "security.manage")
    # The lock-out is per account and address: an account is locked from each address that failed often enough.
    per_address = (
        AccessAttempt.objects.filter(
            attempt_time__gte=_cooloff_threshold(), username__in=scoped.values("username")
        )
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=failure_limit())
        .order_by("-last")
    )
    by_user: dict[str, dict] = {}
    for row in per_address:
        kept = by_user.setdefault(row["username"], dict(row))
        kept["failures"] = max(kept["failures"], row["failures"])
        kept["last"] = max(kept["last"], row["last"])
    rows = sorted(by_user.values(), key=lambda r: r["last"], reverse=True)
    users = {u.username: u for u in scoped.filter(username__in=[r["username"] for r in rows])}
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    return [
        LockedAccount(
            username=r["username"],
            failures=r["failures"],
            last_attempt=r["last"],
            unlocks_at=r["last"] + cooloff if cooloff is not None else None,
            user=users.get(r["username"]),
        )
        for r in rows
    ]


def recent_login_failures(admin, *, limit: int = 50):
    """The latest failed sign-ins of accounts in the jurisdiction (django-axes' failure log)."""
    from axes.models import AccessFailureLog

    scoped = User.objects.for_user(admin, "security.manage")
    return AccessFailureLog.objects.filter(username__in=scoped.values("username")).order_by("-attempt_time")[
        :limit
    ]


def login_failures_since(admin, since: datetime) -> int:
    from axes.models import AccessFailureLog

    scoped = User.objects.for_user(admin, "security.manage")
    return AccessFailureLog.objects.filter(
        username__in=scoped.values("username"), attempt_time__gte=since
    ).count()
