"""The ledger framework (台账, DATA-FORMATS §5): a ``Ledger`` says what a ledger is — its CLI name (``code``), its
title, its fixed columns, the action that reads it — and how to produce its rows for a ``LedgerScope`` (who asks,
which region or village, which month). One writer (``writer.ledger_write``) turns any ledger into a printable
.xlsx; one list page pages through any of them (``views``).

Rows are produced set-based: a ledger built on a queryset (``QueryLedger``) reads its ordered primary rows in
chunks and fills each chunk's other columns with a few queries over the whole chunk (risk types, measures, helpers
of 2 000 households at a time), never one query per household. A ledger of another app that is not there yet
(``FunctionLedger``, e.g. 资金台账) names its row function by its dotted path and stays hidden until it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, islice
from typing import Any

from django.db.models import QuerySet
from django.utils.module_loading import import_string

from fangfan.regions.codes import Level, code_range, level_of
from fangfan.regions.models import Region

CHUNK = 2000


@dataclass
class LedgerScope:
    """Who asks and for what: ``region`` (a code inside the user's jurisdiction — the whole jurisdiction when it is
    the user's own region; everything for the command-line account when empty), ``village`` (narrower still),
    ``first``/``after`` the month asked for (a ledger of records as they stand takes the month's end; one of
    events, such as the 联系台账, the events inside it), ``reveal_ids`` (whole ID numbers, for those allowed)."""

    user: object
    region: str = ""
    village: str = ""
    first: date | None = None
    after: date | None = None
    reveal_ids: bool = False
    today: date | None = None
    _names: dict[str, str] | None = field(default=None, repr=False)
    _kept: dict[str, Any] = field(default_factory=dict, repr=False)

    def kept(self, key: str, make: Callable[[], Any]) -> Any:
        """``make()`` once per scope (one export, one page): a small table a ledger's chunks all look up."""
        if key not in self._kept:
            self._kept[key] = make()
        return self._kept[key]

    @property
    def place(self) -> str:
        return self.village or self.region

    def span(self) -> tuple[str, str] | None:
        place = self.place
        return code_range(place) if place else None

    def scoped(self, model, action: str, *, field: str | None = None) -> QuerySet:
        """``model``'s rows the user may read with ``action`` (all of them for the command-line account), inside
        the scope's region or village."""
        qs = model.objects.for_user(self.user, action)
        span = self.span()
        if span is not None:
            column = field or model.region_field
            qs = qs.filter(**{f"{column}__gte": span[0], f"{column}__lt": span[1]})
        return qs

    def names(self) -> dict[str, str]:
        """Region code → name for the towns and villages of the scope (one query, a county's few hundred)."""
        if self._names is None:
            qs = Region.objects.filter(level__in=(Level.TOWN, Level.VILLAGE))
            span = code_range(self.region) if self.region else None
            if span is not None:
                qs = qs.filter(code__gte=span[0], code__lt=span[1])
            self._names = dict(qs.values_list("code", "name"))
        return self._names

    def town_of(self, village_code: str) -> str:
        town = village_code[:9] + "000"
        return self.names().get(town, "")

    def village_of(self, village_code: str) -> str:
        return self.names().get(village_code, village_code)

    def places(self) -> Callable[[str], tuple[str, str]]:
        """``places(village_code)`` → (town name, village name), each village worked out once."""
        known: dict[str, tuple[str, str]] = {}

        def place(code: str) -> tuple[str, str]:
            found = known.get(code)
            if found is None:
                found = known[code] = (self.town_of(code), self.village_of(code))
            return found

        return place

    @property
    def month_text(self) -> str:
        return f"{self.first:%Y年%m月}" if self.first else ""

    @property
    def month_end(self) -> date | None:
        return self.after

    @property
    def month_key(self) -> str:
        """``YYYYMM`` of the month (the registry's 识别监测时间 and 风险消除时间 are written so)."""
        return f"{self.first:%Y%m}" if self.first else ""


@dataclass(frozen=True)
class Ledger:
    code: str  # the CLI name: ``fangfan export ledger CODE``
    title: str  # 监测对象台账
    columns: tuple[str, ...]  # the fixed headers of DATA-FORMATS §5, 序号 first
    action: str = "household.view"  # reading it
    export_action: str = "household.export"  # exporting it (with ``action``)
    widths: tuple[int, ...] = ()
    numbers: tuple[int, ...] = (0,)  # columns written as numbers (序号 and counts)
    money: tuple[int, ...] = ()  # columns written as money
    monthly: bool = False  # the month selects events (联系台账) rather than the date the records stand at
    has_ids: bool = False  # a 证件号码 column (masked unless asked and allowed)
    description: str = ""

    def available(self) -> bool:
        return True

    def may_read(self, user) -> bool:
        return user.can(self.action)

    def may_export(self, user) -> bool:
        return user.can(self.action) and user.can(self.export_action)

    def count(self, scope: LedgerScope) -> int:
        raise NotImplementedError

    def rows(self, scope: LedgerScope, *, offset: int = 0, limit: int | None = None) -> Iterator[list]:
        """The rows (without 序号) in ledger order, from ``offset``, at most ``limit``."""
        raise NotImplementedError


@dataclass(frozen=True)
class QueryLedger(Ledger):
    """A ledger over ordered querysets (``query(scope)``): one, or a list of parts read one after the other (the
    rows that come first, then the rest — each in index order, so a page reads only its own rows instead of sorting
    the whole place by a ``CASE``); ``render(scope, objects)`` turns a chunk of their objects into rows with a few
    set-based queries over the chunk."""

    query: Callable[[LedgerScope], QuerySet | list[QuerySet]] | None = None
    render: Callable[[LedgerScope, list], Iterable[list]] | None = None

    def parts(self, scope: LedgerScope) -> list[QuerySet]:
        query = self.query(scope)
        return query if isinstance(query, list) else [query]

    def count(self, scope: LedgerScope) -> int:
        return sum(qs.order_by().count() for qs in self.parts(scope))

    def rows(self, scope: LedgerScope, *, offset: int = 0, limit: int | None = None) -> Iterator[list]:
        parts = self.parts(scope)
        if limit is not None:
            objects: list = []
            for n, qs in enumerate(parts):
                if n < len(parts) - 1 and offset:
                    size = qs.order_by().count()  # a later page skips the parts before it by their counts
                    if offset >= size:
                        offset -= size
                        continue
                got = list(qs[offset : offset + limit - len(objects)])
                objects.extend(got)
                offset = 0
                if len(objects) >= limit:
                    break
            yield from self.render(scope, objects)
            return
        read = []
        for qs in parts:
            if offset:
                size = qs.order_by().count()
                if offset >= size:
                    offset -= size
                    continue
                qs, offset = qs[offset:], 0
            read.append(qs.iterator(chunk_size=CHUNK))
        objects = chain.from_iterable(read)  # a chunk runs on into the next part: its lookups once per chunk
        while chunk := list(islice(objects, CHUNK)):
            yield from self.render(scope, chunk)


@dataclass(frozen=True)
class FunctionLedger(Ledger):
    """A ledger whose rows come from a function of another app, named by its dotted path and looked up when asked:
    until that function exists (the app is being built), the ledger is not offered. The function is called as
    ``function(user=…, region_code=…, village=…, first=…, after=…)`` and yields rows in the ledger's column order
    after 序号 (it scopes them to the user's jurisdiction itself)."""

    function_path: str = ""

    def function(self) -> Callable | None:
        try:
            return import_string(self.function_path)
        except ImportError:
            return None

    def available(self) -> bool:
        return self.function() is not None

    def _all(self, scope: LedgerScope) -> Iterator[list]:
        function = self.function()
        if function is None:
            return iter(())
        return iter(
            function(
                user=scope.user,
                region_code=scope.region,
                village=scope.village,
                first=scope.first,
                after=scope.after,
            )
        )

    def count(self, scope: LedgerScope) -> int:
        return sum(1 for _row in self._all(scope))

    def rows(self, scope: LedgerScope, *, offset: int = 0, limit: int | None = None) -> Iterator[list]:
        stop = None if limit is None else offset + limit
        return islice(self._all(scope), offset, stop)


LEDGERS: dict[str, Ledger] = {}


def register(ledger: Ledger) -> Ledger:
    LEDGERS[ledger.code] = ledger
    return ledger


def ledger_get(code: str) -> Ledger | None:
    """The ledger named ``code`` if it is registered and available (a guarded one only once its app exists)."""
    ledger = LEDGERS.get(code)
    return ledger if ledger is not None and ledger.available() else None


def ledgers_for(user) -> list[Ledger]:
    """The ledgers ``user`` may read, in the order of DATA-FORMATS §5."""
    return [ledger for ledger in LEDGERS.values() if ledger.available() and ledger.may_read(user)]


def scope_level(scope: LedgerScope) -> Level | None:
    return level_of(scope.place) if scope.place else None


def month_after(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def scope_build(
    user,
    *,
    region: str = "",
    village: str = "",
    month: str = "",
    reveal_ids: bool = False,
    today: date | None = None,
) -> LedgerScope:
    """A scope from what was asked (a command's options, a page's filters, a job's parameters), checked: the region
    must lie inside the user's jurisdiction (a DomainError otherwise — the page answers 404), a month is
    ``YYYY-MM`` and not in the future. Without a region: the user's own (everything for the command line)."""
    from django.utils import timezone

    from fangfan.core.errors import DomainError
    from fangfan.registry.history import month_parse

    today = today or timezone.localdate()
    region = (region or "").strip()
    if not region and not user.is_operator:
        region = user.region_id or ""
    if region:
        if len(region) != 12 or not region.isdigit():
            raise DomainError(f"区划代码“{region}”无效，应为 12 位数字")
        if not user.is_operator:
            span = user.jurisdiction_range()
            if span is None or not (span[0] <= region < span[1]):
                raise DomainError(f"区划 {region} 不在您的管辖范围内")
    if village:
        lo, hi = code_range(region) if region else ("", "~")
        if len(village) != 12 or not village.isdigit() or not (lo <= village < hi):
            raise DomainError(f"村（社区）代码“{village}”不在所选区划内")
    first = after = None
    if month:
        first = month_parse(month, today=today)
        if first > today.replace(day=1):
            raise DomainError(f"{first:%Y-%m} 还没有到")
        after = month_after(first)
    return LedgerScope(
        user=user,
        region=region,
        village=village,
        first=first,
        after=after,
        reveal_ids=reveal_ids,
        today=today,
    )
