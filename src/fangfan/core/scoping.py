"""Jurisdiction: every query that reads data of a place goes through ``for_user`` (deny by default).

A model that belongs to a place names its region column in ``region_field`` (a 12-digit code, or a path such as
``household__region_code``). The user's jurisdiction is a code range ``[lo, hi)`` — an indexable range on SQLite
and PostgreSQL alike, unlike ``LIKE 'prefix%'``. The user object provides ``can(action)`` and
``jurisdiction_range()``; a model may narrow further with a classmethod ``narrow_for_user(qs, user, action)``.
"""

from __future__ import annotations

from typing import Any, Self

from django.db import models
from django.db.models import F, Func
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.http import Http404


class Unindexed(Func):
    """A column's value written so that SQLite's planner cannot use an index for a condition on it (a unary
    ``+``, SQLite's documented way to disqualify a term); other databases get the bare column. Same rows either
    way: only which index the planner may take changes."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def jurisdiction_span(user: Any, action: str) -> tuple[str, str] | None:
    """The region code range ``[lo, hi)`` in which ``user`` may do ``action``, or None (nothing: not signed in,
    inactive, not allowed, or no jurisdiction)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not user.can(action):
        return None
    span: tuple[str, str] | None = user.jurisdiction_range()
    return span


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user: Any, action: str, *, region_index: bool = True) -> Self:
        """Rows inside the user's jurisdiction that the action allows. ``region_index=False`` writes the same range
        so that SQLite does not take an index for it: for a county or more, where the range holds nearly every row,
        an index in the wanted sort order is then used and the query stops after a page (SQLite has no statistics
        on how much of the table a range holds and prefers the range)."""
        span = jurisdiction_span(user, action)
        if span is None:
            return self.none()
        lo, hi = span
        field: str = self.model.region_field  # type: ignore[attr-defined]  # declared by every scoped model
        if region_index:
            qs = self.filter(**{f"{field}__gte": lo, f"{field}__lt": hi})
        else:
            column = Unindexed(F(field))
            qs = self.filter(GreaterThanOrEqual(column, lo), LessThan(column, hi))
        narrow = getattr(self.model, "narrow_for_user", None)
        if narrow is not None:
            qs = narrow(qs, user, action)
        return qs


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def get_for_user_or_404(queryset: ScopedQuerySet, user: Any, action: str, **lookup: Any) -> Any:
    """One object inside the user's jurisdiction, or 404 — never a 403 that confirms it exists."""
    try:
        return queryset.for_user(user, action).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc
