"""资金台账 and 消费帮扶台账 (DATA-FORMATS §5, ``funds`` and ``consumption``): the rows, scoped to the user, in the
columns the spec fixes, and their printable .xlsx (``exporting.write_ledger``: A4 landscape, header repeated, fitted
to the page width, page numbers in the footer). The reports app's ledger list calls these four functions."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from decimal import Decimal
from typing import IO, TYPE_CHECKING

from django.db.models import Q, Sum

from fangfan.core import audit
from fangfan.monitoring.selectors import village_names
from fangfan.regions.codes import code_range

from .choices import SalesChannel
from .exporting import write_ledger
from .fund_selectors import LedgerFilters, ledger_entries, ledger_funds
from .models import Fund, FundEntry
from .selectors import priority_order

if TYPE_CHECKING:
    from fangfan.accounts.models import User

FUND_TITLE = "资金台账"
FUND_HEADERS = [
    "序号",
    "日期",
    "凭证号",
    "摘要",
    "收入（元）",
    "支出（元）",
    "余额（元）",
    "户编号",
    "户主姓名",
    "措施",
    "审批人",
]
FUND_WIDTHS = [6, 11, 14, 36, 12, 12, 13, 20, 10, 14, 10]
CONSUMPTION_TITLE = "消费帮扶台账"
CONSUMPTION_HEADERS = [
    "序号",
    "村",
    "户编号",
    "户主姓名",
    "产品",
    "渠道",
    "数量",
    "单位",
    "金额（元）",
    "日期",
]
CONSUMPTION_WIDTHS = [6, 12, 20, 10, 18, 14, 10, 6, 12, 11]


def fund_ledger_rows(
    user, fund: Fund | None = None, date_from: date | None = None, date_to: date | None = None
) -> list[list]:
    """The 资金台账 rows of one fund (or of every fund whose ledger the user may read), in the order the entries were
    written: 余额 is the fund's balance after each entry. 审批人: the 镇领导小组 member who approved the payment."""
    funds = ledger_funds(user)
    if fund is not None:
        funds = funds.filter(pk=fund.pk)
    fund_ids = list(funds.values_list("pk", flat=True))
    several = fund is None and len(fund_ids) > 1
    rows = []
    for n, e in enumerate(
        ledger_entries(fund_ids, LedgerFilters(date_from, date_to)).iterator(2000), start=1
    ):
        req = e.request
        summary = f"【{e.fund.name}】{e.summary}" if several else e.summary
        rows.append(
            [
                n,
                e.day.isoformat(),
                e.voucher,
                summary,
                e.income or "",
                e.expense or "",
                e.balance_after,
                e.household.number if e.household_id else "",
                e.household.head_name if e.household_id else "",
                req.measure.measure_type.name if req is not None and req.measure_id else "",
                str(req.decided_by) if req is not None and req.decided_by_id else "",
            ]
        )
    return rows


def _place_name(code: str) -> str:
    return village_names([code]).get(code, "") if code else ""


def fund_ledger_export(
    *,
    actor: User,
    path: str | IO[bytes],
    fund: Fund | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> int:
    """Write the 资金台账 (.xlsx); audited with the fund, the dates and the count (the sheet names household heads)."""
    rows = fund_ledger_rows(actor, fund, date_from, date_to)
    if fund is not None:
        place = f"{fund.name}，{_place_name(fund.region_id)}"
    else:
        place = _place_name(getattr(actor, "region_id", "") or "")
    span = f"{date_from or '起'} 至 {date_to or date.today()}"
    count = write_ledger(
        path,
        title=f"{FUND_TITLE}（{place}，{span}）",
        sheet=FUND_TITLE,
        headers=FUND_HEADERS,
        widths=FUND_WIDTHS,
        rows=rows,
        money_columns={4, 5, 6},
    )
    audit.record(
        actor,
        "fund.ledger_exported",
        fund,
        object_type="assistance.fund",
        region_code=fund.region_id if fund is not None else None,
        after={"rows": count, "fund": fund.pk if fund else None, "from": date_from, "to": date_to},
        note="导出资金台账",
    )
    return count


def month_span(month: date | str | None) -> tuple[date, date] | None:
    """The first and last day of a month given as a date in it or "YYYY-MM"; None for no month."""
    if not month:
        return None
    if isinstance(month, str):
        year, mon = (int(x) for x in month.split("-")[:2])
    else:
        year, mon = month.year, month.month
    return date(year, mon, 1), date(year, mon, monthrange(year, mon)[1])


def consumption_ledger_rows(user, region: str = "", month: date | str | None = None) -> list[list]:
    """The 消费帮扶台账 rows: the sales the user may see in the region (a village or a town; all when empty) and
    month (all when None), monitored households first, then by date."""
    from .consumption import sales_for_user

    qs = sales_for_user(user)
    if region:
        lo, hi = code_range(region)
        qs = qs.filter(Q(region_code__gte=lo) & Q(region_code__lt=hi))
    span = month_span(month)
    if span:
        qs = qs.filter(day__gte=span[0], day__lte=span[1])
    qs = qs.select_related("household", "product").order_by(priority_order(), "day", "id")
    channels = dict(SalesChannel.choices)
    sales = list(qs)
    villages = village_names({s.region_code for s in sales})
    return [
        [
            n,
            villages.get(s.region_code, s.region_code),
            s.household.number,
            s.household.head_name,
            s.product.name,
            str(channels.get(s.channel, s.channel)),
            s.quantity,
            s.unit,
            s.amount,
            s.day.isoformat(),
        ]
        for n, s in enumerate(sales, start=1)
    ]


def consumption_ledger_export(
    *, actor: User, path: str | IO[bytes], region: str = "", month: date | str | None = None
) -> int:
    """Write the 消费帮扶台账 (.xlsx); audited with the region, the month and the count."""
    rows = consumption_ledger_rows(actor, region, month)
    span = month_span(month)
    place = _place_name(region or getattr(actor, "region_id", "") or "")
    when = f"{span[0]:%Y年%m月}" if span else f"截至{date.today():%Y年%m月%d日}"
    count = write_ledger(
        path,
        title=f"{CONSUMPTION_TITLE}（{place}，{when}）",
        sheet=CONSUMPTION_TITLE,
        headers=CONSUMPTION_HEADERS,
        widths=CONSUMPTION_WIDTHS,
        rows=rows,
        money_columns={8},
        number_columns={0, 6},
    )
    audit.record(
        actor,
        "consumption.ledger_exported",
        object_type="assistance.sale",
        region_code=region or None,
        after={"rows": count, "region": region, "month": f"{span[0]:%Y-%m}" if span else ""},
        note="导出消费帮扶台账",
    )
    return count


# --- the reports app's ledger framework and monthly report (``reports.ledgers``, ``reports.monthly``) -------------


def _funds_in(user, region_code: str | None, village: str | None):
    funds = ledger_funds(user)
    place = village or region_code
    if place:
        lo, hi = code_range(place)
        funds = funds.filter(region_id__gte=lo, region_id__lt=hi)
    return funds.order_by("region_id", "id")


def ledger_fund_rows(*, user, region_code=None, village=None, first=None, after=None):
    """资金台账 rows for ``reports.ledgers`` (after 序号): the entries of the funds of the place in the period, fund by
    fund, each entry's 摘要 naming its fund when there are several."""
    date_to = after - timedelta(days=1) if after else None
    funds = list(_funds_in(user, region_code, village))
    for fund in funds:
        for row in fund_ledger_rows(user, fund, first, date_to):
            if len(funds) > 1:
                row[3] = f"【{fund.name}】{row[3]}"
            yield row[1:]


def ledger_consumption_rows(*, user, region_code=None, village=None, first=None, after=None):
    """消费帮扶台账 rows for ``reports.ledgers`` (after 序号): the sales of the place in the month."""
    for row in consumption_ledger_rows(user, village or region_code or "", first):
        yield row[1:]


def fund_month_totals(*, user, region_code=None, first: date, after: date) -> dict:
    """The monthly report's 帮扶资金收支: receipts and payments (reversals counted as they were written) of the funds
    of the place in ``[first, after)``, and their balance at the end of it (each fund's balance after its last entry
    before ``after``)."""
    funds = _funds_in(user, region_code, None)
    entries = FundEntry.objects.unscoped().filter(fund__in=funds)  # the entries of funds read in scope
    month = entries.filter(day__gte=first, day__lt=after).aggregate(
        income=Sum("income"), expense=Sum("expense")
    )
    balance = Decimal(0)
    for fund_id in funds.values_list("pk", flat=True):
        last = (
            entries.filter(fund_id=fund_id, day__lt=after)
            .order_by("-day", "-id")
            .values_list("balance_after", flat=True)
        ).first()
        balance += last or 0
    return {
        "income": month["income"] or Decimal(0),
        "expense": month["expense"] or Decimal(0),
        "balance": balance,
    }
