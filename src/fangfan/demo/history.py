"""Twelve months of monthly history for the demo town (issue 18 item 7), so that the household page draws an income
line and the trend rule has a previous month to compare with on first login.

Earlier months hold each household's figures as they are now, with the income a little lower the further back
(incomes grow), by a deterministic amount per household, seed and month; about one household in 400 earned more
last month than now, so the screening finds a few sudden income drops (突发严重困难: 收入大幅缩减). A household's 监测对象 type and state follow its 识别监测时间 and 风险消除时间, so the monthly report's trend
moves. One statement per month, set-based, whatever the size of the demo.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from fangfan.core.scoping import unscoped_reads
from fangfan.registry.history import MONTH_COLUMNS, history_snapshot

if TYPE_CHECKING:
    from fangfan.accounts.models import User

MONTHS = 12  # a year: the monthly report draws twelve months
INCOME_COLUMNS = [
    "wage_income",
    "business_income",
    "transfer_income",
    "property_income",
    "net_income",
    "per_capita_income",
]


def _month_back(first: date, back: int) -> date:
    year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
    return date(year, month + 1, 1)


@unscoped_reads()  # demo generation: the operator's system work
def demo_history(*, seed: int, actor: User, today: date | None = None) -> int:
    """Write the demo's months before this one and this month's snapshot; returns the rows written."""
    today = today or timezone.localdate()
    current = today.replace(day=1)
    written = 0
    with transaction.atomic():
        for back in range(MONTHS - 1, 0, -1):
            month = _month_back(current, back)
            # 0–999, fixed by household, seed and month.
            noise = f"((h.id * 7919 + {int(seed) % 10_000} * 104729 + {back} * 31) %% 1000)"
            # Lower by up to 1.5 % a month back; a household whose noise is < 3 earned 60 % more last month.
            factor = (
                f"(CASE WHEN {back} = 1 AND {noise} < 3 THEN 1.6 "
                f"ELSE 1.0 - {back} * ({noise} / 1000.0) * 0.015 END)"
            )
            # A household identified later was no 监测对象 yet; one eliminated later was still 监测中.
            key = f"{month:%Y%m}"
            status = {
                "monitoring_type": f"CASE WHEN h.identified_month > '{key}' THEN '' ELSE h.monitoring_type END",
                "monitoring_state": (
                    f"CASE WHEN h.identified_month > '{key}' THEN '' "
                    f"WHEN h.monitoring_state = 'eliminated' AND h.eliminated_month > '{key}' THEN 'monitoring' "
                    "ELSE h.monitoring_state END"
                ),
            }
            values = [
                status.get(c, f"ROUND(h.{c} * {factor}, 2)" if c in INCOME_COLUMNS else f"h.{c}")
                for c in MONTH_COLUMNS
            ]
            sql = (
                f"INSERT INTO registry_householdmonth (household_id, month, region_code, {', '.join(MONTH_COLUMNS)}, "
                f"backfilled, taken_at) SELECT h.id, %s, h.region_id, {', '.join(values)}, %s, %s "
                "FROM registry_household h WHERE NOT h.cancelled "
                "ON CONFLICT (household_id, month) DO NOTHING"
            )
            with connection.cursor() as cur:
                cur.execute(sql, [month, False, timezone.now()])
                written += max(cur.rowcount, 0)
    written += history_snapshot(actor=actor, today=today).written
    return written
