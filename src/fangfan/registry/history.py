"""Monthly history (plan M5, issue 18 item 7): every household's figures kept per month.

``history_snapshot`` copies the households of a region into ``HouseholdMonth`` with one ``INSERT … SELECT`` (never
a loop over households). The current month is an upsert: running it again the same month brings each row up to
date and rewrites only the rows that changed, so a second run over unchanged data writes nothing. A past month is
only filled where a household has no row yet (``backfilled``, the figures as they are now): history already kept is
never rewritten. A future month is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.core.testhooks import checkpoint
from fangfan.regions.codes import code_range

from .models import Household, HouseholdMonth

if TYPE_CHECKING:
    from fangfan.accounts.models import User

# The columns a month keeps, named as on the household (``registry_household`` → ``registry_householdmonth``).
MONTH_COLUMNS = [
    "household_type",
    "exited_class",
    "monitoring_type",
    "monitoring_state",
    "suggestion",
    "size",
    "wage_income",
    "business_income",
    "business_expense",
    "property_income",
    "transfer_income",
    "compliant_self_paid",
    "net_income",
    "per_capita_income",
    "food_clothing_secure",
    "housing_grade",
    "water_safe",
    "education_secure",
    "medical_secure",
    "has_labour",
]


@dataclass(frozen=True)
class SnapshotResult:
    month: date
    region_code: str
    households: int  # households of the region in the registry (not cancelled)
    written: int  # rows inserted or changed by this run
    backfilled: bool


def month_parse(raw: str | None, *, today: date | None = None) -> date:
    """``YYYY-MM`` (or ``YYYYMM``) → the month's first day; empty → the current month. Chinese error otherwise."""
    today = today or timezone.localdate()
    if not raw:
        return today.replace(day=1)
    text = raw.strip().replace("-", "").replace("/", "")
    if len(text) != 6 or not text.isdigit():
        raise DomainError(f"月份“{raw}”格式不对，应为 YYYY-MM，例如 {today:%Y-%m}")
    year, month = int(text[:4]), int(text[4:])
    if not 1 <= month <= 12 or year < 2000:
        raise DomainError(f"月份“{raw}”不存在，应为 YYYY-MM，例如 {today:%Y-%m}")
    return date(year, month, 1)


def _distinct(a: str, b: str) -> str:
    """``a`` differs from ``b``, NULLs compared as values (SQLite's ``IS NOT``, PostgreSQL's ``IS DISTINCT FROM``)."""
    op = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    return f"{a} {op} {b}"


def history_snapshot(
    *, actor: User, month: date | None = None, region_code: str | None = None, today: date | None = None
) -> SnapshotResult:
    """Keep every (not cancelled) household's figures for ``month`` (default: this month) in the region (default:
    everything). Idempotent; one audit event per run."""
    today = today or timezone.localdate()
    current = today.replace(day=1)
    month = (month or current).replace(day=1)
    if month > current:
        raise DomainError(f"{month:%Y-%m} 还没有到，不能记录该月数据")
    backfill = month < current
    lo, hi = code_range(region_code) if region_code else ("", "~")
    cols = ", ".join(MONTH_COLUMNS)
    source = ", ".join(f"h.{c}" for c in MONTH_COLUMNS)
    insert = (
        f"INSERT INTO registry_householdmonth (household_id, month, region_code, {cols}, backfilled, taken_at) "
        f"SELECT h.id, %s, h.region_id, {source}, %s, %s FROM registry_household h "
        "WHERE NOT h.cancelled AND h.region_id >= %s AND h.region_id < %s "
    )
    update = None
    if backfill:
        insert += "ON CONFLICT (household_id, month) DO NOTHING"
    else:
        # The current month: the rows that changed are updated, then the missing ones inserted. One upsert (``ON
        # CONFLICT DO UPDATE … WHERE changed``) did the same, but PostgreSQL locks every conflicting row even when
        # its WHERE is false — a write to each of the county's 250 000 rows for a run that changes nothing.
        tracked = ["region_code", *MONTH_COLUMNS]
        sets = ", ".join(f"{c} = h.{'region_id' if c == 'region_code' else c}" for c in tracked)
        changed = " OR ".join(
            _distinct(f"registry_householdmonth.{c}", f"h.{'region_id' if c == 'region_code' else c}")
            for c in tracked
        )
        update = (
            f"UPDATE registry_householdmonth SET {sets}, taken_at = %s FROM registry_household h "
            "WHERE h.id = registry_householdmonth.household_id AND registry_householdmonth.month = %s "
            f"AND NOT h.cancelled AND h.region_id >= %s AND h.region_id < %s AND ({changed})"
        )
        insert += (
            "AND NOT EXISTS (SELECT 1 FROM registry_householdmonth m WHERE m.household_id = h.id AND m.month = %s) "
            "ON CONFLICT (household_id, month) DO NOTHING"
        )
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cur:
            written = 0
            if update is not None:
                cur.execute(update, [now, month, lo, hi])
                written += max(cur.rowcount, 0)
                cur.execute(insert, [month, backfill, now, lo, hi, month])
            else:
                cur.execute(insert, [month, backfill, now, lo, hi])
            written += max(cur.rowcount, 0)
        checkpoint("registry.snapshot")  # the kill tests stop a snapshot here (issue 21.3)
        # Unscoped: the snapshot is the operator's (``fangfan snapshot``, ``fangfan screen``) over its region.
        households = (
            Household.objects.unscoped().filter(cancelled=False, region_id__gte=lo, region_id__lt=hi).count()
        )
        audit.record(
            actor,
            "history.snapshot",
            region_code=region_code or "",
            object_type="registry.householdmonth",
            object_id=f"{month:%Y-%m}",
            object_label=f"{month:%Y-%m} 月度记录",
            after={
                "month": f"{month:%Y-%m}",
                "households": households,
                "written": written,
                "backfill": backfill,
            },
        )
    return SnapshotResult(
        month=month,
        region_code=region_code or "",
        households=households,
        written=written,
        backfilled=backfill,
    )


def income_months(household: Household, *, months: int = 12) -> list[HouseholdMonth]:
    """The household's last ``months`` monthly rows, oldest first (the household page's income chart). The caller
    has already read the household through the user's jurisdiction; its months are the household's own."""
    rows = list(
        household.months.order_by("-month").only(
            "month", "per_capita_income", "net_income", "size", "backfilled"
        )[:months]
    )
    rows.reverse()
    return rows


def income_chart(rows: list[HouseholdMonth], *, line: Decimal | None = None) -> dict:
    """The ECharts option of a household's 年人均纯收入 over its months (app.js draws any ``data-chart``), with the
    monitoring line as a dashed mark when it is known."""
    series: dict = {
        "type": "line",
        "name": "年人均纯收入",
        "data": [float(r.per_capita_income) if r.per_capita_income is not None else None for r in rows],
        "connectNulls": False,
        "symbolSize": 6,
    }
    if line is not None:
        series["markLine"] = {
            "symbol": "none",
            "lineStyle": {"type": "dashed", "color": "#d63939"},
            "label": {"position": "insideStartTop", "formatter": f"监测收入标准 {line:.0f}"},
            "data": [{"yAxis": float(line)}],
        }
    return {
        "grid": {"left": 48, "right": 16, "top": 24, "bottom": 28},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [f"{r.month:%Y-%m}" for r in rows]},
        "yAxis": {"type": "value", "name": "元"},
        "series": [series],
    }
