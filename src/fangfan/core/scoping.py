"""Jurisdiction: every query that reads data of a place goes through ``for_user`` (deny by default).

A model that belongs to a place names its region column in ``region_field`` (a 12-digit code, or a path such as
``household__region_code``). The user's jurisdiction is a code range ``[lo, hi)`` — an indexable range on SQLite
and PostgreSQL alike, unlike ``LIKE 'prefix%'``. The user object provides ``can(action)`` and
``jurisdiction_range()``; a model may narrow further with a classmethod ``narrow_for_user(qs, user, action)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Self

from django.conf import settings
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


class ScopeError(RuntimeError):
    """A scoped model was read or written without a scope: say ``for_user(user, action)`` or, on a system path,
    ``unscoped()``."""


# True inside ``unscoped_reads()``: a block of system work (a command, a background job as the operator) whose
# reads of scoped models need no scope. Named, so that grep finds every such block.
_UNSCOPED_BLOCK: ContextVar[bool] = ContextVar("fangfan_unscoped_block", default=False)


def guard_enabled() -> bool:
    """Whether an unscoped read of a scoped model raises (``settings.SCOPE_GUARD``, on unless the environment says
    ``FANGFAN_SCOPE_GUARD=0``)."""
    return bool(getattr(settings, "SCOPE_GUARD", True))


# Tests read scoped rows directly to check what the code under test did; the test settings install a predicate
# that exempts a read whose first caller outside Django is test code (``tests/conftest.py``). Only consulted when a
# read would otherwise raise, so it costs nothing on a scoped read.
_exempt_caller: Callable[[], bool] | None = None


def set_exempt_caller(predicate: Callable[[], bool] | None) -> None:
    """Install (or remove, with None) the predicate that exempts an unscoped read made by test code itself."""
    global _exempt_caller  # noqa: PLW0603 - one process-wide switch, set once by the test configuration
    _exempt_caller = predicate


@contextmanager
def unscoped_reads() -> Iterator[None]:
    """A block of system work that reads scoped models without a user's scope (the named unscoped path)."""
    token = _UNSCOPED_BLOCK.set(True)
    try:
        yield
    finally:
        _UNSCOPED_BLOCK.reset(token)


class ScopedQuerySet(models.QuerySet):
    """A queryset of a model that belongs to a place (a model may say ``scope_guarded = False`` when its rows are
    public structure read before any scope exists: regions, users signing in). It may be evaluated (read, counted, updated, deleted) only
    once scoped: by ``for_user(user, action)``, by the explicit system path ``unscoped()``, through a related
    manager of an object already read, or inside ``unscoped_reads()``. Otherwise, with ``settings.SCOPE_GUARD``
    on, it raises ``ScopeError`` (fails closed). Building a queryset is free; the check runs when it hits the
    database."""

    _scoped: bool = False

    def _clone(self) -> Self:
        clone: Self = super()._clone()  # type: ignore[misc]
        clone._scoped = self._scoped
        return clone

    def unscoped(self) -> Self:
        """Every row, for a system path (the command-line operator, a background job, a migration of data):
        the one named way to read a scoped model without a user's jurisdiction."""
        clone = self._chain()  # type: ignore[attr-defined]
        clone._scoped = True
        return clone  # type: ignore[no-any-return]

    def _check_scope(self) -> None:
        if self._scoped or _UNSCOPED_BLOCK.get() or not guard_enabled():
            return
        if not getattr(self.model, "scope_guarded", True):
            return
        if _exempt_caller is not None and _exempt_caller():
            return
        raise ScopeError(
            f"{self.model._meta.label} 未按辖区读取：请用 for_user(user, action)，系统路径用 unscoped()"
        )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._check_scope()
        super()._fetch_all()

    def iterator(self, *args: Any, **kwargs: Any) -> Any:
        self._check_scope()
        return super().iterator(*args, **kwargs)

    def count(self) -> int:
        if self._result_cache is None:
            self._check_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._check_scope()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._check_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._check_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_scope()
        return super().delete()

    def none(self) -> Self:
        """No rows: nothing to scope."""
        empty: Self = super().none()
        empty._scoped = True
        return empty

    def lock(self, obj: Any) -> Any:
        """The stored row of ``obj`` — an object the caller already read under a scope or on a system path —
        read again and locked (``SELECT … FOR UPDATE``) before a change."""
        return self.unscoped().select_for_update().get(pk=obj.pk)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        """Writes back objects the caller already holds (read under a scope or on a system path), by key: like
        ``save()``, no scope of its own is needed."""
        return super(ScopedQuerySet, self.unscoped()).bulk_update(objs, fields, batch_size=batch_size)

    def in_bulk(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        self._check_scope()
        return super().in_bulk(*args, **kwargs)

    def for_user(self, user: Any, action: str, *, region_index: bool = True) -> Self:
        """Rows inside the user's jurisdiction that the action allows. ``region_index=False`` writes the same range
        so that SQLite does not take an index for it: for a county or more, where the range holds nearly every row,
        an index in the wanted sort order is then used and the query stops after a page (SQLite has no statistics
        on how much of the table a range holds and prefers the range)."""
        if getattr(user, "is_operator", False) and user.is_active:
            # The command-line operator may do every action everywhere: every row, without a range to plan.
            return self.unscoped()
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
        qs._scoped = True
        return qs


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    """The manager of a model that belongs to a place (see ``ScopedQuerySet``). A related manager
    (``household.members``) is scoped by the object it hangs from, which was itself read under a scope."""

    def get_queryset(self) -> ScopedQuerySet:
        qs: ScopedQuerySet = super().get_queryset()
        if getattr(self, "instance", None) is not None:
            qs._scoped = True
        return qs


def get_for_user_or_404(queryset: ScopedQuerySet, user: Any, action: str, **lookup: Any) -> Any:
    """One object inside the user's jurisdiction, or 404 — never a 403 that confirms it exists."""
    try:
        return queryset.for_user(user, action).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def _statement(queryset: models.QuerySet) -> tuple[str, tuple[Any, ...]] | None:
    """The SQL of a queryset about to be run as part of a larger statement, checked by the guard as if it were run
    on its own; None for one that can match nothing (``none()``, an empty ``IN``)."""
    from django.core.exceptions import EmptyResultSet

    if isinstance(queryset, ScopedQuerySet):
        queryset._check_scope()
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, tuple(params)


def counts_together(querysets: dict[str, models.QuerySet]) -> dict[str, int]:
    """The row count of each queryset, in one statement (``SELECT (SELECT COUNT(*) FROM (…)), …``): a page that
    shows several counts pays one round trip to the database instead of one each."""
    from django.db import connection

    parts: list[tuple[str, str]] = []
    params: list[Any] = []
    counts: dict[str, int] = {}
    for name, queryset in querysets.items():
        statement = _statement(queryset.order_by())
        if statement is None:
            counts[name] = 0
            continue
        parts.append((name, f"(SELECT COUNT(*) FROM ({statement[0]}) AS c{len(parts)})"))
        params.extend(statement[1])
    if parts:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(sql for _name, sql in parts), params)
            row = cursor.fetchone()
        counts.update({name: int(n) for (name, _sql), n in zip(parts, row, strict=True)})
    return {name: counts[name] for name in querysets}


def rows_together(querysets: list[models.QuerySet]) -> list[tuple[Any, ...]]:
    """The rows of several ``values_list`` querysets — each with its own ORDER BY and LIMIT — in one ``UNION ALL``
    statement (one round trip); the caller orders what comes back."""
    from django.db import connection

    parts: list[str] = []
    params: list[Any] = []
    for queryset in querysets:
        statement = _statement(queryset)
        if statement is None:
            continue
        parts.append(f"SELECT * FROM ({statement[0]}) AS u{len(parts)}")
        params.extend(statement[1])
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return list(cursor.fetchall())
