"""Reads of platform records that must respect jurisdiction: the audit log and background jobs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from .job_access import visible_jobs
from .models import AuditEvent, Job
from .scoping import ScopedQuerySet


def audit_events_for_user(user: Any, action: str = "audit.view") -> QuerySet[AuditEvent]:
    """Audit events whose region lies in the user's jurisdiction, plus the events that belong to no region
    (a failed sign-in with an unknown account name, a command run by the operator): every audit administrator
    must see those, or they would be seen by nobody. They hold no household data."""
    scoped: QuerySet[AuditEvent] = ScopedQuerySet(model=AuditEvent).for_user(user, action)
    if not user.can(action):
        return scoped
    return AuditEvent.objects.filter(Q(pk__in=scoped.values("pk")) | Q(region_code=""))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(
    user: Any,
    *,
    action: str = "audit.view",
    action_code: str = "",
    username: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The audit events a user may read, filtered: the action code (exact, or a prefix ending in '.'), the
    acting account and a range of days (both ends included, local time)."""
    qs = audit_events_for_user(user, action)
    action_code = action_code.strip()
    if action_code:
        qs = (
            qs.filter(action__startswith=action_code)
            if action_code.endswith(".")
            else qs.filter(action=action_code)
        )
    if username.strip():
        qs = qs.filter(actor_username=username.strip())
    if date_from:
        qs = qs.filter(at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    return qs.order_by("-id")


def audit_events_today(user: Any) -> int:
    today = timezone.localdate()
    return audit_events_for_user(user).filter(at__gte=_day_start(today)).count()


@dataclass
class KeysetPage:
    """One page of a list ordered by descending id, without a COUNT over the whole table (DESIGN: measured)."""

    items: list
    newer: int | None  # pass as ?after= to get the page before this one (newer events)
    older: int | None  # pass as ?before= to get the next page (older events)


def keyset_page(
    qs: QuerySet, *, before: int | None = None, after: int | None = None, size: int = 50
) -> KeysetPage:
    if after is not None:
        rows = list(qs.filter(id__gt=after).order_by("id")[: size + 1])
        more_newer = len(rows) > size
        items = list(reversed(rows[:size]))
        newer = items[0].id if items and more_newer else None
        older = items[-1].id if items and qs.filter(id__lt=items[-1].id).exists() else None
        return KeysetPage(items, newer, older)
    qs_page = qs.filter(id__lt=before) if before is not None else qs
    rows = list(qs_page.order_by("-id")[: size + 1])
    items = rows[:size]
    older = items[-1].id if len(rows) > size else None
    newer = items[0].id if items and before is not None and qs.filter(id__gt=items[0].id).exists() else None
    return KeysetPage(items, newer, older)


def role_labels() -> dict[str, str]:
    """Role code → Chinese label, from the user model's own choices (core does not import accounts)."""
    field = get_user_model()._meta.get_field("role")
    return {str(k): str(v) for k, v in field.flatchoices}


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """Region code → name for the codes given, through the user model's region relation."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    Region = get_user_model()._meta.get_field("region").related_model
    return dict(Region._default_manager.filter(pk__in=wanted).values_list("pk", "name"))


def jobs_for_user(user: Any, action: str = "job.view") -> QuerySet[Job]:
    """The jobs a user may see now: the pages of jobs need ``action`` (``job.view``), and each job the action that
    produced it, in its region (``job_access``: a job's creator without that right no longer sees it)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.can(action):
        return Job.objects.none()
    return visible_jobs(user).select_related("created_by")
